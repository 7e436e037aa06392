"""Structural conformance without weights: numParam and sizeAnc of seed table 10.1.4-1."""
from __future__ import annotations

import pytest
import torchaudio

from harness.asr import pretrained
from harness.matrix import scenario_matrix
from harness.scenarios.asr import AsrScenario
from harness.scenarios.model_coding import anchor_size_bytes

pytestmark = pytest.mark.asr
MODELS = [name for name, entry in scenario_matrix(AsrScenario)["models"].items() if entry["source"] == "torchaudio"]


@pytest.mark.parametrize("model_name", MODELS)
def test_param_count_and_size_match_table(model_name: str) -> None:
    entry = scenario_matrix(AsrScenario)["models"][model_name]
    model = getattr(torchaudio.models, entry["constructor"])(aux_num_out=scenario_matrix(AsrScenario)["aux_num_out"])
    num_params = sum(p.numel() for p in model.parameters())
    # table 10.1.4-1: numParam in millions to one decimal, sizeAnc = numParam * 32 bit in 10^6 bit, rounded
    assert round(num_params / 1e6, 1) == entry["num_param_m"]
    assert round(num_params * 32 / 1e6) == entry["size_anc_mbit"]
    # the anchor file (case a of §10.1.7) is the state_dict at 4 bytes per value: nothing but the parameters
    assert anchor_size_bytes(model) * 8 == num_params * 32
    # the bundle's own configuration builds the same architecture
    bundle_model = pretrained.untrained_model(entry["bundle"])
    assert sum(p.numel() for p in bundle_model.parameters()) == num_params
    assert {k: tuple(v.shape) for k, v in bundle_model.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in model.state_dict().items()}
