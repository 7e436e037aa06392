"""The seed-shaped task of one ASR model (seed 001 §10.1, Fig. 2.1.2.4-1): :class:`AsrTask` gives the anchor
model and the WER of any model of its architecture.

Models are the entries of matrix/asr.yaml: ``asr_small`` (embedded default, evaluated on the embedded synthetic
set) and the torchaudio bundles (weights from --data-dir or the torch hub cache, LibriSpeech test-clean /
dev-clean under --data-dir). Nothing is downloaded. An entry names its data sets from the catalogue
(:data:`harness.datasets.DATASETS`): ``data_set`` for the test partition, ``valid_set`` (optional) for the
validation partition of data-dependent optimisation. The task lives with the ASR models rather than with the
scenario so that every user of an ASR model (the ASR scenario, bit-incremental delivery) builds the same task
from the matrix entry without going through a scenario.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from harness.asr import embedded, pretrained
from harness.asr.evaluate import WerResult, timed_wer
from harness.asr.labels import LABELS
from harness.models.task import SeedScenario
from harness.datasets import DATASETS
from harness.datasets.librispeech import LibriSpeechSet, librispeech_root
from harness.matrix import load_matrix

EMBEDDED_SET = "embedded"  # the one data set that reads nothing under --data-dir
PARTITIONS = ("test", "valid")


@dataclass(frozen=True)
class AsrOptions:
    """The S-parameters of seed table 2.1.2.2-1 that the ASR task uses."""

    model_name: str = "asr_small"
    data_set_name: str = EMBEDDED_SET  # a name of the data-set catalogue
    data_dir: Path | None = None
    device: str = "cpu"


def asr_models() -> dict[str, Any]:
    """The model entries of matrix/asr.yaml."""
    return load_matrix("asr")["models"]


def data_set_name(entry: Mapping[str, Any]) -> str:
    """The data set a model entry is evaluated on: its catalogue name, which the results carry."""
    return entry["data_set"]


def build_task(model_name: str, models: Mapping[str, Any] | None = None, device: str = "cpu",
              data_dir: Path | None = None) -> "AsrTask":
    """The task of one model entry: the embedded set for an embedded entry (``data_dir`` is not read), else
    LibriSpeech under ``data_dir``."""
    models = models if models is not None else asr_models()
    data_set = models[model_name]["data_set"]
    return AsrTask(AsrOptions(model_name, data_set, None if data_set == EMBEDDED_SET else data_dir, device), models)


class AsrTask(SeedScenario):
    """Seed 001 Fig. 2.1.2.4-1 for one ASR model."""

    metric_name = "wer"

    def __init__(self, opts: AsrOptions = AsrOptions(), models: Mapping[str, Any] | None = None) -> None:
        models = models if models is not None else asr_models()
        if opts.model_name not in models:
            raise ValueError(f"unknown ASR model {opts.model_name!r}; known: {', '.join(models)}")
        speech_sets = [name for name in DATASETS.names() if name == EMBEDDED_SET or name.startswith("librispeech")]
        if opts.data_set_name not in speech_sets:
            raise ValueError(f"unknown ASR data set {opts.data_set_name!r}; known: {', '.join(speech_sets)}")
        if opts.data_set_name != EMBEDDED_SET and opts.data_dir is None:
            raise ValueError(f"data set {opts.data_set_name!r} needs --data-dir with LibriSpeech/test-clean "
                             "(and dev-clean)")
        self.opts = opts
        self.entry = models[opts.model_name]
        self.last_wer: WerResult | None = None

    @property
    def bundle_name(self) -> str | None:
        return self.entry.get("bundle")

    def missing_reason(self) -> str | None:
        """Why the pre-trained model or its data set cannot be had here (None when they can)."""
        if self.entry["source"] == "embedded":
            return embedded.missing_asset_reason()
        reason = pretrained.missing_weights_reason(self.bundle_name, self.opts.data_dir)
        if reason:
            return reason
        root = librispeech_root(self.opts.data_dir)
        if not (root / "LibriSpeech" / "test-clean").is_dir():
            return (f"{self.opts.model_name}: LibriSpeech test-clean not found: provide {root / 'LibriSpeech'} "
                    "/test-clean as `python -m harness assets verify --data-dir DIR` lists it "
                    "(https://www.openslr.org/12)")
        return None

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
        """The catalogue's set of ``partition``: the entry's ``data_set`` (test) or ``valid_set`` (valid)."""
        if partition not in PARTITIONS:
            raise ValueError(f"unknown partition {partition!r}; use 'test' or 'valid'")
        name = self.opts.data_set_name if partition == "test" else self.entry.get("valid_set")
        if name is None:
            raise ValueError(f"{self.opts.model_name}: data set {self.opts.data_set_name!r} has only a 'test' "
                             "partition; use a model whose matrix entry names a valid_set (LibriSpeech dev-clean "
                             "under --data-dir) for data-dependent optimisation")
        return DATASETS.get(name)(self.opts.data_dir)

    def get_perf(self, model: torch.nn.Module, partition: str = "test",
                 enforce_higher_is_better: bool = False) -> tuple[float, float]:
        """(WER as a fraction, seconds); with enforce_higher_is_better, word accuracy 1 - WER instead."""
        result, seconds = timed_wer(model, self.dataset(partition), LABELS, device=self.opts.device)
        self.last_wer = result
        return (1.0 - result.wer if enforce_higher_is_better else result.wer), seconds
