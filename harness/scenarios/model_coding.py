"""The model-coding family of scenarios (:class:`ModelCodingScenario`; ASR now): a coder from harness.coders
applied to a model's state_dict (:mod:`harness.coders.model_state`), each model and its evaluation given by the
seed's per-model interface (:class:`harness.models.task.SeedScenario`: get_model,
download_data_and_models, get_perf), which the model packages implement (e.g. :mod:`harness.asr.task`).

The anchor's size is its state_dict stored uncompressed; a coded model's size is the coder's container, so it
is exactly what would be transmitted.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from typing import Any, Mapping

import torch

from harness.coders import Coder, make_coder
from harness.coders.model_state import code_model, state_dict_arrays, states_identical
from harness.models.task import SeedScenario
from harness.scenarios.base import Cell, CellOutcome, RunContext, Scenario


def anchor_size_bytes(model: torch.nn.Module) -> int:
    """Size of the anchor as stored uncompressed: every state_dict value at its own width (float32: 4 bytes)."""
    return sum(t.numel() * t.element_size() for t in model.state_dict().values())


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
    # the decoded weights against the anchor's, bit for bit (a lossless coder must reproduce the state dict)
    identical = states_identical(state_dict_arrays(anchor.model), state_dict_arrays(coded.model))
    return {
        "state_identical": identical,
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
            # a lossless coder gives back the anchor's state dict bit for bit, hence exactly its performance
            assert outcome.columns["state_identical"], f"lossless {cell['coder_name']} changed the weights"
            assert outcome.columns["rec_perf"] == outcome.columns["anc_perf"], \
                f"lossless {cell['coder_name']} changed {outcome.columns['metric_name']}"
