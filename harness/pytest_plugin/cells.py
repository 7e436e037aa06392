"""The generic cell test: every cell of every registered scenario is one test id.

A test module opts in with a test that takes ``scenario_cell`` and hands it to :func:`run_and_gate`
(``tests/scenarios/test_cells.py`` does; a member company's own test tree writes the same two lines and runs
the cells of the scenarios its wheel registers). The plugin parametrizes ``scenario_cell`` with the cells of
every scenario in :data:`harness.scenarios.SCENARIOS`, each carrying the scenario's marker (so ``pytest -m ssd``
selects the ssd cells) and, for device ``cuda``, the ``cuda`` marker. The test function itself lives in the
test tree, not in the library, so that the library ships no test and pytest collects it where a test belongs.

For each cell: skip with the scenario's reason when an asset is missing; run it through the run's executor;
the scenario's own checks; the gating metrics against ``references/expected_metrics.json`` at
``cell.reference_key`` (one verdict line per metric in the report section "tolerance verdicts"); one results
row = the cell's identity columns plus the outcome's columns and ``status``.
"""
from __future__ import annotations

from typing import Any, Callable

import pytest

from harness.matrix import scenario_matrix
from harness.pytest_plugin.execution import cell_outcome
from harness.pytest_plugin.state import add_row, devices_for
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, RunContext, Scenario

SCENARIOS_KEY = pytest.StashKey[dict]()


def run_context(config: pytest.Config) -> RunContext:
    data_dir = config.getoption("--data-dir")
    return RunContext(data_dir=data_dir.resolve() if data_dir else None, devices=tuple(devices_for(config)),
                      results_dir=config.getoption("--results-dir"))


def scenario_instance(config: pytest.Config, name: str) -> Scenario:
    """One instance per scenario and process (it caches models, pipelines and anchors across its cells)."""
    instances = config.stash.setdefault(SCENARIOS_KEY, {})
    if name not in instances:
        cls = SCENARIOS.get(name)
        instances[name] = cls(scenario_matrix(cls), run_context(config))
    return instances[name]


def parametrize_cells(metafunc: pytest.Metafunc) -> None:
    params = []
    for name in SCENARIOS.names():
        metafunc.config.addinivalue_line("markers", f"{name}: scenario {name}")
        for cell in scenario_instance(metafunc.config, name).cells():
            marks = [getattr(pytest.mark, name), *(getattr(pytest.mark, m) for m in cell.marks)]
            if cell.get("device") == "cuda":
                marks.append(pytest.mark.cuda)
            params.append(pytest.param(cell, id=cell.id, marks=marks))
    metafunc.parametrize("scenario_cell", params)


def run_and_gate(request: pytest.FixtureRequest, cell: Cell,
                 check_reference: Callable[[list[str], dict[str, Any]], None]) -> None:
    """Run one cell of a scenario's matrix, check it and gate it against its reference; write its row."""
    scenario = scenario_instance(request.config, cell.scenario)
    reason = scenario.missing_reason(cell)
    if reason:
        pytest.skip(reason)
    outcome = cell_outcome(request, scenario, cell)  # local: scenario.run_cell; ray: sharded over the cluster
    row = {"test_id": request.node.nodeid, **cell.identity_row(), **outcome.columns, "status": "fail"}
    try:
        scenario.check_cell(cell, outcome)
        check_reference(cell.reference_key, scenario.gated(outcome))
        row["status"] = "pass"
    finally:
        add_row(request.config, request.node.nodeid, row)
