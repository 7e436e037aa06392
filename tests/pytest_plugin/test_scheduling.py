"""Cell tests run longest first (harness.pytest_plugin.scheduling): the order from recorded costs, estimates for
cells never measured, the costs a run records, and xdist workers that all sort alike."""
from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from harness.pytest_plugin.scheduling import estimated_costs, longest_first, read_costs, record_costs

from test_plugin import _toy  # the toy suite of the plugin tests (this folder is on sys.path)

pytest_plugins = ["pytester"]


def _items(*names):
    return [SimpleNamespace(nodeid=n if "::" in n else f"tests/scenarios/test_cells.py::test_cell[{n}]") for n in names]


def test_cells_move_longest_first_within_their_own_slots():
    items = _items("t/test_a.py::test_x", "s-a-raw", "s-a-nncodec:qp=-38", "t/test_b.py::test_y", "s-a-fp16", "s-a-new")
    costs = {"s-a-raw": 1.0, "s-a-nncodec:qp=-38": 7.0, "s-a-fp16": 1.0, "s-a-new": None}
    order = [i.nodeid.split("[")[-1].rstrip("]") if "[" in i.nodeid else i.nodeid for i in longest_first(items, costs)]
    # other tests keep their places; equal costs keep collection order; an unknown cost goes after the known ones
    assert order == ["t/test_a.py::test_x", "s-a-nncodec:qp=-38", "s-a-raw", "t/test_b.py::test_y", "s-a-fp16",
                     "s-a-new"]


def test_an_unmeasured_cell_is_estimated_from_its_coder_family_then_from_all():
    recorded = {"s-a-nncodec:qp=-38": 8.0, "s-b-nncodec:qp=-4": 4.0, "s-a-nncodec:qp=8": 2.0, "s-a-raw": 1.0}
    estimate = estimated_costs(["s-c-nncodec:qp=-26", "s-c-hevc:qp=27", "s-a-raw"], recorded)
    assert estimate == {"s-c-nncodec:qp=-26": 4.0, "s-c-hevc:qp=27": 3.0, "s-a-raw": 1.0}
    assert estimated_costs(["x"], {}) == {"x": None}


def test_a_run_merges_its_measured_costs_into_the_file(tmp_path):
    path = tmp_path / "cell_costs.json"
    record_costs({"tests/scenarios/test_cells.py::test_cell[s-a-raw]": 1.25}, path)
    record_costs({"tests/scenarios/test_cells.py::test_cell[s-a-fp16]": 0.5,
                  "tests/scenarios/test_cells.py::test_cell[s-a-raw]": 2.0}, path)
    assert read_costs(path) == {"s-a-raw": 2.0, "s-a-fp16": 0.5}
    path.write_text("not json")
    assert read_costs(path) == {}  # an unreadable record only loses the order, never a result


TOY_MATRIX = "scenario: toy\nlength: 101\ncoders: [raw, 'toyround:step=2', 'toyround:step=8']\n"


def _collected(result):
    return [line.split("[")[-1].rstrip("]") for line in result.stdout.lines if "::test_cell[" in line]


def test_runs_sort_by_the_recorded_costs_and_xdist_workers_agree(pytester: pytest.Pytester, monkeypatch, tmp_path):
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    costs = {"toy-toyround:step=8": 9.0, "toy-raw": 5.0, "toy-toyround:step=2": 1.0}
    (tmp_path / "cache" / "cell_costs.json").write_text(json.dumps(costs))
    _toy(pytester, TOY_MATRIX)
    common = ["-m", "toy", "-p", "no:cacheprovider", "--update-references", "--references", str(tmp_path / "r.json")]
    listed = pytester.runpytest_subprocess(*common, "--collect-only", "-q")
    assert _collected(listed) == ["toy-toyround:step=8", "toy-raw", "toy-toyround:step=2"]
    kept = pytester.runpytest_subprocess(*common, "--collect-only", "-q", "--no-longest-first")
    assert _collected(kept) == ["toy-raw", "toy-toyround:step=2", "toy-toyround:step=8"]
    # two workers sort the same collection alike (xdist refuses a run whose workers collected different orders)
    pytester.runpytest_subprocess(*common, "-n", "2", "--results-dir", "out").assert_outcomes(passed=3)
    recorded = read_costs(tmp_path / "cache" / "cell_costs.json")
    assert set(recorded) == {"toy-raw", "toy-toyround:step=2", "toy-toyround:step=8"}
    assert recorded["toy-toyround:step=8"] < 9.0  # this run's measurement replaced the old record
