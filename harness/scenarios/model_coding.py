"""Model coding (seed 001 §2.1.2.1/§2.1.2.5): a coder from harness.coders applied to a model's state_dict,
and the model-coding family of scenarios built on it (:class:`ModelCodingScenario`; ASR now, bit-incremental
delivery next), which keeps the seed's per-model interface (:class:`SeedScenario`: get_model,
download_data_and_models, get_perf).

The anchor's state_dict becomes ``{name: float32 ndarray}``; the bitstream is the coder's container, so its
size is exactly what would be transmitted. Decoding rebuilds the tensors and loads them into a fresh copy of
the architecture after checking every name, shape and dtype (a mismatch names the tensor).
"""
from __future__ import annotations

import copy
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import torch

from harness.coders import Coder, decode_any, make_coder
from harness.scenarios.base import Cell, CellOutcome, RunContext, Scenario


class ModelMismatchError(ValueError):
    """A decoded state_dict that does not fit the model architecture."""


@dataclass
class CodedModel:
    model: torch.nn.Module
    bitstream: bytes
    enc_time: float
    dec_time: float

    @property
    def rec_size(self) -> int:
        return len(self.bitstream)


def state_dict_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """The state_dict as numpy arrays (CPU, contiguous), in the model's own order."""
    return {name: tensor.detach().cpu().contiguous().numpy() for name, tensor in model.state_dict().items()}


def anchor_size_bytes(model: torch.nn.Module) -> int:
    """Size of the anchor as stored uncompressed: every state_dict value at its own width (float32: 4 bytes)."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


def load_decoded(template: torch.nn.Module, decoded: dict[str, np.ndarray]) -> torch.nn.Module:
    """A copy of ``template`` holding ``decoded``; raises ModelMismatchError naming the first misfit tensor."""
    expected = template.state_dict()
    missing = [name for name in expected if name not in decoded]
    if missing:
        raise ModelMismatchError(f"decoded state_dict lacks tensor {missing[0]!r} of the architecture "
                                 f"({len(missing)} missing in all)")
    extra = [name for name in decoded if name not in expected]
    if extra:
        raise ModelMismatchError(f"decoded state_dict has tensor {extra[0]!r}, which the architecture does not have")
    for name, want in expected.items():
        got = decoded[name]
        if tuple(got.shape) != tuple(want.shape):
            raise ModelMismatchError(f"decoded tensor {name!r} has shape {tuple(got.shape)}, "
                                     f"the architecture expects {tuple(want.shape)}")
        if str(want.dtype).replace("torch.", "") != got.dtype.name:
            raise ModelMismatchError(f"decoded tensor {name!r} has dtype {got.dtype.name}, "
                                     f"the architecture expects {str(want.dtype).replace('torch.', '')}")
    model = copy.deepcopy(template)
    model.load_state_dict({name: torch.from_numpy(np.array(arr, copy=True)) for name, arr in decoded.items()})
    return model.eval()


def code_model(model: torch.nn.Module, coder: Coder) -> CodedModel:
    """Encode the model's state_dict with ``coder``, decode it (with the coder named in the bitstream)."""
    arrays = state_dict_arrays(model)
    start = time.perf_counter()
    bitstream = coder.encode(arrays)
    enc_time = time.perf_counter() - start
    start = time.perf_counter()
    decoded = decode_any(bitstream)
    dec_time = time.perf_counter() - start
    return CodedModel(load_decoded(model, decoded), bitstream, enc_time, dec_time)


# --- the model-coding family of scenarios -------------------------------------------------------------------

class SeedScenario(ABC):
    """The Scenario interface of seed 001 Fig. 2.1.2.4-1 for ONE model: what a member's own evaluation
    script implements. A :class:`ModelCodingScenario` builds one per model of its matrix."""

    metric_name: str = "MetricOfScenario"

    @abstractmethod
    def get_model(self, pre_trained: bool = True) -> Any:
        """The anchor model (pre-trained) or the same architecture un-initialised."""

    @abstractmethod
    def download_data_and_models(self) -> None:
        """Make sure models and data are available. This suite never downloads: it raises an error that says
        which file to provide and where."""

    @abstractmethod
    def get_perf(self, model: Any, partition: str = "test", enforce_higher_is_better: bool = False) -> tuple[float, float]:
        """(performance, inference plus measurement time in seconds) on the "test" or "valid" partition."""

    def missing_reason(self) -> str | None:
        """Why the model or its data cannot be had here (None when they can)."""
        return None


