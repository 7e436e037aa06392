"""Scenario ``retinanet`` (marker ``retinanet``): torchvision's RetinaNet ResNet-50 FPN graph at seed 000's split
points and at the 5G-MAG scripts' FPN cut (seed 000; seed 001 §10.3.8.1, §10.3.9.1, table 10.3.3-1).

Cells of the structure family (harness.scenarios.graph_structure) plus ``fpn``: the cut right after the p6
convolution (seed Figure 10.3.8.1-2; p7 is computed from p6 in part 2), measured on one SFU-HW-Objects class A
frame (2560x1600) in one pass of the full model. Independent checks: the four FPN maps of seed table 10.3.3-1
(256x100x160, 256x50x80, 256x25x40, 256x13x20), "about 22MB" per image, side inputs that carry image sizes
only (int64 vectors), 53 + 8 + 50 convolutions and torchvision's own parameter count. The built model is gated
against references/expected_metrics.json (key ``retinanet``). The scenario is where RetinaNet's accuracy cells
will land.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome
from harness.scenarios.graph_structure import GraphStructureScenario

FRAME_HW = (1600, 2560)  # SFU-HW-Objects class A
SEED_FPN = {"0": (256, 100, 160), "1": (256, 50, 80), "2": (256, 25, 40), "p6": (256, 13, 20)}
FPN_PRODUCER = {  # torchvision FPN output level -> the node that produces it
    "0": r"/backbone/fpn/layer_blocks\.0/.*Conv$", "1": r"/backbone/fpn/layer_blocks\.1/.*Conv$",
    "2": r"/backbone/fpn/layer_blocks\.2/.*Conv$", "p6": r"/backbone/fpn/extra_blocks/p6/Conv$",
    "p7": r"/backbone/fpn/extra_blocks/p7/Conv$",
}
EXPECTED_CONVS = 53 + 8 + 2 * 5 * 5  # ResNet-50, FPN 3 inner + 3 layer + p6 + p7, heads 2 x (4 + 1) x 5 levels
SEED_FPN_MB = 22  # seed: "the intermediate data is about 22MB of size per image"


def fpn_nodes(planner: Any) -> dict[str, int]:
    """FPN level -> index of the node producing it (exactly one match each)."""
    found = {}
    for level, pattern in FPN_PRODUCER.items():
        matches = [i for i, n in enumerate(planner.nodes) if re.search(pattern, n.name)]
        if len(matches) != 1:
            raise ValueError(f"FPN level {level}: nodes {matches} match {pattern}; not a torchvision RetinaNet FPN")
        found[level] = matches[0]
    return found


@SCENARIOS.register("retinanet")
class RetinaNetStructure(GraphStructureScenario):
    description = "RetinaNet ResNet-50 FPN graph structure at seed 000's split points and the FPN cut (seed 001 §10.3.8.1)"
    checks = ("model", "fpn")

    def __init__(self, matrix: Any, context: Any) -> None:
        super().__init__(matrix, context)
        self._one_pass: dict[str, tuple[Any, dict[int, Any], dict[int, dict[str, np.ndarray]]]] = {}

    def one_pass(self, name: str) -> tuple[Any, dict[int, Any], dict[int, dict[str, np.ndarray]]]:
        """(FPN plan, plans and cut tensors by node index) of every split point and the FPN cut, from ONE run of
        the full model on a class A frame, once per model (the graph's input sizes are symbolic: sizes are
        measured, not read from the graph)."""
        from harness.split import FeatureExtractor

        if name not in self._one_pass:
            planner = self.planner(name)
            fpn_plan = planner.plan(index=fpn_nodes(planner)["p6"], where="after")
            (input_name,) = planner.model_inputs
            frame = np.random.default_rng(7).random((3, *FRAME_HW), dtype=np.float32)
            extractor = FeatureExtractor(planner.model, [int(i) for i in self.matrix["splits"]] + [fpn_plan])
            features = extractor.run({input_name: frame})
            self._one_pass[name] = fpn_plan, extractor.plans, features
        return self._one_pass[name]

    def run_cell(self, cell: Cell) -> CellOutcome:
        if cell.get("check") == "model":
            return super().run_cell(cell)
        fpn_plan, plans, features = self.one_pass(cell["model_name"])
        if cell.get("check") == "fpn":
            cut = features[fpn_plan.node_index]
            maps = [n for n, a in cut.items() if a.dtype == np.float32 and a.ndim == 4]
            figures = {"node": fpn_plan.node_name, "cut_tensors": len(cut), "side_inputs": len(cut) - len(maps),
                       "total_bytes": int(sum(a.nbytes for a in cut.values()))}
        else:
            index = int(cell["split"])
            plan, cut = plans[index], features[index]
            figures = {"node": plan.node_name, "op_type": plan.op_type, "cut_tensors": len(cut),
                       "cut_shapes": ";".join("x".join(map(str, a.shape)) or "scalar" for a in cut.values()),
                       "total_bytes": int(sum(a.nbytes for a in cut.values()))}
        return self.outcome(cell, figures)

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        planner = self.planner(cell["model_name"])
        if cell.get("check") == "model":
            import torchvision

            ops = [node.op_type for node in planner.nodes]
            assert ops.count("Conv") == EXPECTED_CONVS, f"{ops.count('Conv')} convolutions, expected {EXPECTED_CONVS}"
            reference = torchvision.models.detection.retinanet_resnet50_fpn(weights=None, weights_backbone=None)
            floats = sum(int(np.prod(t.dims)) for t in planner.model.graph.initializer if t.data_type == 1)
            # folded (Frozen)BatchNorm keeps 2 numbers per channel, as BatchNorm2d's weight and bias
            assert floats == sum(p.numel() for p in reference.parameters()), floats
            if self.is_built(cell):
                assert "Identity" not in ops
        elif cell.get("check") == "fpn":
            self.check_fpn(cell)
        else:
            plan = self.one_pass(cell["model_name"])[1][int(cell["split"])]
            # shapes of the image cross as shape side inputs, never the image; every cut tensor has a rank
            assert plan.raw_inputs == () and all(t.shape is not None for t in plan.cut), plan.describe()

    def check_fpn(self, cell: Cell) -> None:
        planner = self.planner(cell["model_name"])
        plan, _, features = self.one_pass(cell["model_name"])
        cut = features[plan.node_index]
        levels = fpn_nodes(planner)
        shapes = {}
        for level, position in levels.items():
            (name,) = list(planner.nodes[position].output)
            if level == "p7":
                assert name not in cut, "p7 is computed in part 2 from p6"
                continue
            assert name in cut and cut[name].shape[0] == 1, f"FPN level {level} ({name}) does not cross the cut"
            shapes[level] = tuple(cut[name].shape[1:])
        assert shapes == SEED_FPN, shapes
        fpn_bytes = sum(cut[planner.nodes[levels[k]].output[0]].nbytes for k in SEED_FPN)
        assert round(fpn_bytes / 1e6) == SEED_FPN_MB, fpn_bytes
        side = [n for n, a in cut.items() if not (a.dtype == np.float32 and a.ndim == 4)]
        assert len(cut) - len(side) == 4 and plan.raw_inputs == ()
        assert all(cut[n].dtype == np.int64 and cut[n].size <= 4 for n in side), {n: cut[n].shape for n in side}
