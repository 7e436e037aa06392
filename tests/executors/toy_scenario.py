"""A toy sharded scenario for the executor tests: cheap, deterministic, order-sensitive sums.

Cells: one ``anchor`` cell plus split x coder cells, like ssd. A unit's "part 1" is a seeded draw; a cell's
per-unit record is a size and a value spread over 16 orders of magnitude, so the float sum of a cell depends
on the order in which records are added: a reduction that did not follow unit order whatever the sharding
would give different bits. Every run_shard call may leave a marker file in ``log_dir`` (which units and
cells it computed) so tests can count what was recomputed. Not registered here: the tests register it where
they need it (a registered scenario would join every run's generic cell test).
"""
from __future__ import annotations

import json
import os
import time
import uuid
import zlib
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from harness.scenarios.sharding import OutcomeOf, ShardedScenario
from harness.scenarios.base import Cell, CellOutcome, Metric, RunContext, Scenario

ANCHOR = "anchor"


def toy_matrix(**overrides: Any) -> dict[str, Any]:
    return {"scenario": "toy", "units": 12, "splits": [1, 2], "coders": ["a", "b", "c"], "delay": 0.0,
            **overrides}


class ToyScenario(ShardedScenario, Scenario):
    name = "toy"
    description = "toy sharded scenario (executor tests)"
    shard_code = ()  # its partials depend on this module only (added by ShardedScenario)
    metrics = (Metric("score", "fraction", higher_is_better=True), Metric("size", "bytes"))
    matrix_keys = {"units": "number of units", "splits": "split axis", "coders": "coder axis",
                   "delay": "seconds of sleep per unit and shard (makes node-loss windows)",
                   "log_dir": "folder for one marker file per run_shard call", "fail_coder": "a coder that raises"}

    def __init__(self, matrix: Mapping[str, Any], context: RunContext = RunContext()) -> None:
        super().__init__(matrix, context)

    def cells(self) -> list[Cell]:
        head = (("model_name", "toy_model"), ("data_set_name", "toy_set"), ("device", "cpu"))
        return [Cell(self.name, head + (("coder_name", ANCHOR),))] + [
            Cell(self.name, head + (("split", s), ("coder_name", c))) for s in self.matrix["splits"]
            for c in self.matrix["coders"]]

    # --- sharding ----------------------------------------------------------------------------------
    def shard_units(self, cells: Sequence[Cell]) -> list[int]:
        return list(range(int(self.matrix["units"])))

    def cell_fingerprint(self, cell: Cell) -> dict[str, Any]:
        return {"cell": cell.id, "units": self.matrix["units"]}

    def _record(self, part1: float, unit: int, cell: Cell) -> dict[str, Any]:
        salt = zlib.crc32(f"{cell.get('split')}/{cell['coder_name']}".encode())
        rng = np.random.default_rng([unit, salt])
        if cell["coder_name"] == self.matrix.get("fail_coder"):
            raise ValueError(f"coder {cell['coder_name']} fails on unit {unit}")
        return {"unit": unit, "size": int(rng.integers(100, 1000)),
                "value": float(part1 * rng.random() * 10.0 ** int(rng.integers(-8, 8)))}

    def run_shard(self, cells: Sequence[Cell], units: Sequence[int]) -> dict[str, Any]:
        partials: dict[str, list] = {cell.id: [] for cell in cells}
        for unit in units:
            part1 = float(np.random.default_rng(unit).random())  # once per unit for every cell
            time.sleep(float(self.matrix.get("delay", 0.0)))
            for cell in cells:
                partials[cell.id].append(self._record(part1, unit, cell))
        if self.matrix.get("log_dir"):
            marker = Path(self.matrix["log_dir"]) / f"{os.getpid()}-{uuid.uuid4().hex}.json"
            marker.write_text(json.dumps({"units": list(units), "cells": [c.id for c in cells]}))
        return partials

    def reduce(self, cell: Cell, partials: Sequence[Any], outcome_of: OutcomeOf) -> CellOutcome:
        records = [record for partial in partials for record in partial]
        assert [r["unit"] for r in records] == self.shard_units([cell]), "partials out of unit order"
        score = 0.0
        for record in records:  # plain left-to-right sum: order-sensitive on purpose
            score += record["value"]
        size = sum(r["size"] for r in records)
        columns = {"metric_name": "score", "rec_perf": score, "rec_size": size, "enc_time": 0.001 * len(records)}
        if cell["coder_name"] != ANCHOR:
            anchor = next(c for c in self.cells() if c["coder_name"] == ANCHOR)
            columns["anc_perf"] = outcome_of(anchor).metrics["score"]
        return CellOutcome({"score": score, "size": size}, columns)

    def run_cell(self, cell: Cell) -> CellOutcome:
        units = self.shard_units([cell])
        return self.reduce(cell, [self.run_shard([cell], units)[cell.id]], self.run_cell)


def markers(log_dir: Path) -> list[dict[str, Any]]:
    """The run_shard calls recorded in ``log_dir``."""
    return [json.loads(path.read_text()) for path in sorted(Path(log_dir).glob("*.json"))]
