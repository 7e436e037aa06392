"""Scenario ``retinanet`` (marker ``retinanet``): RetinaNet at seed 000's split points and at the 5G-MAG scripts'
FPN cut (seed 000; seed 001 §10.3.8.1, §10.3.9.1, table 10.3.3-1), in two families of cells.

**Accuracy** (:class:`RetinaNetScenario`, the detection matrix of harness.scenarios.ssd): detector x data set x
(the unsplit anchor, then split x coder), gated on calc_map, VOC, COCO and the coded sizes. The ``split`` axis
holds seed 000's split indices of the 2248-node ResNet-50 graph, placed on another graph at the same relative
position (``round(index * nodes / 2248)``: the exact index on the user's retinanet.onnx, node 78 of 1751 for
the embedded retinanet_small), and ``fpn``, the cut after p6; the node each cell cut before is in the
``split_node_index`` and ``split_node`` columns (every detection cell has the graph's ``graph_nodes``). Both detectors keep their post-processing inside the graph
(harness.detection.detectors.InGraphHead), so cuts in the transform carry the normalised image and
int64 size scalars, cuts in the heads carry per-level maps, and cuts after the top-k and NMS carry
data-dependent shapes; every coder codes the floating tensors and carries the integer ones exactly.

**Structure** (:class:`RetinaNetStructure`), cells of the structure family (harness.scenarios.graph_structure) plus ``fpn``: the cut right after the p6
convolution (seed Figure 10.3.8.1-2; p7 is computed from p6 in part 2), measured on one SFU-HW-Objects class A
frame (2560x1600) in one pass of the full model. Independent checks: the four FPN maps of seed table 10.3.3-1
(256x100x160, 256x50x80, 256x25x40, 256x13x20), "about 22MB" per image, side inputs that carry image sizes
only (int64 vectors), 53 + 8 + 50 convolutions and torchvision's own parameter count. The built model is gated
against references/expected_metrics.json (key ``retinanet``).
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, RunContext
from harness.scenarios.graph_structure import GraphStructureScenario
from harness.scenarios.ssd import SsdScenario

FRAME_HW = (1600, 2560)  # SFU-HW-Objects class A
SEED_FPN = {"0": (256, 100, 160), "1": (256, 50, 80), "2": (256, 25, 40), "p6": (256, 13, 20)}
FPN_PRODUCER = {  # torchvision FPN output level -> the node that produces it
    "0": r"/backbone/fpn/layer_blocks\.0/.*Conv$", "1": r"/backbone/fpn/layer_blocks\.1/.*Conv$",
    "2": r"/backbone/fpn/layer_blocks\.2/.*Conv$", "p6": r"/backbone/fpn/extra_blocks/p6/Conv$",
    "p7": r"/backbone/fpn/extra_blocks/p7/Conv$",
}
EXPECTED_CONVS = 53 + 8 + 2 * 5 * 5  # ResNet-50, FPN 3 inner + 3 layer + p6 + p7, heads 2 x (4 + 1) x 5 levels
SEED_FPN_MB = 22  # seed: "the intermediate data is about 22MB of size per image"
SEED_NODES = 2248  # seed 000: RetinaNet-ResNet50-FPN's node count, the scale of its split indices
FPN_CUT = "fpn"


def fpn_nodes(planner: Any) -> dict[str, int]:
    """FPN level -> index of the node producing it (exactly one match each)."""
    found = {}
    for level, pattern in FPN_PRODUCER.items():
        matches = [i for i, n in enumerate(planner.nodes) if re.search(pattern, n.name)]
        if len(matches) != 1:
            raise ValueError(f"FPN level {level}: nodes {matches} match {pattern}; not a torchvision RetinaNet FPN")
        found[level] = matches[0]
    return found


def seed_position_index(seed_index: int, nodes: int) -> int:
    """The node index of ``nodes`` at the relative position of seed 000's index on its 2248-node graph."""
    return min(nodes - 1, max(1, round(seed_index * nodes / SEED_NODES)))


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


class SeedSplits:
    """Split labels of a RetinaNet detection matrix (mixed into :class:`SsdScenario`): seed 000's indices of the
    2248-node graph, placed at the same relative position of the detector's graph, and ``fpn``, the cut after
    p6; the node each cell cut before goes to the ``split_node_index`` and ``split_node`` columns."""

    def split_label(self, value: Any) -> Any:
        if value == FPN_CUT:
            return FPN_CUT
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < SEED_NODES:
            raise ValueError(f"matrix/{self.name}.yaml: split {value!r} must be a seed 000 index in 1..{SEED_NODES - 1} "
                             f"or {FPN_CUT!r}")
        return value

    def split_indices(self, detector: Any, labels: Any) -> dict[Any, int]:
        from harness.split import SplitPlanner

        planner = SplitPlanner(str(detector.onnx_path))
        nodes = len(planner.nodes)
        return {label: fpn_nodes(planner)["p6"] + 1 if label == FPN_CUT else seed_position_index(label, nodes)
                for label in labels}

    def outcome(self, cell: Cell, result: Any, anchor: dict[str, Any]) -> CellOutcome:
        outcome = super().outcome(cell, result, anchor)
        index = self.split_index(cell)
        pipeline = self.pipeline(cell["model_name"], cell["data_set_name"], cell["device"])
        node = pipeline.planner.nodes[index]
        outcome.columns.update(split_node_index=index, split_node=node.name or node.op_type)
        return outcome


@SCENARIOS.register("retinanet")
class RetinaNetScenario(SeedSplits, SsdScenario):
    """The accuracy matrix (the detection matrix of ``ssd``, seed positions as split labels) plus the structure
    cells of :class:`RetinaNetStructure`, one scenario with one marker."""

    description = "RetinaNet split inference at seed 000's split points and the FPN cut: accuracy and graph structure"
    metrics = (*SsdScenario.metrics, *RetinaNetStructure.metrics)
    matrix_keys = {
        **RetinaNetStructure.matrix_keys, **SsdScenario.matrix_keys,
        "splits": "seed 000 split indices of the 2248-node RetinaNet: the structure cells cut the built model at "
                  "them; an accuracy entry's splits (these and 'fpn') are placed at the same relative position",
    }
    required_matrix_keys = (*RetinaNetStructure.required_matrix_keys, *SsdScenario.required_matrix_keys)

    def __init__(self, matrix: Any, context: RunContext) -> None:
        super().__init__(matrix, context)
        self.structure = RetinaNetStructure(matrix, context)
        self.structure.name = self.name

    @staticmethod
    def is_accuracy(cell: Cell) -> bool:
        return cell.get("coder_name") is not None

    def cells(self) -> list[Cell]:
        return [*self.structure.cells(), *super().cells()]

    def is_sharded(self, cell: Cell) -> bool:
        return self.is_accuracy(cell)

    def missing_reason(self, cell: Cell) -> str | None:
        return super().missing_reason(cell) if self.is_accuracy(cell) else self.structure.missing_reason(cell)

    def run_cell(self, cell: Cell) -> CellOutcome:
        return super().run_cell(cell) if self.is_accuracy(cell) else self.structure.run_cell(cell)

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        if self.is_accuracy(cell):
            super().check_cell(cell, outcome)
        else:
            self.structure.check_cell(cell, outcome)

    def sizes_follow_inference(self, cell: Cell) -> bool:
        return self.is_accuracy(cell) and super().sizes_follow_inference(cell)