@dataclass(frozen=True)
class AnchorResult:
    model: torch.nn.Module
    size: int
    perf: float
    eval_time: float


def evaluate_anchor(task: SeedScenario) -> AnchorResult:
    model = task.get_model(pre_trained=True)
    perf, seconds = task.get_perf(model, "test")
    return AnchorResult(model, anchor_size_bytes(model), perf, seconds)


def evaluate_coder(task: SeedScenario, anchor: AnchorResult, coder: Coder) -> dict[str, Any]:
    """The main evaluation process of seed 001 Fig. 2.1.2.1-1 for one coder: encode, decode, measure; the
    columns of table 2.1.2.3-1 (the anchor's performance is passed in, so a sweep evaluates it once)."""
    coded = code_model(anchor.model, coder)
    perf, seconds = task.get_perf(coded.model, "test")
    return {
        "anc_size": anchor.size,
        "rec_size": coded.rec_size,
        "compress_ratio": coded.rec_size / anchor.size,
        "metric_name": task.metric_name,
        "anc_perf": anchor.perf,
        "rec_perf": perf,
        "anc_eval_time": anchor.eval_time,
        "rec_eval_time": seconds,
        "enc_time": coded.enc_time,
        "dec_time": coded.dec_time,
    }


ANCHOR = "anchor"  # coder_name of the cell that evaluates the uncoded model


class ModelCodingScenario(Scenario):
    """Cells: model x device x (anchor, then every coder of the matrix). A subclass provides the seed-shaped
    scenario of one model (:meth:`task`) and the name of its data set; the family does the rest: the anchor
    evaluated once per model and process, the coders applied to the state_dict, sizes and the metric gated."""

    family = "model_coding"
    matrix_keys = {"models": "model name -> source and table figures", "coders": "coder specs, finest first"}
    required_matrix_keys = ("models", "coders")

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(matrix, context)
        self._anchors: dict[tuple[str, str], AnchorResult] = {}
        self._tasks: dict[tuple[str, str], SeedScenario] = {}

    @abstractmethod
    def make_task(self, model_name: str, device: str) -> SeedScenario:
        """The seed-shaped scenario of one model (may raise ValueError for an impossible combination)."""

    @abstractmethod
    def data_set_name(self, model_name: str) -> str:
        """The data set a model is evaluated on (a results column and part of the cell identity)."""

    def task(self, model_name: str, device: str) -> SeedScenario:
        key = (model_name, device)
        if key not in self._tasks:
            self._tasks[key] = self.make_task(model_name, device)
        return self._tasks[key]

    def cells(self) -> list[Cell]:
        cells = []
        for model_name in self.matrix["models"]:
            for device in self.context.devices:
                for coder_name in [ANCHOR, *(make_coder(spec).spec for spec in self.matrix["coders"])]:
                    axes = (("model_name", model_name), ("data_set_name", self.data_set_name(model_name)),
                            ("device", device), ("coder_name", coder_name))
                    cells.append(Cell(self.name, axes))
        return cells

    def missing_reason(self, cell: Cell) -> str | None:
        return self.task(cell["model_name"], cell["device"]).missing_reason()

    def anchor(self, model_name: str, device: str) -> AnchorResult:
        key = (model_name, device)
        if key not in self._anchors:
            self._anchors[key] = evaluate_anchor(self.task(model_name, device))
        return self._anchors[key]

    def run_cell(self, cell: Cell) -> CellOutcome:
        task = self.task(cell["model_name"], cell["device"])
        anchor = self.anchor(cell["model_name"], cell["device"])
        metric = task.metric_name
        if cell["coder_name"] == ANCHOR:
            columns = {"metric_name": metric, "anc_perf": anchor.perf, "rec_perf": anchor.perf,
                       "anc_size": anchor.size, "anc_eval_time": anchor.eval_time}
            return CellOutcome({metric: anchor.perf, "anc_size": anchor.size}, columns)
        row = evaluate_coder(task, anchor, make_coder(cell["coder_name"]))
        return CellOutcome({metric: row["rec_perf"], "rec_size": row["rec_size"]}, row)

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        if cell["coder_name"] != ANCHOR and make_coder(cell["coder_name"]).is_lossless:
            # a lossless coder gives back the anchor's weights, hence exactly its performance
            assert outcome.columns["rec_perf"] == outcome.columns["anc_perf"], \
                f"lossless {cell['coder_name']} changed {outcome.columns['metric_name']}"
