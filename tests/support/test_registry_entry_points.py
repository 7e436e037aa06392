"""Plug-ins of other distributions: a member company's wheel registers its coder and scenario through the
entry-point groups ``harness.coders`` and ``harness.scenarios``, and the suite picks them up without an edit.

The "installed wheel" is what pip leaves on disk: the package's modules plus a ``*.dist-info`` folder with
``METADATA`` and ``entry_points.txt``, on the interpreter's path. ``importlib.metadata`` finds it there exactly
as it finds a pip-installed distribution, so these tests exercise the real discovery, in a child interpreter
whose path holds the member's folder.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TOY = Path(__file__).resolve().parents[1] / "pytest_plugin" / "toy"
CELL_TEST_MODULE = Path(__file__).resolve().parents[1] / "scenarios" / "test_cells.py"

OBJECT_CODER = '''
import numpy as np
from harness.coders.base import Coder, Param


class HalfCoder(Coder):
    """float16 payload; registered by its entry point's name, not by a decorator."""

    name = "memberhalf"
    params = ()

    def encode_array(self, array):
        return array.astype("<f2").tobytes()

    def decode_array(self, payload, shape):
        return np.frombuffer(payload, "<f2").reshape(shape).astype(np.float32)
'''


def install_member_wheel(site: Path, entry_points: str, name: str = "member_codec") -> Path:
    """Lay out an installed distribution ``name`` in ``site``: the toy coder and scenario modules as package
    ``member_codec`` and its dist-info with the given entry_points.txt."""
    package = site / "member_codec"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "toy_coder.py").write_text((TOY / "toy_coder.py").read_text())
    (package / "toy_scenario.py").write_text((TOY / "toy_scenario.py").read_text())
    (package / "half.py").write_text(OBJECT_CODER)
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    return site


ENTRY_POINTS = """[harness.coders]
toyround = member_codec.toy_coder
memberhalf = member_codec.half:HalfCoder

[harness.scenarios]
toy = member_codec.toy_scenario
"""


def child(site: Path, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)


def test_coders_of_an_installed_distribution_register_and_round_trip(tmp_path: Path):
    site = install_member_wheel(tmp_path / "site", ENTRY_POINTS)
    code = """
import json
import numpy as np
from harness.coders import CODERS, decode_any, make_coder
x = np.linspace(-1, 1, 64, dtype=np.float32).reshape(8, 8)
out = {}
for spec in ("toyround:step=3", "memberhalf"):
    data = make_coder(spec).encode({"x": x})
    out[spec] = float(np.max(np.abs(decode_any(data)["x"] - x)))
print(json.dumps({"names": CODERS.names(), "errors": out}))
"""
    result = child(site, code)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert {"toyround", "memberhalf", "raw", "nncodec"} <= set(payload["names"])
    # independent bounds: half a step of the 2^-3 grid; float16's half-ulp just below 1 (2^-12)
    assert payload["errors"]["toyround:step=3"] <= 2.0 ** -3 / 2
    assert payload["errors"]["memberhalf"] <= 2.0 ** -12


def test_without_the_distribution_its_coder_is_unknown(tmp_path: Path):
    result = child(tmp_path, "from harness.coders import make_coder\nmake_coder('memberhalf')")
    assert result.returncode != 0 and "unknown coder 'memberhalf'" in result.stderr


def test_a_plug_in_that_fails_to_load_names_its_distribution(tmp_path: Path):
    site = install_member_wheel(tmp_path / "site", "[harness.coders]\nbroken = member_codec.missing_module\n",
                                name="broken_codec")
    result = child(site, "import harness.coders")
    assert result.returncode != 0
    assert "coder plug-in 'broken'" in result.stderr and "broken_codec" in result.stderr
    assert "ModuleNotFoundError" in result.stderr


def test_a_scenario_of_an_installed_distribution_runs_through_the_generic_cell_test(
        tmp_path: Path, pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch):
    site = install_member_wheel(tmp_path / "site", ENTRY_POINTS)
    (site / "member_codec" / "toy.yaml").write_text("scenario: toy\nlength: 33\ncoders: [raw, 'toyround:step=4', "
                                                     "memberhalf]\n")
    pytester.makepyfile(test_cells=CELL_TEST_MODULE.read_text())  # the member's test tree: the same two lines
    refs = pytester.path / "refs.json"
    common = ["-m", "toy", "--references", str(refs), "-p", "no:cacheprovider", "--results-dir", "out"]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    pytester.runpytest_subprocess(*common, "--update-references").assert_outcomes(passed=3)
    assert sorted(json.loads(refs.read_text())["toy"]) == ["memberhalf", "raw", "toyround:step=4"]
    gated = pytester.runpytest_subprocess(*common)
    gated.assert_outcomes(passed=3)
    rows = json.loads((pytester.path / "out" / "results.json").read_text())["rows"]
    assert {row["status"] for row in rows} == {"pass"} and {row["scenario_name"] for row in rows} == {"toy"}
