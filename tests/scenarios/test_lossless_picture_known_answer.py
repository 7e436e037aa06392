"""HEVC and JPEG 2000 in lossless mode after the Q-layer: part 2 receives the Q-layer's reconstruction exactly
(the ssd scenario's check, which a wrong digest or another bit depth must fail)."""
from __future__ import annotations

import pytest

from harness.matrix import scenario_matrix
from harness.scenarios import SCENARIOS
from harness.scenarios.base import RunContext

pytestmark = pytest.mark.ssd


def test_the_check_accepts_the_codec_and_rejects_another_reconstruction(tmp_path) -> None:
    cls = SCENARIOS.get("ssd")
    matrix = dict(scenario_matrix(cls), detectors=[{"detector": "ssd_small", "dataset": "shapes50_selected"}],
                  splits=[90], coders=["hevc:lossless=1,bits=8"])
    scenario = cls(matrix, RunContext(devices=("cpu",), results_dir=tmp_path))
    cell = next(c for c in scenario.cells() if c["coder_name"].startswith("hevc"))
    outcome = scenario.run_cell(cell)
    scenario.check_cell(cell, outcome)  # x265 lossless: exactly the 8-bit Q-layer reconstruction
    with pytest.raises(AssertionError, match="differ from the Q-layer's 7-bit reconstruction"):
        scenario.check_lossless_picture_coder(cell, 7, outcome)
    outcome.columns["part2_input_sha256"] = "0" * 64
    with pytest.raises(AssertionError, match="differ from the Q-layer's 8-bit"):
        scenario.check_cell(cell, outcome)
