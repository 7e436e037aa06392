"""Seed 001 §10.1.9 test cases over the recorded sweep of the generic cells (references are regression
records of measured runs; each cell of tests/scenarios/test_cells.py gates the measurement against them).

The test case of table 10.1.9-1: at least ``min_configs_in_range`` coder configurations whose WER lies within
[werAnc, werAnc + ``wer_range_points``]; the embedded model's sweep must discriminate (its coarsest
configuration costs >= 5 WER points) and must measure something (anchor WER within 1 %..10 %).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.asr.rd_report import RdPoint, summarize
from harness.coders import make_coder
from harness.matrix import scenario_matrix
from harness.references import get_reference
from harness.report.plots import save_rd_plot
from harness.scenarios.asr import AsrScenario
from harness.scenarios.base import RunContext
from harness.scenarios.model_coding import ANCHOR

pytestmark = pytest.mark.asr
MATRIX = scenario_matrix(AsrScenario)


def recorded_sweep(model_name: str, device: str) -> tuple[dict, list[RdPoint]]:
    scenario = AsrScenario(MATRIX, RunContext(devices=(device,)))
    cells = [c for c in scenario.cells() if c["model_name"] == model_name]
    anchor = get_reference(next(c for c in cells if c["coder_name"] == ANCHOR).reference_key)
    if anchor is None:
        pytest.skip(f"no references recorded for {model_name}/{device}")
    points = []
    for cell in cells:
        if cell["coder_name"] != ANCHOR:
            ref = get_reference(cell.reference_key)
            assert ref is not None, f"no reference for {cell.id}"
            points.append(RdPoint(cell["coder_name"], ref["rec_size"] / anchor["anc_size"], ref["wer"]))
    return anchor, points


@pytest.mark.parametrize("model_name", list(MATRIX["models"]))
def test_case_of_table_10_1_9(model_name: str, device: str, results_dir: Path, record_result) -> None:
    anchor, points = recorded_sweep(model_name, device)
    summary = summarize(points, anchor["wer"], MATRIX["wer_range_points"], MATRIX["min_configs_in_range"])
    record_result({"scenario_name": "asr", "model_name": model_name,
                   "data_set_name": AsrScenario(MATRIX, RunContext()).data_set_name(model_name), "device": device,
                   "metric_name": "test_case", "anc_perf": anchor["wer"], "configs_in_range": len(summary.in_range),
                   "test_case_satisfied": summary.satisfied})
    plot = save_rd_plot(points, anchor["wer"], results_dir / f"asr_rd_{model_name}_{device}.png",
                        f"{model_name}: wer vs cSize", MATRIX["wer_range_points"])
    assert plot.stat().st_size > 1000
    assert summary.satisfied, f"only {summary.in_range} within werAnc + {MATRIX['wer_range_points']} points"


def test_embedded_sweep_measures_and_discriminates(device: str) -> None:
    anchor, points = recorded_sweep("asr_small", device)
    assert 0.01 <= anchor["wer"] <= 0.10, f"anchor WER {anchor['wer']:.4f} outside 1%..10%"
    coarsest = min(points, key=lambda p: p.c_size)
    assert coarsest.wer >= anchor["wer"] + 0.05, f"coarsest {coarsest.coder}: WER {coarsest.wer:.4f}"
    # sizes follow the coders' declared precision: raw >= anchor, fp16 about half, int8 about a quarter
    by_family = {make_coder(p.coder).name: p for p in points if not make_coder(p.coder).rate_param}
    assert by_family["raw"].c_size > 1.0 and by_family["fp16"].c_size < 0.51 and by_family["int8"].c_size < 0.26
