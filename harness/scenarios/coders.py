"""Scenario ``coders`` (marker ``coders``): every coder of matrix/coders.yaml on one seeded feature map.

The feature map (harness.datasets.relu_features) stands for ssd_resnet's node-10 output (1x256x75x75, 5.76 MB
as seed 001 §10.3 gives); each cell codes it, decodes it with the coder the container names, and gates the
container size (exact) and the reconstruction MSE. A coder that declares itself lossless must give MSE 0.
"""
from __future__ import annotations

import time
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from harness.coders import decode_any, make_coder
from harness.datasets import DATASETS
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric, RunContext, Scenario


@lru_cache(maxsize=2)
def feature_map(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return DATASETS.get("relu_features")(None, shape=shape, seed=seed)


@SCENARIOS.register("coders")
class CodersScenario(Scenario):
    description = "intermediate-data coder conformance: sizes, round trips, corruption"
    metrics = (Metric("rec_size", "bytes"), Metric("mse", "value^2", higher_is_better=False))
    matrix_keys = {"feature_map": "{shape, seed} of the seeded ReLU feature map", "coders": "coder specs"}
    required_matrix_keys = ("feature_map", "coders")

    def __init__(self, matrix: Mapping[str, Any], context: RunContext) -> None:
        super().__init__(matrix, context)
        self.shape = tuple(int(n) for n in matrix["feature_map"]["shape"])
        self.seed = int(matrix["feature_map"]["seed"])
        self.data_set_name = "relu_features_" + "x".join(map(str, self.shape))

    def features(self) -> np.ndarray:
        return feature_map(self.shape, self.seed)

    def cells(self) -> list[Cell]:
        # the coder spec alone names a cell: the references key stays coders/<canonical spec>
        return [Cell(self.name, (("coder_name", make_coder(spec).spec),)) for spec in self.matrix["coders"]]

    def run_cell(self, cell: Cell) -> CellOutcome:
        x = self.features()
        coder = make_coder(cell["coder_name"])
        start = time.perf_counter()
        data = coder.encode({"features": x})
        enc_time = time.perf_counter() - start
        start = time.perf_counter()
        decoded = decode_any(data)["features"]
        dec_time = time.perf_counter() - start
        mse = float(np.mean((decoded.astype(np.float64) - x.astype(np.float64)) ** 2))
        columns = {"data_set_name": self.data_set_name, "anc_size": x.nbytes, "rec_size": len(data),
                   "compress_ratio": len(data) / x.nbytes, "mse": mse, "enc_time": enc_time, "dec_time": dec_time}
        return CellOutcome({"rec_size": len(data), "mse": mse}, columns)

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        if make_coder(cell["coder_name"]).is_lossless:
            assert outcome.metrics["mse"] == 0.0, f"lossless {cell['coder_name']} has MSE {outcome.metrics['mse']}"
