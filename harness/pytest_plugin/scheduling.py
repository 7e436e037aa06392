"""pytest plugin: cell tests run longest first, so no worker is left with a long cell when the others are done.

pytest-xdist's ``load`` scheduling hands tests to workers in collection order (a first quarter round robin,
the rest as workers free up), so the order of the cell tests is the schedule. The controller reads the costs
once and hands them to the workers (``workerinput``): every worker sorts the same collection alike, as xdist
requires, even while another run rewrites the file. Each cell's cost is what it took
in the last run on this machine (setup + call + teardown, the run's own efficiency figures), kept in
``<cache>/cell_costs.json``; a cell never measured gets the median cost of the measured cells of its coder
family (the coder dominates a cell's cost: NNCodec encoding is most of the suite's work), else of every
measured cell, else it keeps its place. Only the cell tests move, among the positions they already hold, so
other tests (and their module fixtures) keep their order. Measured on the embedded ``-m ssd`` matrix
(``tests/scenarios/test_cells.py``, 2 workers, warm caches): 311 s in collection order, 241 s longest first.
Putting the other tests' modules first by their recorded cost, then the cells, was tried and lost time on the
whole ``-m ssd`` run (323 s against 296 s), so only the cells move. ``--no-longest-first`` keeps collection
order.
"""
from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from harness.pytest_plugin.execution import CELL_TEST
from harness.pytest_plugin.state import is_xdist_worker

COSTS_FILE = "cell_costs.json"


def costs_path() -> Path:
    from harness.files import cache_root

    return cache_root() / COSTS_FILE


def read_costs(path: Path) -> dict[str, float]:
    """Cell id -> seconds; an unreadable file counts as no record (the order is an optimisation, not a result)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): float(v) for k, v in data.items() if isinstance(v, (int, float))} if isinstance(data, dict) else {}


def cell_id(nodeid: str) -> str:
    return nodeid.split(CELL_TEST, 1)[-1].rstrip("]")


def coder_family(cell: str) -> str:
    """The coder family of a cell id: the last dash-separated part before the spec's ``:`` (a spec's values may
    hold dashes, ``qp=-38``), e.g. ``nncodec``."""
    return cell.split(":", 1)[0].rsplit("-", 1)[-1]


def estimated_costs(cells: list[str], recorded: dict[str, float]) -> dict[str, float | None]:
    """Recorded cost, else the median of the recorded cells of the same coder family, else of all, else None."""
    by_family: dict[str, list[float]] = {}
    for cell, seconds in recorded.items():
        by_family.setdefault(coder_family(cell), []).append(seconds)
    overall = statistics.median(recorded.values()) if recorded else None
    return {cell: recorded[cell] if cell in recorded else
            statistics.median(by_family[coder_family(cell)]) if coder_family(cell) in by_family else overall
            for cell in cells}


def longest_first(items: list[Any], costs: dict[str, float | None]) -> list[Any]:
    """``items`` with the cell tests reordered by decreasing cost in the slots cell tests hold (stable for equal
    or unknown costs, which keep their relative order after the costed ones)."""
    slots = [index for index, item in enumerate(items) if CELL_TEST in item.nodeid]
    cells = [items[index] for index in slots]
    ranked = sorted(enumerate(cells), key=lambda pair: (costs.get(cell_id(pair[1].nodeid)) is None,
                                                         -(costs.get(cell_id(pair[1].nodeid)) or 0.0), pair[0]))
    reordered = list(items)
    for slot, (_, item) in zip(slots, ranked):
        reordered[slot] = item
    return reordered


def add_options(group: Any) -> None:
    group.addoption("--no-longest-first", action="store_true",
                    help="run the cell tests in collection order instead of longest first (costs of the last run)")


WORKER_INPUT = "harness_cell_costs"


def _run_costs(config: pytest.Config) -> dict[str, float]:
    """The recorded costs this run schedules by: read once by the controller (or the only process) and handed
    to every xdist worker, so that all workers sort alike even if another run rewrites the file meanwhile."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None:
        return dict(workerinput.get(WORKER_INPUT) or {})
    return _controller_costs(config)


_COSTS_KEY = pytest.StashKey[dict]()


def _controller_costs(config: pytest.Config) -> dict[str, float]:
    if _COSTS_KEY not in config.stash:
        config.stash[_COSTS_KEY] = read_costs(costs_path())
    return config.stash[_COSTS_KEY]


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    node.workerinput[WORKER_INPUT] = _controller_costs(node.config)


@pytest.hookimpl(trylast=True)  # after the selection (-m, -k) and the skip markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--no-longest-first"):
        return
    cells = [cell_id(item.nodeid) for item in items if CELL_TEST in item.nodeid]
    if len(cells) < 2:
        return
    items[:] = longest_first(items, estimated_costs(cells, _run_costs(config)))


def record_costs(work: dict[str, float], path: Path | None = None) -> None:
    """Merge this run's measured cell costs into the costs file (on the process that saw every report)."""
    from harness.files import atomic_write_text, file_lock

    path = path or costs_path()
    with file_lock(path):
        costs = read_costs(path)
        costs.update({cell_id(nodeid): round(seconds, 3) for nodeid, seconds in work.items()})
        atomic_write_text(path, json.dumps(costs, indent=0, sort_keys=True) + "\n")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    counter = config.pluginmanager.get_plugin("harness-progress-counter")
    if is_xdist_worker(config) or counter is None or not counter.work or config.option.collectonly:
        return
    record_costs(dict(counter.work))
