"""``pytest --executor ray`` end to end (a pytest subprocess on the toy scenario, joined to the local cluster):
same test ids, results.csv, references and compare verdict as ``--executor local``."""
from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]
# the repository's generic cell test, copied as a member's test tree would hold it
CELL_TEST_MODULE = Path(__file__).resolve().parents[1] / "scenarios" / "test_cells.py"
# not marked slow: the only end-to-end test of this executor path, so it stays in the default run

CONFTEST = '''
import pytest
from pathlib import Path
from harness.references import check_against_reference
from harness.scenarios import SCENARIOS
from toy_scenario import ToyScenario

ToyScenario.matrix_path = Path(__file__).with_name("toy.yaml")
SCENARIOS.register("toy")(ToyScenario)
REFERENCES = Path(__file__).with_name("references.json")


@pytest.fixture
def check_reference(request):  # references of this sandbox, not the suite's
    def check(keys, measured):
        check_against_reference(keys, measured, update=request.config.getoption("--update-references"),
                                path=REFERENCES)
    return check
'''
MATRIX = "scenario: toy\nunits: 12\nsplits: [1, 2]\ncoders: [a, b, c]\ndelay: 0.0\n"


@pytest.fixture
def sandbox(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makefile(".yaml", toy=MATRIX)
    pytester.makepyfile(test_cells=CELL_TEST_MODULE.read_text())
    return pytester


def run(sandbox: pytest.Pytester, *args: str) -> pytest.RunResult:
    return sandbox.runpytest_subprocess("-m", "toy", "-p", "no:randomly", "-p", "no:cacheprovider", *args,
                                        timeout=300)


def rows(results_dir: Path) -> list[dict[str, str]]:
    with open(results_dir / "results.csv", newline="") as handle:
        return [{k: v for k, v in row.items() if not k.endswith("_time")} for row in csv.DictReader(handle)]


def test_ray_run_matches_local_run(ray_cluster, sandbox):
    local, ray_dir = sandbox.path / "local", sandbox.path / "ray"
    store = str(sandbox.path / "store")
    recorded = run(sandbox, "--results-dir", str(local), "--update-references")
    recorded.assert_outcomes(passed=7)
    gated = run(sandbox, "--executor", "ray", "--ray-address", ray_cluster.address, "--results-dir", str(ray_dir),
                "--shard-store", store, "--shard-size", "5", "--progress-every", "0.01", "-v")
    gated.assert_outcomes(passed=7)  # gated against the references the local run recorded
    gated.stdout.fnmatch_lines(["*progress: cells 0/7, shards 0/3*", "*node * units/s*"])
    assert rows(ray_dir) == rows(local) and len(rows(local)) == 7
    compare = subprocess.run([sys.executable, "-m", "harness", "compare", str(local), str(ray_dir)],
                             capture_output=True, text=True)
    assert compare.returncode == 0, compare.stdout + compare.stderr
    assert "7 cells compared, 0 breaches" in compare.stdout
    first = json.loads((ray_dir / "executor.json").read_text())
    assert first["shards_computed"] == 3 and first["shards_from_store"] == 0
    assert sum(n["units"] for n in first["nodes"].values()) == 12  # per-node throughput recorded



def test_ray_executor_refuses_xdist(pytester: pytest.Pytester):
    import xdist  # noqa: F401  (a declared dependency: absent, the test fails)
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    result = pytester.runpytest_inprocess("--executor", "ray", "-n", "2", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--executor ray*without -n*"])
