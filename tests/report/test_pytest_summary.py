"""harness.pytest_summary: per-scenario summary lines and slowest combinations, serial and under xdist."""
from __future__ import annotations

import pytest

from harness.references import REPO_ROOT

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
    # the message conftest's check_reference gives for a metric outside tolerance
    assert i != 0, "demo/0 outside tolerance:\\n  calc_map: measured 80.0, reference 90.0, tolerance abs 0.5 + rel 0"

@pytest.mark.coders
def test_coder_ok():
    pass

@pytest.mark.coders
def test_coder_skip():
    pytest.skip("no asset")
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist2"])
def test_one_line_per_scenario(pytester: pytest.Pytester, workers):
    pytester.makeconftest((REPO_ROOT / "conftest.py").read_text())
    pytester.makepyfile(test_demo=DEMO)
    result = pytester.runpytest_subprocess(*workers, "-p", "harness.pytest_summary", "-p", "no:cacheprovider",
                                           "--results-dir", str(pytester.path / "out"))
    result.stdout.fnmatch_lines(["*scenario summary*",
                                 "coders: 1 passed, 0 failed, 0 errors, 1 skipped; 0 cells out of tolerance",
                                 "ssd: 2 passed, 1 failed, 0 errors, 0 skipped; 1 cells out of tolerance; "
                                 "1 results rows with status fail",
                                 "*slowest 5 combinations*",
                                 "*test_demo.py::test_ssd_cell[[]2[]]"])
    assert result.ret == 1
