"""Scenario ``asr`` (seed 001 §10.1): compressed ASR models scored by word error rate.

Models: ``asr_small`` (embedded default, evaluated on the embedded synthetic set), and
``wav2vec2_asr_base_960h`` / ``hubert_asr_large`` (torchaudio bundles, weights from --data-dir or the torch hub
cache, LibriSpeech test-clean/dev-clean under --data-dir). Nothing is downloaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
import yaml

from harness.asr import embedded, pretrained
from harness.asr.evaluate import WerResult, timed_wer
from harness.asr.labels import LABELS
from harness.datasets.librispeech import LibriSpeechSet
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Scenario

MATRIX_PATH = Path(__file__).with_name("asr_matrix.yaml")
DATA_SETS = ("embedded", "librispeech")
PARTITIONS = {"test": "test-clean", "valid": "dev-clean"}


@lru_cache(maxsize=1)
def load_matrix() -> dict[str, Any]:
    return yaml.safe_load(MATRIX_PATH.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class AsrOptions:
    """The S-parameters of seed table 2.1.2.2-1 that this scenario uses."""

    model_name: str = "asr_small"
    data_set_name: str = "embedded"
    data_dir: Path | None = None
    device: str = "cpu"


@SCENARIOS.register("asr")
class AsrScenario(Scenario):
    metric_name = "wer"

    def __init__(self, opts: AsrOptions = AsrOptions()) -> None:
        models = load_matrix()["models"]
        if opts.model_name not in models:
            raise ValueError(f"unknown ASR model {opts.model_name!r}; known: {', '.join(models)}")
        if opts.data_set_name not in DATA_SETS:
            raise ValueError(f"unknown ASR data set {opts.data_set_name!r}; known: {', '.join(DATA_SETS)}")
        if opts.data_set_name == "librispeech" and opts.data_dir is None:
            raise ValueError("data set 'librispeech' needs --data-dir with LibriSpeech/test-clean (and dev-clean)")
        self.opts = opts
        self.entry = models[opts.model_name]
        self.last_wer: WerResult | None = None

    @property
    def bundle_name(self) -> str | None:
        return self.entry.get("bundle")

    def missing_reason(self) -> str | None:
        """Why the pre-trained model cannot be had here (None when it can)."""
        if self.entry["source"] == "embedded":
            return embedded.missing_asset_reason()
        return pretrained.missing_weights_reason(self.bundle_name, self.opts.data_dir)

    def get_model(self, pre_trained: bool = True) -> torch.nn.Module:
        if self.entry["source"] == "embedded":
            return embedded.load_small_model(pre_trained)
        if not pre_trained:
            return pretrained.untrained_model(self.bundle_name).eval()
        return pretrained.pretrained_model(self.bundle_name, self.opts.data_dir)

    def download_data_and_models(self) -> None:
        reason = self.missing_reason()
        if reason:
            raise FileNotFoundError(reason)
        self.dataset("test")

    def dataset(self, partition: str) -> LibriSpeechSet:
        if partition not in PARTITIONS:
            raise ValueError(f"unknown partition {partition!r}; use 'test' or 'valid'")
        if self.opts.data_set_name == "embedded":
            if partition != "test":
                raise ValueError("the embedded ASR set has only a 'test' partition; use --data-dir with LibriSpeech "
                                 "dev-clean for data-dependent optimisation")
            return LibriSpeechSet(embedded.EVAL_ROOT, "test-clean")
        return LibriSpeechSet(self.opts.data_dir, PARTITIONS[partition])

    def get_perf(self, model: torch.nn.Module, partition: str = "test",
                 enforce_higher_is_better: bool = False) -> tuple[float, float]:
        """(WER as a fraction, seconds); with enforce_higher_is_better, word accuracy 1 - WER instead."""
        result, seconds = timed_wer(model, self.dataset(partition), LABELS, device=self.opts.device)
        self.last_wer = result
        return (1.0 - result.wer if enforce_higher_is_better else result.wer), seconds
