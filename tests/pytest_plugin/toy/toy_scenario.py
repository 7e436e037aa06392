"""A toy scenario registered from outside the package: one module plus toy.yaml beside it."""
from pathlib import Path

import numpy as np

from harness.coders import decode_any, make_coder
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric, Scenario


@SCENARIOS.register("toy")
class ToyScenario(Scenario):
    description = "a toy scenario registered from a temporary directory"
    metrics = (Metric("rec_size", "bytes"), Metric("max_error", "value", higher_is_better=False))
    matrix_keys = {"coders": "coder specs", "length": "values per tensor"}
    matrix_path = Path(__file__).with_name("toy.yaml")

    def cells(self):
        return [Cell(self.name, (("coder_name", make_coder(s).spec),)) for s in self.matrix["coders"]]

    def run_cell(self, cell):
        x = np.linspace(-1, 1, self.matrix["length"], dtype=np.float32)
        data = make_coder(cell["coder_name"]).encode({"x": x})
        error = float(np.max(np.abs(decode_any(data)["x"] - x)))
        return CellOutcome({"rec_size": len(data), "max_error": error}, {"rec_size": len(data)})

    def check_cell(self, cell, outcome):
        coder = make_coder(cell["coder_name"])
        if coder.rate_param == "step":  # independent bound: half a step of the rounding grid
            assert outcome.metrics["max_error"] <= 2.0 ** -coder.rate / 2
