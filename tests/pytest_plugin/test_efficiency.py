"""The run's own efficiency: the cells' recorded work, the wall time, the workers and their ratio."""
from __future__ import annotations

from types import SimpleNamespace

from harness.executors import Progress
from harness.pytest_plugin.execution import ProgressCounter
from harness.report.throughput import efficiency_section


def report(nodeid: str, when: str, duration: float, worker: str | None) -> SimpleNamespace:
    node = SimpleNamespace(workerinput={"workerid": worker}) if worker else None
    return SimpleNamespace(nodeid=nodeid, when=when, duration=duration, passed=True, node=node)


def test_work_is_summed_per_cell_and_judged_against_the_workers() -> None:
    counter = ProgressCounter(Progress(interval=0))
    cell = "tests/scenarios/test_cells.py::test_cell[{}]"
    for name, seconds, worker in (("a", 3.0, "gw0"), ("b", 1.0, "gw1"), ("c", 2.0, "gw0")):
        for when, share in (("setup", 0.1), ("call", 0.8), ("teardown", 0.1)):
            counter.pytest_runtest_logreport(report(cell.format(name), when, seconds * share, worker))
    counter.pytest_runtest_logreport(report("tests/other.py::test_x", "call", 50.0, "gw1"))  # not a cell
    counter.started -= 4.0  # the run began four seconds ago
    figures = counter.efficiency(workers=2)
    assert abs(figures["cell_work_s"] - 6.0) < 1e-9 and figures["workers"] == 2 and figures["workers_with_cells"] == 2
    assert 4.0 <= figures["wall_s"] < 5.0 and abs(figures["ratio"] - figures["wall_s"] / 3.0) < 1e-9
    # every test's work counts too: 6 s of cells + 50 s of another test on 2 workers
    assert abs(figures["test_work_s"] - 56.0) < 1e-9 and abs(figures["ratio_all_tests"] - figures["wall_s"] / 28.0) < 1e-9
    assert set(figures["startup_s"]) == {"gw0", "gw1"} and all(0 <= s < 1 for s in figures["startup_s"].values())
    assert [c["test_id"] for c in figures["costliest"]] == [cell.format(n) for n in ("a", "c", "b")]
    html = efficiency_section({"efficiency": figures})
    assert 'id="efficiency"' in html and cell.format("a") in html
    assert efficiency_section({}) == ""
