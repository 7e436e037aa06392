"""Scenario ``asr`` (seed 001 §10.1, marker ``asr``): compressed ASR models scored by word error rate.

Models (matrix/asr.yaml): ``asr_small`` (embedded default, evaluated on the embedded synthetic set), and
``wav2vec2_asr_base_960h`` / ``hubert_asr_large`` (torchaudio bundles, weights from --data-dir or the torch hub
cache, LibriSpeech test-clean/dev-clean under --data-dir). Nothing is downloaded. The seed-shaped task of one
model is :class:`harness.asr.task.AsrTask`; :class:`AsrScenario` is the matrix of models x coders.
"""
from __future__ import annotations

from pathlib import Path

import torch

from harness.asr import pretrained
from harness.asr.task import EMBEDDED_SET, AsrTask, build_task, data_set_name
from harness.datasets.librispeech import librispeech_root
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric
from harness.scenarios.model_coding import ModelCodingScenario


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
