"""harness.pytest_summary: per-scenario summary lines and slowest combinations, serial and under xdist."""
from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

DEMO = """
import time
import pytest

@pytest.mark.ssd
@pytest.mark.parametrize("i", range(3))
def test_ssd_cell(i, record_result):
    time.sleep(0.05 * i)
    record_result({"scenario_name": "ssd", "coder_name": "raw", "metric_name": "calc_map",
                   "status": "fail" if i == 0 else "pass"})
    if i == 0:  # a reference breach is counted by its type, whatever its message says
        from harness.references import ReferenceBreach
        raise ReferenceBreach("demo/0", ["calc_map: measured 80.0, reference 90.0"], [])

@pytest.mark.ssd
def test_plain_failure_is_not_a_breach():
    assert False, "outside tolerance (only words)"

@pytest.mark.coders
def test_coder_ok():
    pass

@pytest.mark.coders
def test_coder_skip():
    pytest.skip("no asset")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist2"])
def test_one_line_per_scenario(pytester: pytest.Pytester, workers):
    pytester.makepyfile(test_demo=DEMO)
    result = pytester.runpytest_subprocess(*workers, "-p", "no:cacheprovider",
                                           "--results-dir", str(pytester.path / "out"))
    result.stdout.fnmatch_lines(["*scenario summary*",
                                 "coders: 1 passed, 0 failed, 0 errors, 1 skipped; 0 cells out of tolerance",
                                 "ssd: 2 passed, 2 failed, 0 errors, 0 skipped; 1 cells out of tolerance; "
                                 "1 results rows with status fail",
                                 "*slowest 5 combinations*",
                                 "*test_demo.py::test_ssd_cell[[]2[]]"])
    assert result.ret == 1
