"""The generic cell test: every cell of every registered scenario is one test id.

A test module opts in with one line, ``from harness.pytest_plugin.cells import test_cell  # noqa: F401``
(``tests/scenarios/test_cells.py`` does); the plugin parametrizes its ``scenario_cell`` argument with the
cells of every scenario in :data:`harness.scenarios.SCENARIOS`, each carrying the scenario's marker (so
``pytest -m ssd`` selects the ssd cells) and, for device ``cuda``, the ``cuda`` marker.

For each cell: skip with the scenario's reason when an asset is missing; run it; the scenario's own checks;
the gating metrics against ``references/expected_metrics.json`` at ``cell.reference_key`` (one verdict line
per metric in the report section "tolerance verdicts"); one results row = the cell's identity columns plus
the outcome's columns and ``status``.
"""
from __future__ import annotations

from typing import Any

import pytest

from harness.matrix import scenario_matrix
from harness.scenarios.base import Cell, RunContext, Scenario

SCENARIOS_KEY = pytest.StashKey[dict]()


def run_context(config: pytest.Config) -> RunContext:
    from harness.pytest_plugin import devices_for

    data_dir = config.getoption("--data-dir")
    options = {name: config.getoption(name, default=None) for name in ("--executor", "--ray-address", "--rerun")}
    return RunContext(data_dir=data_dir.resolve() if data_dir else None, devices=tuple(devices_for(config)),
                      results_dir=config.getoption("--results-dir"),
                      options={k.lstrip("-").replace("-", "_"): v for k, v in options.items() if v is not None})


def scenario_instance(config: pytest.Config, name: str) -> Scenario:
    """One instance per scenario and process (it caches models, pipelines and anchors across its cells)."""
    from harness.scenarios import SCENARIOS

    instances = config.stash.setdefault(SCENARIOS_KEY, {})
    if name not in instances:
        cls = SCENARIOS.get(name)
        instances[name] = cls(scenario_matrix(cls), run_context(config))
    return instances[name]


def parametrize_cells(metafunc: pytest.Metafunc) -> None:
    from harness.scenarios import SCENARIOS

    params = []
    for name in SCENARIOS.names():
        metafunc.config.addinivalue_line("markers", f"{name}: scenario {name}")
        for cell in scenario_instance(metafunc.config, name).cells():
            marks = [getattr(pytest.mark, name), *(getattr(pytest.mark, m) for m in cell.marks)]
            if cell.get("device") == "cuda":
                marks.append(pytest.mark.cuda)
            params.append(pytest.param(cell, id=cell.id, marks=marks))
    metafunc.parametrize("scenario_cell", params)


def _row(nodeid: str, cell: Cell, scenario: Scenario, columns: dict[str, Any]) -> dict[str, Any]:
    return {"test_id": nodeid, **cell.identity_row(), **columns}


def test_cell(scenario_cell: Cell, request: pytest.FixtureRequest, check_reference: Any) -> None:
    """One cell of a scenario's matrix, gated against its reference."""
    from harness.pytest_plugin import add_row

    scenario = scenario_instance(request.config, scenario_cell.scenario)
    reason = scenario.missing_reason(scenario_cell)
    if reason:
        pytest.skip(reason)
    # --- executor call site (issue 13, harness/executors): local = scenario.run_cell, ray = sharded ---
    from harness.executors.plugin import cell_outcome

    outcome = cell_outcome(request, scenario, scenario_cell)
    # --- end executor call site ---
    row = _row(request.node.nodeid, scenario_cell, scenario, outcome.columns)
    row["status"] = "fail"
    try:
        scenario.check_cell(scenario_cell, outcome)
        check_reference(scenario_cell.reference_key, scenario.gated(outcome))
        row["status"] = "pass"
    finally:
        add_row(request.config, request.node.nodeid, row)
