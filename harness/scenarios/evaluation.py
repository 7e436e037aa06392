"""The main evaluation process of seed 001 Fig. 2.1.2.1-1 for one coder: encode, decode, measure.

Returns one results row with the columns of table 2.1.2.3-1 plus the R-parameters of table 2.1.2.2-1.
The anchor's performance is passed in, so a sweep evaluates the anchor once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from harness.coders import make_coder
from harness.scenarios.base import Scenario
from harness.scenarios.model_coding import anchor_size_bytes, code_model


@dataclass(frozen=True)
class AnchorResult:
    model: torch.nn.Module
    size: int
    perf: float
    eval_time: float


def evaluate_anchor(scenario: Scenario) -> AnchorResult:
    model = scenario.get_model(pre_trained=True)
    perf, seconds = scenario.get_perf(model, "test")
    return AnchorResult(model, anchor_size_bytes(model), perf, seconds)


def evaluate_coder(scenario: Scenario, anchor: AnchorResult, coder_spec: str, *, scenario_name: str,
                   data_set_name: str, model_name: str) -> dict[str, Any]:
    coder = make_coder(coder_spec)
    coded = code_model(anchor.model, coder)
    perf, seconds = scenario.get_perf(coded.model, "test")
    return {
        "coder_name": coder.spec,
        "scenario_name": scenario_name,
        "data_set_name": data_set_name,
        "model_name": model_name,
        "anc_size": anchor.size,
        "rec_size": coded.rec_size,
        "compress_ratio": coded.rec_size / anchor.size,
        "metric_name": scenario.metric_name,
        "anc_perf": anchor.perf,
        "rec_perf": perf,
        "anc_eval_time": anchor.eval_time,
        "rec_eval_time": seconds,
        "enc_time": coded.enc_time,
        "dec_time": coded.dec_time,
    }
