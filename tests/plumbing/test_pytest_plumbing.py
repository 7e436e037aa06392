"""The suite's pytest options, markers and the merge of per-worker results under pytest-xdist."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.references import REPO_ROOT

pytest_plugins = ["pytester"]

RECORDING_TEST = """
import pytest

@pytest.mark.parametrize("i", range(6))
def test_cell(i, record_result, device):
    record_result({"scenario_name": "demo", "split": i, "rec_size": i * 10, "device": device})
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest((REPO_ROOT / "conftest.py").read_text())
    pytester.makefile(".yaml", tolerances="default: {abs: 0}\n")
    return pytester


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist2"])
def test_rows_from_all_workers_merge_into_one_results_file(suite: pytest.Pytester, workers: list[str]):
    suite.makepyfile(test_demo=RECORDING_TEST)
    results = suite.path / "out"
    outcome = suite.runpytest_subprocess(*workers, "--results-dir", str(results), "-p", "no:cacheprovider")
    outcome.assert_outcomes(passed=6)
    rows = json.loads((results / "results.json").read_text())["rows"]
    assert sorted(r["split"] for r in rows) == list(range(6))
    assert all(r["device"] == "cpu" for r in rows)
    assert (results / "results.csv").read_text().count("\n") == 7  # header + 6 rows


def test_cuda_cases_skip_with_reason_without_gpu(suite: pytest.Pytester):
    from harness.runtime import cuda_unavailable_reason

    if cuda_unavailable_reason() is None:
        pytest.skip("a CUDA provider is available here; the skip path cannot be observed")
    suite.makepyfile(test_demo="def test_run(device):\n    assert device in ('cpu', 'cuda')\n")
    outcome = suite.runpytest_subprocess("--device", "all", "-rs")
    outcome.assert_outcomes(passed=1, skipped=1)
    outcome.stdout.fnmatch_lines(["*SKIPPED*CUDA:*"])


def test_markers_are_registered_and_strict(suite: pytest.Pytester):
    suite.makepyfile(test_demo="import pytest\n@pytest.mark.ssd\n@pytest.mark.asr\ndef test_x():\n    pass\n")
    suite.runpytest_subprocess("--strict-markers").assert_outcomes(passed=1)
    suite.makepyfile(test_demo="import pytest\n@pytest.mark.not_a_marker\ndef test_x():\n    pass\n")
    result = suite.runpytest_subprocess("--strict-markers")
    assert result.ret != 0


def test_benchmarks_are_kept_out_of_the_default_run(suite: pytest.Pytester):
    suite.makepyfile(test_demo="import pytest\n@pytest.mark.benchmark\ndef test_speed():\n    pass\n")
    suite.runpytest_subprocess().assert_outcomes(skipped=1)
    suite.runpytest_subprocess("-m", "benchmark").assert_outcomes(passed=1)


def test_bad_data_dir_is_a_usage_error(suite: pytest.Pytester, tmp_path: Path):
    suite.makepyfile(test_demo="def test_x(data_dir):\n    pass\n")
    result = suite.runpytest_subprocess("--data-dir", str(tmp_path / "missing"))
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*--data-dir*is not a directory*"])
