"""Scenario ``asr`` (seed 001 §10.1, marker ``asr``): compressed ASR models scored by word error rate.

Models (matrix/asr.yaml): ``asr_small`` (embedded default, evaluated on the embedded synthetic set), and
``wav2vec2_asr_base_960h`` / ``hubert_asr_large`` (torchaudio bundles, weights from --data-dir or the torch hub
cache, LibriSpeech test-clean/dev-clean under --data-dir). Nothing is downloaded. :class:`AsrTask` is the
seed-shaped scenario of one model; :class:`AsrScenario` the matrix of models x coders.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from harness.asr import embedded, pretrained
from harness.asr.evaluate import WerResult, timed_wer
from harness.asr.labels import LABELS
from harness.datasets.librispeech import LibriSpeechSet, librispeech_root
from harness.matrix import scenario_matrix
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric
from harness.scenarios.model_coding import ModelCodingScenario, SeedScenario

DATA_SETS = ("embedded", "librispeech")
PARTITIONS = {"test": "test-clean", "valid": "dev-clean"}


@dataclass(frozen=True)
class AsrOptions:
    """The S-parameters of seed table 2.1.2.2-1 that this scenario uses."""

    model_name: str = "asr_small"
    data_set_name: str = "embedded"
    data_dir: Path | None = None
    device: str = "cpu"


class AsrTask(SeedScenario):
    """Seed 001 Fig. 2.1.2.4-1 for one ASR model."""

    metric_name = "wer"

    def __init__(self, opts: AsrOptions = AsrOptions(), models: dict | None = None) -> None:
        models = models if models is not None else scenario_matrix(AsrScenario)["models"]
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
        if partition not in PARTITIONS:
            raise ValueError(f"unknown partition {partition!r}; use 'test' or 'valid'")
        if self.opts.data_set_name == "embedded":
            if partition != "test":
                raise ValueError("the embedded ASR set has only a 'test' partition; use --data-dir with LibriSpeech "
                                 "dev-clean for data-dependent optimisation")
            return LibriSpeechSet(embedded.EVAL_ROOT, "test-clean")
        return LibriSpeechSet(librispeech_root(self.opts.data_dir), PARTITIONS[partition])

    def get_perf(self, model: torch.nn.Module, partition: str = "test",
                 enforce_higher_is_better: bool = False) -> tuple[float, float]:
        """(WER as a fraction, seconds); with enforce_higher_is_better, word accuracy 1 - WER instead."""
        result, seconds = timed_wer(model, self.dataset(partition), LABELS, device=self.opts.device)
        self.last_wer = result
        return (1.0 - result.wer if enforce_higher_is_better else result.wer), seconds


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
        source = self.matrix["models"][model_name]["data_set"]
        return "embedded" if source == "embedded" else "librispeech-test-clean"

    def make_task(self, model_name: str, device: str) -> AsrTask:
        entry = self.matrix["models"][model_name]
        embedded_set = entry["data_set"] == "embedded"
        opts = AsrOptions(model_name, "embedded" if embedded_set else "librispeech",
                          None if embedded_set else self.context.data_dir, device)
        return AsrTask(opts, self.matrix["models"])

    def missing_reason(self, cell: Cell) -> str | None:
        entry = self.matrix["models"][cell["model_name"]]
        if entry["data_set"] != "embedded" and self.context.data_dir is None:
            # without --data-dir there is no task to build: name the weights file and the data set to provide
            return (pretrained.missing_weights_reason(entry["bundle"], None) or "") + \
                f"; {cell['model_name']} also needs LibriSpeech test-clean under --data-dir DIR at " \
                f"{librispeech_root(Path('DIR')) / 'LibriSpeech' / 'test-clean'}"
        return super().missing_reason(cell)

    def run_cell(self, cell: Cell) -> CellOutcome:
        torch.set_num_threads(1)  # 2 shared cores; the seed evaluates one utterance at a time anyway
        return super().run_cell(cell)
