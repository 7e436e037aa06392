"""The gating path of a platform without references of its own (a CUDA host), proven on CPU.

No GPU is lent to this project, so the path a CUDA cell takes is run here on a second execution configuration
of the CPU (onnxruntime with graph optimisations disabled and two threads: ``--ort-optimization disable
--ort-threads 2`` in a pytest run), which the suite labels as another platform. Its cells are gated against
the CPU references by the plugin's own selection (:func:`harness.pytest_plugin.cells.reference_for`) and the
cross-platform bands of tolerances.yaml, exactly as a CUDA cell would be; then

* tensors that differ in their last bit, as another provider's kernels give, are accepted by the bands and
  rejected by the same-platform tolerances (so the bands are what let a second platform pass);
* a coder that drops one bit of its quantiser, a real regression, is rejected by the bands.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.coders import make_coder
from harness.coders import qlayer as qlayer_module
from harness.detection.part1 import Part1Runner
from harness.matrix import scenario_matrix
from harness.pytest_plugin.cells import reference_for
from harness.references import REFERENCES_PATH, SAME_PLATFORM, ReferenceBreach, check_against_reference
from harness.runtime import OPTIMIZATION_VARIABLE, THREADS_VARIABLE, platform_label
from harness.scenarios import SCENARIOS
from harness.scenarios.base import RunContext

pytestmark = pytest.mark.ssd
pytest_plugins = ["pytester"]

SPLIT = 90
CODERS = ("nncodec:qp=-18", "qlayer:bits=8", "hevc:qp=27,bits=8")
RELATIVE_ERROR = 1e-5


@pytest.fixture
def second_platform(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(THREADS_VARIABLE, "2")
    monkeypatch.setenv(OPTIMIZATION_VARIABLE, "disable")
    return platform_label("cpu")


def ssd_cells(tmp_path: Path):
    cls = SCENARIOS.get("ssd")
    matrix = dict(scenario_matrix(cls), detectors=[{"detector": "ssd_small", "dataset": "shapes50_selected"}],
                  splits=[SPLIT], coders=list(CODERS))
    scenario = cls(matrix, RunContext(devices=("cpu",), results_dir=tmp_path))
    return scenario, [c for c in scenario.cells() if c["coder_name"] != "anchor"]


def gate_all(scenario, cells, same_platform: bool = False) -> list[str]:
    """Run and gate every cell as the plugin does; the breach messages (empty: all within tolerance)."""
    failures = []
    for cell in cells:
        keys, gate, reference_platform = reference_for(scenario, cell, None, REFERENCES_PATH)
        assert reference_platform == "cpu" and gate.cross_platform and keys == cell.reference_key
        outcome = scenario.run_cell(cell)
        scenario.check_cell(cell, outcome)
        try:
            check_against_reference(keys, scenario.gated(outcome), gate=SAME_PLATFORM if same_platform else gate)
        except ReferenceBreach as breach:
            failures.append(str(breach))
    return failures


def last_bit_noise(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Part 1's tensors moved by a seeded relative error of 1e-5 (normal), the size of the differences between
    the convolution kernels of two providers in float32 (in a cache of their own: the suite's holds the unmoved
    features)."""
    monkeypatch.setenv("HARNESS_CACHE_DIR", str(tmp_path / "cache"))
    original = Part1Runner.run

    def run(self, image_ids):
        shard = original(self, image_ids)
        rng = np.random.default_rng(7)
        for per_image in shard.features.values():
            for tensors in per_image.values():
                for name, value in tensors.items():
                    tensors[name] = (value * (1 + RELATIVE_ERROR * rng.standard_normal(value.shape))).astype(value.dtype)
        return shard

    monkeypatch.setattr(Part1Runner, "run", run)


def test_second_platform_is_gated_against_cpu_references_with_the_bands(second_platform: str, tmp_path: Path) -> None:
    assert second_platform == "cpu[optimization=disable,threads=2]"
    scenario, cells = ssd_cells(tmp_path)
    assert [make_coder(c["coder_name"]).size_depends_on_values for c in cells] == [True] * len(CODERS)
    assert gate_all(scenario, cells) == []


def test_last_bit_differences_pass_the_bands_but_not_the_same_platform_tolerances(
        second_platform: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    last_bit_noise(monkeypatch, tmp_path)
    scenario, cells = ssd_cells(tmp_path)
    assert gate_all(scenario, cells) == []
    scenario, cells = ssd_cells(tmp_path)
    exact = gate_all(scenario, cells, same_platform=True)
    assert exact and any("compressed_bytes" in f for f in exact), exact


def test_a_coder_that_drops_one_bit_is_rejected_by_the_bands(second_platform: str, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    original = qlayer_module.quantise

    def one_bit_less(array, bits):
        lo, hi, q = original(array, bits)
        return lo, hi, (q >> 1) << 1  # the least significant bit of every sample lost

    monkeypatch.setattr(qlayer_module, "quantise", one_bit_less)
    scenario, cells = ssd_cells(tmp_path)
    failures = gate_all(scenario, [c for c in cells if c["coder_name"].startswith("qlayer")])
    assert len(failures) == 1 and "compressed_bytes" in failures[0], failures


@pytest.mark.parametrize("cell_device, overrides, reference_device, recorded, expected", [
    ("cpu", False, None, ("cpu",), ("cpu", False)),          # the reference platform: its own, exact
    ("cuda", False, None, ("cpu",), ("cpu", True)),          # no CUDA references: CPU's, cross-platform
    ("cuda", False, None, ("cpu", "cuda"), ("cuda", False)),  # CUDA references of its own: those, exact
    ("cuda", False, "cpu", ("cpu", "cuda"), ("cpu", True)),   # --reference-device cpu asks for CPU's anyway
    ("cpu", True, None, ("cpu",), ("cpu", True)),            # another execution configuration of the CPU
])
def test_reference_selection(cell_device, overrides, reference_device, recorded, expected, tmp_path, monkeypatch):
    from harness.references import set_reference

    if overrides:
        monkeypatch.setenv(THREADS_VARIABLE, "3")
    scenario, _ = ssd_cells(tmp_path)
    cell = next(c for c in scenario.cells() if c["coder_name"] == "qlayer:bits=8,lossless=zlib,level=9")
    cell = type(cell)(cell.scenario, tuple((a, cell_device if a == "device" else v) for a, v in cell.axes))
    path = tmp_path / "refs.json"
    for platform in recorded:
        set_reference(cell.reference_key_on(platform), {"calc_map": 1.0}, path)
    keys, gate, reference_platform = reference_for(scenario, cell, reference_device, path)
    assert (reference_platform, gate.cross_platform) == expected
    assert keys == cell.reference_key_on(reference_platform)
    assert gate.sizes_follow_inference == gate.cross_platform  # across platforms a qlayer stream of inferred features may change size
    # recording writes the cell's own key whatever the platform: a CUDA run never overwrites CPU's references
    assert reference_for(scenario, cell, reference_device, path, update=True)[0] == cell.reference_key


def test_no_reference_is_told_apart_from_a_breach(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_demo='''
from harness.references import NoReference, ReferenceBreach
def test_missing():
    raise NoReference("s/c", "no reference at s/c")
def test_breach():
    raise ReferenceBreach("s/d", ["m: measured 2, reference 1"], [])
''')
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*1 cells out of tolerance; 1 cells without a reference*"])
