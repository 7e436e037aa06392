"""Seed 001 §10.1.9 test cases: anchor WER, the coder sweep as (cSize, wer) pairs, the >= 5 configurations
within [werAnc, werAnc + 5 points], and the RD plot of Fig. 10.1.9-1 saved with the results.

Per model one test evaluates the anchor and every coder of asr_matrix.yaml (one results row per coder) and
compares sizes and WERs with references/expected_metrics.json (key "asr"). torchaudio models skip with the
file to provide when their weights or LibriSpeech are absent.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest

from harness.asr.rd_report import RdPoint, save_rd_plot, summarize
from harness.scenarios import SCENARIOS
from harness.scenarios.asr import load_matrix
from harness.scenarios.evaluation import evaluate_coder

pytestmark = pytest.mark.asr
MODELS = list(load_matrix()["models"])


@pytest.mark.slow
@pytest.mark.parametrize("model_name", MODELS)
def test_case_sweep(model_name: str, device: str, asr_anchor: Callable, results_dir: Path,
                    record_result: Callable[[dict[str, Any]], None],
                    check_reference: Callable[[list[str], dict[str, Any]], None]) -> None:
    matrix = load_matrix()
    opts, anchor = asr_anchor(model_name, device)
    scenario = SCENARIOS.get("asr")(opts)
    data_set = "embedded" if opts.data_set_name == "embedded" else "librispeech-test-clean"
    check_reference(["asr", model_name, data_set, "anchor"], {"wer": anchor.perf, "anc_size": anchor.size})
    if model_name == "asr_small":
        # the embedded set must measure something: neither perfect nor broken
        assert 0.01 <= anchor.perf <= 0.10, f"anchor WER {anchor.perf:.4f} outside 1%..10%"
    points = []
    for spec in matrix["coders"]:
        row = evaluate_coder(scenario, anchor, spec, scenario_name="asr", data_set_name=data_set,
                             model_name=model_name)
        record_result({**row, "device": device})
        check_reference(["asr", model_name, data_set, row["coder_name"]],
                        {"rec_size": row["rec_size"], "wer": row["rec_perf"]})
        points.append(RdPoint(row["coder_name"], row["compress_ratio"], row["rec_perf"]))
    by_coder = {p.coder: p for p in points}
    assert by_coder["raw"].wer == anchor.perf  # the dummy coder is lossless
    assert by_coder["raw"].c_size > 1.0 and by_coder["fp16"].c_size < 0.51 and by_coder["int8"].c_size < 0.26
    summary = summarize(points, anchor.perf, matrix["wer_range_points"], matrix["min_configs_in_range"])
    record_result({"scenario_name": "asr", "model_name": model_name, "data_set_name": data_set, "device": device,
                   "metric_name": "test_case", "anc_perf": anchor.perf, "configs_in_range": len(summary.in_range),
                   "test_case_satisfied": summary.satisfied})
    plot = save_rd_plot(points, anchor.perf, results_dir / f"asr_rd_{model_name}_{device}.png",
                        f"{model_name}: wer vs cSize ({data_set})", matrix["wer_range_points"])
    assert plot.stat().st_size > 1000
    assert summary.satisfied, f"only {summary.in_range} within werAnc + {matrix['wer_range_points']} points"
    if model_name == "asr_small":
        # the sweep discriminates: its coarsest configuration costs at least 5 WER points
        coarsest = min(points, key=lambda p: p.c_size)
        assert coarsest.wer >= anchor.perf + 0.05, f"coarsest {coarsest.coder}: WER {coarsest.wer:.4f}"
