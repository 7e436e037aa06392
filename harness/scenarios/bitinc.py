"""Scenario ``bitinc`` (seed 001 §10.6, marker ``bitinc``): bit-incremental model delivery.

Cells (matrix/bitinc.yaml):

* delivery cells, model x device x (low bits, high bits, update mode): the three streams of
  :func:`harness.bitinc.pipeline.deliver` and the accuracy of the low model, of low + update and of the
  direct (anchor) model, in percent (WER for asr_small, calc_map for ssd_small). Gated: the three bitstream
  sizes (exact) and the three accuracies (tolerances.yaml). Columns, not gated: the §10.6.8 timings of every
  stream (encode, decode, reconstruct; start-up latency = their sum), the times to first inference and to
  full accuracy at each downlink bandwidth of the matrix, and the crossover bandwidths.
* structure cells of the seed's classifiers (harness.models.classifiers): parameter count, state_dict bytes
  and outputs, gated, checked against the seed's figures. Their bitstream sizes take minutes each (NNCodec
  codes 0.1-0.3 M parameters per second here): tests/bitinc/test_bitinc_benchmarks.py, ``-m benchmark``.

Independent checks (``check_cell``): an exact update gives the direct model bit for bit (hence the same
accuracy); the low stream is smaller than the direct one; classifier figures as the seed states them.
Accuracy of bit-identical states is evaluated once per process (keyed by a hash of the state).
"""
from __future__ import annotations

import hashlib
from typing import Any, Mapping

import numpy as np

from harness.bitinc.delivery import Server, UpdateMode
from harness.bitinc.pipeline import STATES, STREAMS, Delivery, deliver
from harness.bitinc.subjects import Subject, load_subject
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric, RunContext, Scenario

STRUCTURE = "structure"


