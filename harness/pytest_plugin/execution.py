"""The executor in a pytest session: options, one executor per run, the progress line, executor.json.

Loaded with the suite's plugin (harness.pytest_plugin lists it in ``pytest_plugins``). The generic cell test
(harness.pytest_plugin.cells) asks :func:`cell_outcome` for each cell; on the first cell of a scenario the executor is told every selected
cell of that scenario (after ``-m``/``-k``), so the ``ray`` executor can start the whole sweep at once.
"""
from __future__ import annotations

import contextlib
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from harness.executors import DEFAULT_SHARD_SIZE, EXECUTORS, Executor, ExecutorSettings, Progress, make_executor
from harness.pytest_plugin.state import is_xdist_worker
from harness.scenarios.base import Cell, CellOutcome, Scenario

EXECUTOR_KEY = pytest.StashKey[Executor]()
PROGRESS_KEY = pytest.StashKey[Progress]()
PLANNED_KEY = pytest.StashKey[set]()
CELL_TEST = "::test_cell["  # node ids of the generic cell test (tests/scenarios/test_cells.py)


def add_options(group: Any) -> None:
    """The executor options (called from harness.pytest_plugin's pytest_addoption)."""
    group.addoption("--executor", default="local", choices=EXECUTORS.names(),
                    help="where cells run: local (default, in the test process / xdist workers) or ray (sharded "
                         "by image over a Ray cluster; run without -n)")
    group.addoption("--ray-address", default=None,
                    help="Ray cluster to join (host:port, 'auto', ray://...); default: start a local Ray instance")
    group.addoption("--rerun", action="store_true",
                    help="recompute every shard even when the shard store holds it (ray executor)")
    group.addoption("--shard-size", type=int, default=DEFAULT_SHARD_SIZE,
                    help=f"units (images) per Ray task (default {DEFAULT_SHARD_SIZE}); results do not depend on it")
    group.addoption("--shard-store", type=Path, default=None,
                    help="folder of the content-addressed shard store (default <cache>/shards); share it across "
                         "runs to resume an interrupted run and make unchanged re-runs free")
    group.addoption("--progress-every", type=float, default=30.0,
                    help="seconds between progress lines (cells, shards, ETA); 0 turns them off")


def _emitter(config: pytest.Config):
    def emit(line: str) -> None:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None:
            return
        capture = config.pluginmanager.get_plugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(line)

    return emit


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--executor", default="local") == "ray" and (config.getoption("numprocesses", default=None)
                                                                     or is_xdist_worker(config)):
        raise pytest.UsageError("--executor ray spreads cells over the Ray cluster; run it without -n (xdist)")
    if config.getoption("--shard-size", default=DEFAULT_SHARD_SIZE) < 1:
        raise pytest.UsageError("--shard-size must be at least 1")
    config.stash[PROGRESS_KEY] = Progress(interval=config.getoption("--progress-every", default=30.0),
                                          emit=_emitter(config))
    config.stash[PLANNED_KEY] = set()
    if not is_xdist_worker(config):
        config.pluginmanager.register(ProgressCounter(config.stash[PROGRESS_KEY]), "harness-progress-counter")


def executor_for(config: pytest.Config) -> Executor:
    if EXECUTOR_KEY not in config.stash:
        settings = ExecutorSettings(address=config.getoption("--ray-address"),
                                    shard_size=config.getoption("--shard-size"),
                                    store_root=config.getoption("--shard-store"), rerun=config.getoption("--rerun"))
        config.stash[EXECUTOR_KEY] = make_executor(config.getoption("--executor"), settings, config.stash[PROGRESS_KEY])
    return config.stash[EXECUTOR_KEY]


def selected_cells(session: pytest.Session, scenario: Scenario) -> list[Cell]:
    """The cells of ``scenario`` this session will run (selected items, assets present)."""
    cells = []
    for item in session.items:
        cell = getattr(item, "callspec", None) and item.callspec.params.get("scenario_cell")
        if isinstance(cell, Cell) and cell.scenario == scenario.name and not item.get_closest_marker("skip") \
                and scenario.missing_reason(cell) is None:
            cells.append(cell)
    return cells


def cell_outcome(request: pytest.FixtureRequest, scenario: Scenario, cell: Cell) -> CellOutcome:
    """The outcome of ``cell`` from the run's executor (the call site in the generic cell test)."""
    executor = executor_for(request.config)
    planned = request.config.stash[PLANNED_KEY]
    if scenario.name not in planned:
        planned.add(scenario.name)
        executor.plan(scenario, selected_cells(request.session, scenario))
    return executor.outcome(scenario, cell)


# --- progress ------------------------------------------------------------------------------------------
COSTLIEST = 5


