"""The generic cell test: every cell of every registered scenario is one test id.

A test module opts in with a test that takes ``scenario_cell`` and hands it to :func:`run_and_gate`
(``tests/scenarios/test_cells.py`` does; a member company's own test tree writes the same two lines and runs
the cells of the scenarios its wheel registers). The plugin parametrizes ``scenario_cell`` with the cells of
every scenario in :data:`harness.scenarios.SCENARIOS`, each carrying the scenario's marker (so ``pytest -m ssd``
selects the ssd cells) and, for device ``cuda``, the ``cuda`` marker. The test function itself lives in the
test tree, not in the library, so that the library ships no test and pytest collects it where a test belongs.

For each cell: skip with the scenario's reason when an asset is missing; run it through the run's executor;
the scenario's own checks; the gating metrics against ``references/expected_metrics.json`` (one verdict line
per metric in the report section "tolerance verdicts"); one results row = the cell's identity columns plus
the outcome's columns, ``cell_id``, ``platform``, ``reference_platform`` and ``status`` (``pass``, ``fail``:
a check or a tolerance failed, ``no_reference``: nothing to gate against).

Which reference gates a cell (:func:`reference_for`): on the reference platform (``--reference-device``,
default ``cpu``, without execution overrides) its own, within the same-platform tolerances. A cell of another
platform (a CUDA cell; a CPU run with ``--ort-threads``/``--ort-optimization``) is gated against the
reference platform's reference of the same cell under the cross-platform bands of tolerances.yaml, unless
its own platform has references of its own and ``--reference-device`` does not ask for another.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

import pytest

from harness.matrix import scenario_matrix
from harness.pytest_plugin.execution import cell_outcome
from harness.pytest_plugin.state import add_row, devices_for, references_path
from harness.references import Gate, NoReference, get_reference
from harness.runtime import platform_label
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, RunContext, Scenario

SCENARIOS_KEY = pytest.StashKey[dict]()


def run_context(config: pytest.Config) -> RunContext:
    data_dir = config.getoption("--data-dir")
    return RunContext(data_dir=data_dir.resolve() if data_dir else None, devices=tuple(devices_for(config)),
                      results_dir=config.getoption("--results-dir"), frames=config.getoption("--frames"),
                      frame_stride=config.getoption("--frame-stride"))


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


def reference_for(scenario: Scenario, cell: Cell, reference_device: str | None,
                  references: Path, update: bool = False) -> tuple[list[str], Gate, str]:
    """(reference key, gate, the platform whose reference it is) of a cell: see the module docstring. Recording
    (``update``) always writes the cell's own key: a CUDA run never overwrites the CPU references."""
    device = cell.get("device")
    if device is None:  # a cell measured on no device (coded models, seeded tensors) has one platform
        return cell.reference_key, Gate(), "any"
    if update:
        return cell.reference_key, Gate(), device
    own_platform = platform_label(device) == device  # no execution override: a platform that records references
    if reference_device is None:
        if own_platform and (device == "cpu" or get_reference(cell.reference_key, references) is not None):
            return cell.reference_key, Gate(), device
        reference_device = "cpu"
    if own_platform and reference_device == device:
        return cell.reference_key, Gate(), device
    gate = Gate(cross_platform=True, sizes_follow_inference=scenario.sizes_follow_inference(cell))
    return cell.reference_key_on(reference_device), gate, reference_device


def perf_fraction_column(scenario: Scenario, columns: dict[str, Any]) -> dict[str, float]:
    """``perf_fraction_of_anchor`` of a row that has ``rec_perf``, ``anc_perf`` and a declared ``metric_name``:
    the one place the column is computed, from the metric's declared direction and unit."""
    rec, anc, name = columns.get("rec_perf"), columns.get("anc_perf"), columns.get("metric_name")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (rec, anc)) or not name:
        return {}
    try:
        fraction = scenario.metric(str(name)).fraction_of_anchor(float(rec), float(anc))
    except KeyError:
        return {}
    return {} if fraction is None else {"perf_fraction_of_anchor": fraction}


def identity_columns(cell: Cell, columns: Mapping[str, Any]) -> dict[str, Any]:
    """The cell's identity columns of its results row; ValueError when an outcome column of the same name holds
    another value (it would overwrite the identity that comparisons and reports match cells by)."""
    identity = cell.identity_row()
    clashes = sorted(k for k, v in columns.items() if k in identity and v != identity[k])
    if clashes:
        raise ValueError(f"scenario {cell.scenario!r}: cell {cell.id}: outcome columns {clashes} would overwrite "
                         "the cell's axes of that name; give the columns other names")
    return identity


def run_and_gate(request: pytest.FixtureRequest, cell: Cell,
                 check_reference: Callable[..., None]) -> None:
    """Run one cell of a scenario's matrix, check it and gate it against its reference; write its row."""
    scenario = scenario_instance(request.config, cell.scenario)
    reason = scenario.missing_reason(cell)
    if reason:
        pytest.skip(reason)
    outcome = cell_outcome(request, scenario, cell)  # local: scenario.run_cell; ray: sharded over the cluster
    keys, gate, reference_platform = reference_for(scenario, cell, request.config.getoption("--reference-device"),
                                                   references_path(request.config),
                                                   update=request.config.getoption("--update-references"))
    identity = identity_columns(cell, outcome.columns)
    row = {"test_id": request.node.nodeid, **identity, "cell_id": cell.id, **outcome.columns,
           "platform": platform_label(cell["device"]) if cell.get("device") else "any",
           "reference_platform": reference_platform, "gate": gate.describe(),
           "sizes_follow_inference": scenario.sizes_follow_inference(cell),
           **perf_fraction_column(scenario, outcome.columns), "status": "fail"}
    try:
        scenario.check_cell(cell, outcome)
        measured = scenario.gated(outcome)
        if measured:  # a cell with nothing to gate (a user's export of a structure cell) is checked only
            if gate.cross_platform:
                check_reference(keys, measured, gate=gate)
            else:  # the two-argument form a member's own check_reference fixture may have
                check_reference(keys, measured)
        row["status"] = "pass"
    except NoReference:
        row["status"] = "no_reference"
        raise
    finally:
        add_row(request.config, request.node.nodeid, row)
