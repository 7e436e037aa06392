"""Scenario ``ssd_resnet`` (markers ``ssd_resnet`` and ``ssd``): the structure of NVIDIA's SSD300 ResNet-50 graph
at seed 000's split points (seed 000; seed 001 §10.3.8.2, §10.3.9.2).

Cells of the structure family (harness.scenarios.graph_structure); the built architecture is gated against
references/expected_metrics.json (key ``ssd_resnet``), and every model, the user's ``ssd_resnet.onnx`` included,
is checked against the architecture arithmetic: 155 nodes (seed 000's "154 nodes" is the last index), 53 + 10 +
12 convolutions with batch norm folded, no Identity, 23 million parameters (seed 001 table 10.3.4-1), 8732
default boxes of 81 classes, and every seed 000 cut computable (static shapes, no raw input crossing).
"""
from __future__ import annotations

from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome
from harness.scenarios.graph_structure import GraphStructureScenario

# stem conv+relu+maxpool 3; bottleneck 7 nodes (+1 with downsample): layer1 3 blocks 22, layer2 4 blocks 29,
# layer3 6 blocks 43; 5 additional blocks x 4 = 20; 6 levels x (loc, conf) x (Conv, Constant, Reshape) = 36;
# 2 Concat
EXPECTED_NODES = 3 + 22 + 29 + 43 + 20 + 36 + 2
EXPECTED_CONVS = 1 + (3 * 3 + 1) + (4 * 3 + 1) + (6 * 3 + 1) + 10 + 12
SEED_PARAMETERS_MILLIONS = 23  # seed 001 table 10.3.4-1
OUTPUT_SHAPES = [(1, 4, 8732), (1, 81, 8732)]  # 8732 default boxes, 81 classes


@SCENARIOS.register("ssd_resnet")
class SsdResnetStructure(GraphStructureScenario):
    description = "SSD300 ResNet-50 graph structure at seed 000's split points (seed 001 §10.3.9.2)"
    cell_marks = ("ssd",)

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        planner = self.planner(cell["model_name"])
        columns = outcome.columns
        if cell.get("check") == "model":
            ops = [node.op_type for node in planner.nodes]
            assert columns["nodes"] == EXPECTED_NODES, f"{columns['nodes']} nodes, architecture: {EXPECTED_NODES}"
            assert ops.count("Conv") == EXPECTED_CONVS and "BatchNormalization" not in ops and "Identity" not in ops
            assert round(columns["parameters"] / 1e6) == SEED_PARAMETERS_MILLIONS, columns["parameters"]
            assert sorted(planner.types[o].static_shape for o in planner.outputs) == OUTPUT_SHAPES
            return
        plan = planner.plan(index=int(cell["split"]))
        assert plan.raw_inputs == () and all(t.shape is not None for t in plan.cut), plan.describe()
        assert columns["total_bytes"] is not None and columns["total_bytes"] > 0, plan.describe()