def state_digest(state: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name, value in state.items():
        h.update(name.encode() + value.dtype.str.encode() + str(value.shape).encode() + value.tobytes())
    return h.hexdigest()


@SCENARIOS.register("bitinc")
class BitincScenario(Scenario):
    description = "bit-incremental model delivery (seed 001 §10.6): low-precision model, then an update"
    metrics = (
        *(Metric(f"{s}_perf", "percent") for s in ("low", "update", "high")),
        *(Metric(f"{s}_bytes", "bytes") for s in STREAMS),
        *(Metric(f"{s}_startup_s", "s", gates=False) for s in STREAMS),
        Metric("parameters", "count"), Metric("state_bytes", "bytes"), Metric("outputs", "count"),
    )
    matrix_keys = {
        "models": "model name -> data_set (harness.bitinc.subjects)",
        "deliveries": "list of {low_bits, high_bits, update: exact | lossy:qp=Q[, models: [names]]} (default: "
                      "every model)",
        "bandwidths_mbps": "downlink bandwidths (Mbit/s) for the time to first inference / full accuracy",
        "classifiers": "seed §10.6.4 classifiers (harness.models.classifiers) checked as structure",
    }
    required_matrix_keys = ("models", "deliveries", "bandwidths_mbps")

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(matrix, context)
        self._subjects: dict[tuple[str, str], Subject] = {}
        self._servers: dict[tuple[str, str], Server] = {}
        self._perf: dict[tuple[str, str], tuple[float, float]] = {}

    # --- cells ---------------------------------------------------------------------------------------
    def cells(self) -> list[Cell]:
        cells = []
        for name, entry in self.matrix["models"].items():
            cells += self._delivery_cells(name, entry.get("data_set", "none"), self.matrix["deliveries"])
        for name in self.matrix.get("classifiers") or []:
            cells.append(Cell(self.name, (("model_name", name), ("check", STRUCTURE))))
        return cells

    def _delivery_cells(self, model: str, data_set: str, deliveries: list) -> list[Cell]:
        cells = []
        for device in self.context.devices:
            for item in deliveries:
                if model not in item.get("models", [model]):
                    continue
                mode = UpdateMode.parse(item["update"])
                axes = (("model_name", model), ("data_set_name", data_set), ("device", device),
                        ("low_bits", int(item["low_bits"])), ("high_bits", int(item["high_bits"])),
                        ("update", mode.label))
                cells.append(Cell(self.name, axes))
        return cells

    def missing_reason(self, cell: Cell) -> str | None:
        if cell.get("check") == STRUCTURE:
            return None
        if cell["device"] == "cuda":
            from harness.runtime import cuda_unavailable_reason

            reason = cuda_unavailable_reason()
            if reason:
                return reason
        try:
            self.subject(cell["model_name"], cell["device"])  # loaded once; names the file it lacks
        except FileNotFoundError as exc:
            return str(exc)
        return None

    # --- shared per process ----------------------------------------------------------------------------
    def subject(self, model: str, device: str) -> Subject:
        key = (model, device)
        if key not in self._subjects:
            self._subjects[key] = load_subject(model, self.context.data_dir, device)
        return self._subjects[key]

    def server(self, model: str, device: str) -> Server:
        """One quantisation per model at the highest precision of its cells; model streams encoded once."""
        key = (model, device)
        if key not in self._servers:
            top = max(c["high_bits"] for c in self.cells() if c.get("model_name") == model and c.get("high_bits"))
            self._servers[key] = Server(self.subject(model, device).state, top)
        return self._servers[key]

    def perf(self, subject: Subject, state: Mapping[str, np.ndarray]) -> tuple[float, float]:
        key = (subject.name, state_digest(state))
        if key not in self._perf:
            self._perf[key] = subject.evaluate(state)
        return self._perf[key]

    # --- one cell ------------------------------------------------------------------------------------
    def run_cell(self, cell: Cell) -> CellOutcome:
        if cell.get("check") == STRUCTURE:
            return self._structure(cell)
        import torch

        torch.set_num_threads(1)  # 2 shared cores; NNCodec is single-threaded anyway
        subject = self.subject(cell["model_name"], cell["device"])
        result = deliver(self.server(cell["model_name"], cell["device"]), cell["low_bits"], cell["high_bits"],
                         UpdateMode.parse(cell["update"]))
        metrics = {f"{s}_bytes": n for s, n in result.sizes().items()}
        columns = {**self._timing_columns(result), "load_s": subject.load_seconds,
                   "bit_exact": result.exact_match(), "metric_name": subject.metric_name or "none",
                   "coders": self._coders(result)}
        if subject.evaluate is not None:
            for state, label in zip(STATES, ("low", "update", "high")):
                value, seconds = self.perf(subject, result.states[state])
                metrics[f"{label}_perf"] = value
                columns[f"{label}_eval_time"] = seconds
        return CellOutcome(metrics, {**columns, **metrics})

    def _timing_columns(self, result: Delivery) -> dict[str, Any]:
        columns: dict[str, Any] = {"quantise_s": result.quantise_seconds}
        for stream, timing in result.timing.items():
            columns.update({f"{stream}_encode_s": timing.encode, f"{stream}_decode_s": timing.decode,
                            f"{stream}_reconstruct_s": timing.reconstruct, f"{stream}_startup_s": timing.startup})
        for mbps in self.matrix["bandwidths_mbps"]:
            for key, seconds in result.times_at(float(mbps)).items():
                columns[f"{key}@{mbps}mbps"] = seconds
        for key, cross in result.crossovers().items():
            columns[f"crossover_{key}_mbps"] = cross.mbps
            columns[f"crossover_{key}"] = cross.describe()
        return columns

    @staticmethod
    def _coders(result: Delivery) -> str:
        from harness.coders import container_spec

        return " | ".join(f"{s}={container_spec(result.data[s])}" for s in STREAMS)

    def _structure(self, cell: Cell) -> CellOutcome:
        from harness.models.classifiers import CLASSIFIERS, structure

        figures = structure(cell["model_name"])
        seed = CLASSIFIERS[cell["model_name"]][1]
        columns = {**figures, "seed_min_parameters": seed.min_parameters, "seed_file_mib": seed.file_mib,
                   "seed_outputs": seed.outputs}
        return CellOutcome({k: figures[k] for k in ("parameters", "state_bytes", "outputs")}, columns)

    # --- independent checks ----------------------------------------------------------------------------
    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        if cell.get("check") == STRUCTURE:
            columns = outcome.columns
            if columns["seed_min_parameters"] is not None:
                assert columns["parameters"] > columns["seed_min_parameters"], "fewer parameters than the seed says"
            if columns["seed_file_mib"] is not None:
                assert round(columns["state_mib"], 1) == columns["seed_file_mib"], "file size differs from the seed"
            assert columns["outputs"] == columns["seed_outputs"], "output count differs from the seed"
            return
        m = outcome.metrics
        assert m["low_bytes"] < m["high_bytes"], "the low-precision stream is not smaller than the direct one"
        if cell["update"] == "exact":
            # every tensor's dtype, shape and bytes compared (states_identical); the score of low + update is
            # then the direct model's by construction (one evaluation per distinct state), so it is not checked
            assert outcome.columns["bit_exact"], "low + exact update differs from the direct model"