class ProgressCounter:
    """Counts finished cell tests on the process that sees every report (xdist controller or the only one), and
    the run's efficiency: the cells' recorded work (setup + call + teardown as pytest timed them on the workers),
    the wall time since the run started, the workers that reported, and their ratio."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.started = time.monotonic()
        self.work: dict[str, float] = defaultdict(float)
        self.other: dict[str, float] = defaultdict(float)  # the other tests' work too: not idle workers
        self.workers: set[str] = set()
        # per worker, when its first test began, from the run's start: spawn + imports + collection
        self.startup: dict[str, float] = {}

    def efficiency(self, workers: int = 1) -> dict[str, Any]:
        """``wall_s``, ``cell_work_s``, ``workers`` (the run's xdist workers, or Ray nodes when more),
        ``workers_with_cells`` (those that ran a cell), ``ratio`` = wall / (work / workers) (1.0: every worker
        busy with cells all along), ``test_work_s`` and ``ratio_all_tests``, the same over every test's work
        (a run that also holds other tests: what is left above 1.0 is idle workers and start-up),
        ``startup_s`` (per worker, the seconds from the run's start to its first test: process start, imports,
        collection) and the costliest cells."""
        wall = time.monotonic() - self.started
        work = sum(self.work.values())
        workers = max(int(workers), self.progress.nodes or 0, 1)
        costliest = sorted(self.work.items(), key=lambda item: (-item[1], item[0]))[:COSTLIEST]
        everything = work + sum(self.other.values())
        return {"wall_s": wall, "cell_work_s": work, "workers": workers, "workers_with_cells": len(self.workers),
                "ratio": wall / (work / workers) if work else None,
                "test_work_s": everything, "ratio_all_tests": wall / (everything / workers) if everything else None,
                "startup_s": dict(sorted(self.startup.items())),
                "costliest": [{"test_id": nodeid, "seconds": seconds} for nodeid, seconds in costliest]}

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.progress.cells_total = sum(CELL_TEST in item.nodeid for item in session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.progress.cells_total = max(self.progress.cells_total, sum(CELL_TEST in nodeid for nodeid in ids))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        worker = worker_of(report)
        if worker not in self.startup and report.when == "setup":
            self.startup[worker] = max(0.0, time.monotonic() - float(report.duration or 0.0) - self.started)
        if CELL_TEST not in report.nodeid:
            self.other[report.nodeid] += float(report.duration or 0.0)
            return
        self.work[report.nodeid] += float(report.duration or 0.0)
        self.workers.add(worker)
        # a cell is done after its call, or at setup when it was skipped or errored there
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.progress.cells_done += 1
            self.progress.tick()


def worker_of(report: pytest.TestReport) -> str:
    """The xdist worker that ran a test (the controller sets ``report.node`` to it), "main" without xdist."""
    node = getattr(report, "node", None)
    workerinput = getattr(node, "workerinput", None) or {}
    return str(workerinput.get("workerid") or getattr(getattr(node, "gateway", None), "id", None) or "main")


def run_efficiency(config: pytest.Config) -> dict[str, Any] | None:
    """The run's efficiency (:meth:`ProgressCounter.efficiency`), on the process that saw every report."""
    counter = config.pluginmanager.get_plugin("harness-progress-counter")
    if counter is None or not counter.work:
        return None
    workers = getattr(config.option, "numprocesses", None)  # xdist resolves -n auto to a number
    return counter.efficiency(workers if isinstance(workers, int) and workers > 0 else 1)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    progress = config.stash.get(PROGRESS_KEY, None)
    if is_xdist_worker(config) or progress is None or not progress.cells_total or config.option.collectonly:
        return  # nothing ran: no progress to report
    terminalreporter.write_line(progress.line().replace("ETA", "last ETA"))
    efficiency = run_efficiency(config)
    if efficiency and efficiency["ratio"] is not None:
        terminalreporter.write_line(
            f"efficiency: wall {efficiency['wall_s']:.1f} s for {efficiency['cell_work_s']:.1f} s of cell work on "
            f"{efficiency['workers']} worker(s) ({efficiency['workers_with_cells']} ran cells): wall / (work / "
            f"workers) = {efficiency['ratio']:.2f} ({efficiency['ratio_all_tests']:.2f} over all "
            f"{efficiency['test_work_s']:.1f} s of test work); start-up "
            + ", ".join(f"{w} {s:.1f} s" for w, s in efficiency["startup_s"].items()) + "; costliest: "
            + ", ".join(f"{c['test_id'].split('[', 1)[-1].rstrip(']')} {c['seconds']:.1f} s"
                        for c in efficiency["costliest"]))
    executor = config.stash.get(EXECUTOR_KEY, None)
    if executor is not None and executor.name != "local":
        for node, stats in executor.summary().get("nodes", {}).items():
            terminalreporter.write_line(f"node {node[:12]} ({stats['host']}): {stats['shards']} shards, "
                                        f"{stats['units_per_s']} units/s, {stats['cell_units_per_s']} cell-units/s")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    executor = config.stash.get(EXECUTOR_KEY, None)
    if executor is None:
        return
    try:
        if not is_xdist_worker(config) and executor.name != "local":
            from harness.files import atomic_write_text

            path = Path(config.getoption("--results-dir")) / "executor.json"
            atomic_write_text(path, json.dumps(executor.summary(), indent=1, sort_keys=True) + "\n")
    finally:
        executor.close()
