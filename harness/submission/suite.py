"""What the checking suite itself knows: its scenarios, their matrix files and the cells they define.

A submission is judged against the suite that checks it, not against what it says about itself: the
expected cells come from ``SCENARIOS`` + ``harness.matrix.scenario_matrix`` + ``Scenario.cells()``. Tests
hand in their own registry (a tiny scenario) instead of the real one.

Completeness rule: a cell is expected when the submission ran any cell of the same scenario with the same
model, data set and device (the axes of those names the cell has). A run without ``--data-dir`` cannot run
the ssd_resnet/COCO cells and is not refused for leaving that whole group out; it is refused when any cell of
a group it did run is missing (a crashed worker, a ``-k`` selection, a dropped row). Groups not run are
listed as notes.

The scenario registry (and with it every scenario, model and torch) is imported only when cells are asked
for, so that reading or packing a submission does not load them.
"""
from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.scenarios.base import Cell

GROUP_AXES = ("model_name", "data_set_name", "device")
CELL_TEST = re.compile(r"::test_cell\[(?P<id>.*)\]$")


def cell_id_of(test_id: str) -> str | None:
    """The cell id in a generic cell test id ``.../test_cells.py::test_cell[<cell.id>]``, else None: how rows
    written before the ``cell_id`` column name their cell."""
    match = CELL_TEST.search(test_id or "")
    return match.group("id") if match else None


def group_of(cell: Cell) -> tuple[Any, ...]:
    return tuple((axis, cell.get(axis)) for axis in GROUP_AXES if cell.get(axis) is not None)


class Suite:
    def __init__(self, scenarios: Any = None) -> None:
        if scenarios is None:
            from harness.scenarios import SCENARIOS

            scenarios = SCENARIOS
        self.scenarios = scenarios

    def knows(self, name: str) -> bool:
        return name in self.scenarios

    def matrix_path(self, name: str) -> Path | None:
        from harness.matrix import matrix_file

        if not self.knows(name):
            return None
        cls = self.scenarios.get(name)
        return cls.matrix_path or matrix_file(name)

    def matrix(self, name: str) -> dict[str, Any]:
        from harness.matrix import scenario_matrix

        return scenario_matrix(self.scenarios.get(name))

    def cells(self, name: str, devices: tuple[str, ...]) -> list[Cell]:
        from harness.scenarios.base import RunContext

        cls = self.scenarios.get(name)
        return cls(self.matrix(name), RunContext(devices=devices)).cells()

    def missing_cells(self, name: str, run_ids: set[str], devices: tuple[str, ...]
                      ) -> tuple[dict[tuple, list[str]], list[str], dict[tuple, int]]:
        """(missing cell ids by group of run groups, run ids the matrix does not define, groups not run)."""
        cells = self.cells(name, devices)
        by_id = {cell.id: cell for cell in cells}
        run_groups = {group_of(by_id[i]) for i in run_ids if i in by_id}
        missing: dict[tuple, list[str]] = defaultdict(list)
        not_run: dict[tuple, int] = defaultdict(int)
        for cell in cells:
            group = group_of(cell)
            if group not in run_groups:
                not_run[group] += 1
            elif cell.id not in run_ids:
                missing[group].append(cell.id)
        unknown = sorted(i for i in run_ids if i not in by_id)
        return dict(missing), unknown, dict(not_run)
