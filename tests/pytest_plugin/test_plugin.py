"""The suite's pytest plugin (entry point ``pytest11: harness``): options, markers, the merge of per-worker
results under pytest-xdist, options pointing outside the repository, and a toy scenario and coder registered
from a temporary directory running through the generic cell test."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
# the repository's generic cell test, copied as a member's test tree would hold it
CELL_TEST_MODULE = Path(__file__).resolve().parents[1] / "scenarios" / "test_cells.py"

RECORDING_TEST = """
import pytest

@pytest.mark.parametrize("i", range(6))
def test_cell(i, record_result, device):
    record_result({"scenario_name": "demo", "split": i, "rec_size": i * 10, "device": device})
"""


TOY = Path(__file__).with_name("toy")


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    # nothing copied in: the plugin is loaded through its entry point, wherever pytest roots itself
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


def test_slow_tests_are_kept_out_of_the_default_run(suite: pytest.Pytester):
    suite.makepyfile(test_demo="import pytest\n@pytest.mark.slow\ndef test_long():\n    pass\n"
                               "def test_short():\n    pass\n")
    result = suite.runpytest_subprocess("-rs")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*slow: run with --run-slow*"])
    suite.runpytest_subprocess("--run-slow").assert_outcomes(passed=2)
    suite.runpytest_subprocess("-m", "slow").assert_outcomes(passed=1)


def test_bad_data_dir_is_a_usage_error(suite: pytest.Pytester, tmp_path: Path):
    suite.makepyfile(test_demo="def test_x(data_dir):\n    pass\n")
    result = suite.runpytest_subprocess("--data-dir", str(tmp_path / "missing"))
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*--data-dir*is not a directory*"])


def test_folder_options_outside_the_repository_parse_in_both_forms(suite: pytest.Pytester, tmp_path: Path):
    data = tmp_path / "assets"
    data.mkdir()
    suite.makepyfile(test_demo="def test_x(data_dir, record_result):\n"
                               "    print('DATA', data_dir)\n"
                               "    record_result({'scenario_name': 'demo'})\n")
    out = tmp_path / "out"
    # space-separated values: pytest must not take the folder for a test path and root itself there
    result = suite.runpytest_subprocess("--data-dir", str(data), "--results-dir", str(out), "-s")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*DATA {data}"])
    assert (out / "results.csv").is_file()
    result = suite.runpytest_subprocess(f"--data-dir={data}", f"--results-dir={out}2")
    result.assert_outcomes(passed=1)
    assert (tmp_path / "out2" / "results.csv").is_file()


def _toy(suite: pytest.Pytester, matrix: str) -> None:
    for module in ("toy_coder", "toy_scenario"):
        suite.makepyfile(**{module: (TOY / f"{module}.py").read_text()})
    suite.makeconftest("import toy_coder, toy_scenario  # noqa: F401  (registration)\n")
    suite.makepyfile(test_toy=CELL_TEST_MODULE.read_text())
    suite.makefile(".yaml", toy=matrix)


def test_toy_scenario_and_coder_from_a_temporary_directory_run_through_the_generic_test(suite: pytest.Pytester):
    _toy(suite, "scenario: toy\nlength: 101\ncoders: [raw, 'toyround:step=2', 'toyround:step=8']\n")
    refs = suite.path / "refs.json"
    common = ["-m", "toy", "--references", str(refs), "-p", "no:cacheprovider", "--results-dir", "out", "-v"]
    recorded = suite.runpytest_subprocess(*common, "--update-references")
    recorded.assert_outcomes(passed=3)
    recorded.stdout.fnmatch_lines(["*test_cell?toy-toyround:step=2? PASSED*"])
    keys = json.loads(refs.read_text())["toy"]
    assert sorted(keys) == ["raw", "toyround:step=2", "toyround:step=8"]
    suite.runpytest_subprocess(*common).assert_outcomes(passed=3)
    rows = json.loads((suite.path / "out" / "results.json").read_text())["rows"]
    assert {r["coder_name"] for r in rows} == set(keys) and {r["status"] for r in rows} == {"pass"}
    # a reference that the measurement no longer meets: one breach, counted by type in the summary
    keys["toyround:step=8"]["rec_size"] += 1
    refs.write_text(json.dumps({"toy": keys}))
    breached = suite.runpytest_subprocess(*common)
    breached.assert_outcomes(passed=2, failed=1)
    breached.stdout.fnmatch_lines(["*toy: 2 passed, 1 failed, 0 errors, 0 skipped; 1 cells out of tolerance*"])


def test_a_matrix_key_the_scenario_does_not_read_is_an_error(suite: pytest.Pytester):
    _toy(suite, "scenario: toy\nlength: 5\ncoders: [raw]\ncoder: [fp16]\n")
    result = suite.runpytest_subprocess("-m", "toy")
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*toy.yaml: key(s) coder are not read by scenario 'toy'*"])


def test_an_outcome_column_may_not_overwrite_the_cells_identity():
    from harness.pytest_plugin.cells import identity_columns
    from harness.scenarios.base import Cell

    cell = Cell("sfu", (("model_name", "m"), ("frames", "0:6:3")))
    assert identity_columns(cell, {"frames": "0:6:3", "frame_count": 2}) == {
        "scenario_name": "sfu", "model_name": "m", "frames": "0:6:3"}
    with pytest.raises(ValueError, match=r"outcome columns \['frames'\] would overwrite the cell's axes"):
        identity_columns(cell, {"frames": 2})
