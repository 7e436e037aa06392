"""The structure family: the split points of a detector graph as cells (scenarios ``ssd_resnet``, ``retinanet``).

Each cell is one check of one model: ``model`` (node, parameter and initializer counts), ``split<N>`` (the node a
seed 000 split index cuts before, its operator, the tensors that cross and their bytes) and any the scenario
adds (RetinaNet's ``fpn`` cut). The built architecture (seeded weights) is gated against its record in
references/expected_metrics.json; the user's own export under --data-dir runs the same cells with the
scenario's independent checks only (the seed's tables and the architecture arithmetic in ``check_cell``),
since a trained export need not have the seeded build's node names. The planner and the one-pass features of
a model are computed once per scenario instance and shared by its cells.
"""
from __future__ import annotations

from typing import Any, ClassVar, Mapping

import numpy as np

from harness.models import model_file, model_name
from harness.scenarios.base import Cell, CellOutcome, Metric, RunContext, Scenario

BUILT = "built"


class GraphStructureScenario(Scenario):
    """Cells: every model entry x (the scenario's checks, then one per split index)."""

    metrics = (
        Metric("nodes", "count"), Metric("parameters", "count"), Metric("initializers", "count"),
        Metric("node", "name"), Metric("op_type", "name"), Metric("cut_tensors", "count"),
        Metric("cut_shapes", "shapes"), Metric("side_inputs", "count"), Metric("total_bytes", "bytes"),
    )
    matrix_keys = {"architecture": "catalogue architecture (harness.models)",
                   "models": "list of {source: built|user}: the seeded build, the user's export under --data-dir",
                   "splits": "seed 000 split indices (cut before graph.node[index])"}
    required_matrix_keys = ("architecture", "models", "splits")
    checks: ClassVar[tuple[str, ...]] = ("model",)
    cell_marks: ClassVar[tuple[str, ...]] = ()  # markers every cell carries beside the scenario's own

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(matrix, context)
        self.sources = {model_name(matrix["architecture"], entry["source"]): entry["source"]
                        for entry in matrix["models"]}
        self._planners: dict[str, Any] = {}

    def cells(self) -> list[Cell]:
        cells = []
        for name in self.sources:
            cells += [Cell(self.name, (("model_name", name), ("check", check)), self.cell_marks)
                      for check in self.checks]
            cells += [Cell(self.name, (("model_name", name), ("split", int(index))), self.cell_marks)
                      for index in self.matrix["splits"]]
        return cells

    def missing_reason(self, cell: Cell) -> str | None:
        try:
            model_file(self.matrix["architecture"], self.sources[cell["model_name"]], self.context.data_dir)
        except FileNotFoundError as exc:
            return str(exc)
        return None

    def planner(self, name: str) -> Any:
        from harness.split import SplitPlanner

        if name not in self._planners:
            path = model_file(self.matrix["architecture"], self.sources[name], self.context.data_dir)
            self._planners[name] = SplitPlanner(path)
        return self._planners[name]

    def is_built(self, cell: Cell) -> bool:
        return self.sources[cell["model_name"]] == BUILT

    # --- measurements ----------------------------------------------------------------------------------
    def run_cell(self, cell: Cell) -> CellOutcome:
        planner = self.planner(cell["model_name"])
        if cell.get("split") is not None:
            figures = self.split_figures(planner, int(cell["split"]))
        else:
            figures = self.check_figures(planner, cell["check"])
        return self.outcome(cell, figures)

    def outcome(self, cell: Cell, figures: dict[str, Any]) -> CellOutcome:
        """The seeded build is gated against its record; a user's export is checked, not gated. The check names
        the row's metric, so that the rows of one model stay distinct cells for the report and compare."""
        metric_name = cell.get("check") or "cut"
        return CellOutcome(dict(figures) if self.is_built(cell) else {}, {"metric_name": metric_name, **figures})

    def check_figures(self, planner: Any, check: str) -> dict[str, Any]:
        if check != "model":
            raise ValueError(f"scenario {self.name}: unknown check {check!r}")
        return {"nodes": len(planner.nodes), "parameters": parameter_count(planner.model),
                "initializers": len(planner.model.graph.initializer)}

    def split_figures(self, planner: Any, index: int) -> dict[str, Any]:
        plan = planner.plan(index=index)
        return {"node": plan.node_name, "op_type": plan.op_type, "cut_tensors": len(plan.cut),
                "cut_shapes": ";".join("x".join(map(str, t.shape)) for t in plan.cut), "total_bytes": plan.total_bytes}


def parameter_count(model: Any) -> int:
    """Values held by the graph's initializers (folded batch norm included)."""
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer)
