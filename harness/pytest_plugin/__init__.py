"""The suite's pytest plugin, registered through the ``pytest11`` entry point of the package.

Because it is an installed plugin (not a root conftest.py), its options exist before pytest picks a rootdir,
so ``pytest -m ssd --data-dir /data/assets --results-dir /tmp/out`` parses with folders anywhere.

* options ``--data-dir``, ``--device``, ``--results-dir``, ``--update-references`` and markers (static ones
  below plus one per registered scenario);
* the cells of every registered scenario as the parameters of a test's ``scenario_cell`` argument and
  :func:`harness.pytest_plugin.cells.run_and_gate`, the body of the generic cell test
  (``tests/scenarios/test_cells.py``; a member's wheel writes the same two lines), and the fixtures
  ``record_result`` and ``check_reference`` for the scenario-specific tests;
* the executor's life in the session (:mod:`harness.pytest_plugin.execution`);
* the cell tests ordered longest first from the costs the last run recorded
  (:mod:`harness.pytest_plugin.scheduling`);
* results rows kept in ``config.stash``; under pytest-xdist each worker ships its rows to the controller
  (``workeroutput``), which alone writes ``results.csv``/``results.json``;
* reference breaches raised as :class:`harness.references.ReferenceBreach`, which the end-of-run summary
  (:mod:`harness.pytest_plugin.summary`) counts by type, not by message text.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest

from harness.pytest_plugin import cells, execution, scheduling
from harness.pytest_plugin.state import (BREACH_ATTRIBUTE, NO_REFERENCE_ATTRIBUTE, ROWS_KEY, RUN_FAILURES_KEY,
                                         STATIC_MARKERS, add_row, devices_for, is_xdist_worker, references_path,
                                         scenario_markers)
from harness.references import SAME_PLATFORM, Gate, check_against_reference, load_tolerances

def frame_range(text: str) -> tuple[int | None, int | None]:
    """``START:STOP`` (either may be empty) as slice bounds; argparse reports a ValueError as a usage error."""
    parts = text.split(":")
    if len(parts) != 2 or not all(p.strip().isdigit() or not p.strip() for p in parts):
        raise ValueError(f"--frames {text!r}: use START:STOP with non-negative integers, e.g. 0:60 or 100:")
    start, stop = (int(p) if p.strip() else None for p in parts)
    if start is not None and stop is not None and stop <= start:
        raise ValueError(f"--frames {text!r}: STOP must be greater than START")
    return start, stop


def frame_stride(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"--frame-stride {text!r}: use a positive integer")
    return int(text)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("harness", "FS_AI4Media conformance suite")
    group.addoption("--data-dir", default=os.environ.get("HARNESS_DATA_DIR"), type=Path,
                    help="directory with real assets laid out as `python -m harness assets verify` prints; "
                         "when absent the embedded defaults are used")
    group.addoption("--device", default="cpu", choices=["cpu", "cuda", "all"],
                    help="execution device(s) of the inference runs (default: cpu)")
    group.addoption("--results-dir", default=Path("results"), type=Path,
                    help="where results.csv and results.json are written (default: ./results)")
    group.addoption("--update-references", action="store_true",
                    help="write measured metrics into the references file instead of comparing")
    group.addoption("--references", default=None, type=Path,
                    help="references file to gate against (default: the suite's references/expected_metrics.json; "
                         "a member may keep and compare against its own record)")
    group.addoption("--reference-device", default=None, choices=["cpu", "cuda"],
                    help="gate every cell against the references recorded on this device, under the cross-platform "
                         "bands of tolerances.yaml where it is not the cell's (default: a cell's own references, "
                         "else cpu's)")
    group.addoption("--run-slow", action="store_true",
                    help="also run the cells and tests marked slow (kept out of the default run; the nightly job "
                         "runs them)")
    group.addoption("--frames", default=None, type=frame_range, metavar="START:STOP",
                    help="cells on video sequences (sfu, derive): run frames START..STOP-1 of each sequence (either bound may be "
                         "left out), e.g. to spread one sequence over several runs; cells carry the selection")
    group.addoption("--frame-stride", default=1, type=frame_stride, metavar="N",
                    help="cells on video sequences (sfu, derive): every Nth frame of the selection (e.g. 10 for a quick first run)")
    group.addoption("--ort-threads", default=None, type=int,
                    help="onnxruntime intra-op threads of every session (another execution configuration: gated "
                         "as another platform, against the reference platform's references)")
    group.addoption("--ort-optimization", default=None, choices=["disable", "basic", "extended", "all"],
                    help="onnxruntime graph optimisation level of every session (another execution configuration, "
                         "gated as another platform)")
    execution.add_options(group)
    scheduling.add_options(group)


def pytest_configure(config: pytest.Config) -> None:
    for name, help_text in {**STATIC_MARKERS, **scenario_markers()}.items():
        config.addinivalue_line("markers", f"{name}: {help_text}")
    config.stash[ROWS_KEY] = []
    _set_execution_overrides(config)
    data_dir = config.getoption("--data-dir")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise pytest.UsageError(f"--data-dir {data_dir} is not a directory")


def _set_execution_overrides(config: pytest.Config) -> None:
    """The execution configuration goes into the environment, where every session of every process of the run
    (xdist workers parse the same options) reads it (harness.runtime.execution_overrides)."""
    from harness.runtime import OPTIMIZATION_VARIABLE, THREADS_VARIABLE, execution_overrides

    threads, level = config.getoption("--ort-threads"), config.getoption("--ort-optimization")
    if threads is not None:
        if threads < 1:
            raise pytest.UsageError(f"--ort-threads {threads}: give a positive number of threads")
        os.environ[THREADS_VARIABLE] = str(threads)
    if level is not None:
        os.environ[OPTIMIZATION_VARIABLE] = level
    try:
        overrides = execution_overrides()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    if overrides and config.getoption("--update-references"):
        raise pytest.UsageError(f"--update-references with an execution override ({overrides}): references are "
                                "recorded on the reference platform; drop the override (or HARNESS_ORT_* variable)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Benchmarks and slow cells stay out of the default run (the laptop's main job and CI); ask for them with
    # -m benchmark (or --benchmark-only), --run-slow or an -m expression naming slow (the nightly job).
    markexpr = config.getoption("-m") or ""
    kept_out = []
    if not ("benchmark" in markexpr or config.getoption("--benchmark-only", default=False)):
        kept_out.append(("benchmark", "benchmark: run with -m benchmark"))
    if not ("slow" in markexpr or config.getoption("--run-slow")):
        kept_out.append(("slow", "slow: run with --run-slow (the nightly job, .ci/nightly)"))
    for marker, reason in kept_out:
        skip = pytest.mark.skip(reason=reason)
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "scenario_cell" in metafunc.fixturenames:
        cells.parametrize_cells(metafunc)
    elif "device" in metafunc.fixturenames:
        # any other test asking for ``device`` runs once per selected device; cuda cases carry the cuda marker
        params = [pytest.param(d, id=d, marks=[pytest.mark.cuda] if d == "cuda" else [])
                  for d in devices_for(metafunc.config)]
        metafunc.parametrize("device", params)


@pytest.fixture(autouse=True)
def _skip_cuda_without_gpu(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("cuda"):
        from harness.runtime import cuda_unavailable_reason

        reason = cuda_unavailable_reason()
        if reason:
            pytest.skip(f"CUDA: {reason}")


@pytest.fixture(scope="session")
def data_dir(pytestconfig: pytest.Config) -> Path | None:
    path = pytestconfig.getoption("--data-dir")
    return Path(path).resolve() if path else None


@pytest.fixture(scope="session")
def results_dir(pytestconfig: pytest.Config) -> Path:
    return Path(pytestconfig.getoption("--results-dir"))


@pytest.fixture(scope="session")
def tolerances() -> dict[str, Any]:
    return load_tolerances()


@pytest.fixture
def record_result(request: pytest.FixtureRequest) -> Callable[[dict[str, Any]], None]:
    """Add one results row (a dict of columns) for this test."""
    return lambda row: add_row(request.config, request.node.nodeid, row)


@pytest.fixture
def check_reference(request: pytest.FixtureRequest, tolerances: dict[str, Any]) -> Callable[[list[str], dict[str, Any]], None]:
    """Compare measured metrics with the reference at a key path (raises ReferenceBreach), or store them with
    --update-references."""

    def check(keys: list[str], measured: dict[str, Any], gate: Gate = SAME_PLATFORM) -> None:
        verdicts = check_against_reference(keys, measured, tolerances,
                                           update=request.config.getoption("--update-references"),
                                           path=references_path(request.config), gate=gate)
        if verdicts:
            request.node.add_report_section("call", f"tolerance verdicts ({gate.describe()}, {'/'.join(keys)})",
                                            "\n".join(verdicts))

    return check


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    from harness.references import NoReference, ReferenceBreach

    report = yield
    if call.excinfo is not None and call.excinfo.errisinstance(ReferenceBreach):
        report.user_properties.append((BREACH_ATTRIBUTE, True))
    if call.excinfo is not None and call.excinfo.errisinstance(NoReference):
        report.user_properties.append((NO_REFERENCE_ATTRIBUTE, True))
    return report


def run_checks(session: pytest.Session, rows: list[dict[str, Any]]) -> None:
    """The scenarios' checks over the whole run (:meth:`Scenario.check_run`), on the controller, which holds every
    worker's rows: their rows join the results, a failing one fails the run and is named in the summary."""
    from harness.results import RUN_CHECK_PREFIX
    from harness.scenarios import SCENARIOS

    failures = session.config.stash.setdefault(RUN_FAILURES_KEY, [])
    for name in sorted({str(r.get("scenario_name")) for r in rows} & set(SCENARIOS.names())):
        for row in cells.scenario_instance(session.config, name).check_run(rows):
            rows.append({"test_id": RUN_CHECK_PREFIX + row["cell_id"], "coder_name": "none", **row})
            if row.get("status") != "pass":
                failures.append(f"{row['cell_id']}: {row.get('failure', 'failed')}")
    if failures and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    rows = config.stash.get(ROWS_KEY, [])
    if is_xdist_worker(config):
        config.workeroutput["harness_rows"] = json.dumps(rows, default=str)  # type: ignore[attr-defined]
        return
    if rows:
        from harness.environment import describe_environment
        from harness.results import write_results
        from harness.runtime import execution_overrides, platform_label

        run_checks(session, rows)
        # the environment names the md5s of the assets this run read (the user's, with --data-dir), and the
        # devices and platforms it ran on, so that compare knows a cross-platform pair without being told
        environment = describe_environment(config.getoption("--data-dir"))
        devices = devices_for(config)
        environment["run"] = {"devices": devices, "platforms": [platform_label(d) for d in devices],
                              "execution_overrides": execution_overrides(),
                              "reference_device": config.getoption("--reference-device") or "cpu"}
        efficiency = execution.run_efficiency(config)
        if efficiency:
            environment["efficiency"] = efficiency
        write_results(rows, Path(config.getoption("--results-dir")), environment)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    # Controller side of xdist: gather the rows each worker shipped.
    payload = getattr(node, "workeroutput", {}).get("harness_rows")
    if payload:
        node.config.stash[ROWS_KEY].extend(json.loads(payload))


# the end-of-run summary and the executor's hooks live beside this module
pytest_plugins = ["harness.pytest_plugin.summary", "harness.pytest_plugin.execution",
                  "harness.pytest_plugin.scheduling"]
