"""Scenario ``asr`` (seed 001 §10.1, marker ``asr``): compressed ASR models scored by word error rate.

Models (matrix/asr.yaml): ``asr_small`` (embedded default, evaluated on the embedded synthetic set), and
``wav2vec2_asr_base_960h`` / ``hubert_asr_large`` (torchaudio bundles, weights from --data-dir or the torch hub
cache, LibriSpeech test-clean/dev-clean under --data-dir). Nothing is downloaded. The seed-shaped task of one
model is :class:`harness.asr.task.AsrTask`; :class:`AsrScenario` is the matrix of models x coders.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from harness.asr import pretrained
from harness.asr.rd_report import RdPoint, summarize
from harness.asr.task import EMBEDDED_SET, AsrTask, build_task, data_set_name
from harness.coders import make_coder
from harness.datasets.librispeech import librispeech_root
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric
from harness.scenarios.model_coding import ANCHOR, ModelCodingScenario


@SCENARIOS.register("asr")
class AsrScenario(ModelCodingScenario):
    description = "ASR model-compression scenario (seed 001 §10.1: wav2vec2/HuBERT, embedded CTC model by default)"
    metrics = (
        Metric("wer", "fraction", higher_is_better=False),
        Metric("rec_size", "bytes"),
        Metric("anc_size", "bytes"),
    )
    matrix_keys = {
        **ModelCodingScenario.matrix_keys,
        "aux_num_out": "output labels of the ASR bundles (structure tests)",
        "wer_range_points": "table 10.1.9-1: werAnc .. werAnc + this many points",
        "min_configs_in_range": "table 10.1.9-1: configurations needed inside that range",
    }

    def data_set_name(self, model_name: str) -> str:
        return data_set_name(self.matrix["models"][model_name])

    def make_task(self, model_name: str, device: str) -> AsrTask:
        return build_task(model_name, self.matrix["models"], device, self.context.data_dir)

    def missing_reason(self, cell: Cell) -> str | None:
        entry = self.matrix["models"][cell["model_name"]]
        if entry["data_set"] != EMBEDDED_SET and self.context.data_dir is None:
            # without --data-dir there is no task to build: name the weights file and the data set to provide
            return (pretrained.missing_weights_reason(entry["bundle"], None) or "") + \
                f"; {cell['model_name']} also needs LibriSpeech test-clean under --data-dir DIR at " \
                f"{librispeech_root(Path('DIR')) / 'LibriSpeech' / 'test-clean'}"
        return super().missing_reason(cell)

    def run_cell(self, cell: Cell) -> CellOutcome:
        torch.set_num_threads(1)  # 2 shared cores; the seed evaluates one utterance at a time anyway
        return super().run_cell(cell)

    def check_run(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Seed 001 table 10.1.9-1 over each model's sweep in this run: at least ``min_configs_in_range``
        coder configurations with a WER within [werAnc, werAnc + ``wer_range_points``]; for the embedded model
        also that the sweep measures something (anchor WER 1 %..10 %) and discriminates (its coarsest
        configuration costs at least 5 WER points)."""
        verdicts = []
        by_cell = {(r.get("model_name"), r.get("device"), r.get("coder_name")): r for r in rows
                   if r.get("scenario_name") == self.name and r.get("status") == "pass"}
        coders = [make_coder(spec).spec for spec in self.matrix["coders"]]
        for model_name in self.matrix["models"]:
            for device in self.context.devices:
                anchor = by_cell.get((model_name, device, ANCHOR))
                sweep = [by_cell.get((model_name, device, coder)) for coder in coders]
                if anchor is None or None in sweep:
                    continue  # not every cell of the sweep ran (or passed) here: nothing to judge
                verdicts.append(self.test_case_row(model_name, device, anchor, sweep))
        return verdicts

    def test_case_row(self, model_name: str, device: str, anchor: Mapping[str, Any],
                      sweep: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        wer_anc = float(anchor["rec_perf"])
        points = [RdPoint(str(r["coder_name"]), float(r["rec_size"]) / float(r["anc_size"]), float(r["rec_perf"]))
                  for r in sweep]
        summary = summarize(points, wer_anc, self.matrix["wer_range_points"], self.matrix["min_configs_in_range"])
        failures = [] if summary.satisfied else [
            f"only {len(summary.in_range)} configuration(s) within werAnc + {self.matrix['wer_range_points']} points "
            f"(table 10.1.9-1 asks for {summary.required}): {', '.join(summary.in_range) or 'none'}"]
        if self.matrix["models"][model_name]["data_set"] == EMBEDDED_SET:
            coarsest = min(points, key=lambda p: p.c_size)
            if not 0.01 <= wer_anc <= 0.10:
                failures.append(f"anchor WER {wer_anc:.4f} outside 1 %..10 %: the embedded sweep measures nothing")
            if coarsest.wer < wer_anc + 0.05:
                failures.append(f"coarsest configuration {coarsest.coder} costs {100 * (coarsest.wer - wer_anc):.2f} "
                                "WER points (< 5): the sweep does not discriminate")
        cell = Cell(self.name, (("model_name", model_name), ("data_set_name", self.data_set_name(model_name)),
                                ("device", device), ("coder_name", "test_case")))
        row = {**cell.identity_row(), "cell_id": cell.id, "metric_name": "test_case", "anc_perf": wer_anc,
               "configs_in_range": len(summary.in_range), "wer_max": summary.wer_max,
               "test_case_satisfied": summary.satisfied, "status": "fail" if failures else "pass"}
        if failures:
            row["failure"] = "; ".join(failures)
        return row
