"""The ssd scenario's sharding hooks: its matrix as shards of images for ``--executor ray``.

A group is one detector x dataset x device. A shard task runs part 1 ONCE per image of its shard for every
split point with the pipeline's one part-1 routine (``part1_images``, the one the local store build runs on
all images), keeps the features in memory, and codes every cell of the group on them (``run_images``, the
pipeline's map step); the driver reduces with the pipeline's ``reduce_cell`` (dataset order), so a cell's
sizes and metrics are those of the local run whatever the sharding. Partials: the anchor cell's detections and run times per image; a split
cell's :class:`~harness.detection.cells.CellPartial` plus its part-1 time per image.
"""
from __future__ import annotations

from typing import Any, Sequence

from harness.scenarios.base import ANCHOR, Cell, CellOutcome
from harness.scenarios.detection_outputs import keep_predictions
from harness.scenarios.sharding import OutcomeOf, ShardedScenario


class SsdShards(ShardedScenario):
    """ShardedScenario hooks of :class:`harness.scenarios.ssd.SsdScenario` (mixed in there)."""

    shard_code = ("harness.detection", "harness.coders", "harness.split", "harness.metrics", "harness.runtime",
                  "harness.scenarios.sharding")

    def _group_pipeline(self, cell: Cell) -> Any:
        return self.pipeline(cell["model_name"], cell["data_set_name"], cell["device"])

    def shard_group(self, cell: Cell) -> str:
        return f"{cell['model_name']}/{cell['data_set_name']}/{cell['device']}"

    def shard_units(self, cells: Sequence[Cell]) -> list[int]:
        return list(self._group_pipeline(cells[0]).dataset.image_ids())

    def cell_fingerprint(self, cell: Cell) -> dict[str, Any]:
        from harness.detection.pipeline import OPTIMIZATION
        from harness.runtime import execution_fingerprint

        pipeline = self._group_pipeline(cell)
        return {"detector": cell["model_name"], "detector_md5": pipeline.detector.md5,
                "dataset": cell["data_set_name"], "dataset_md5": pipeline.dataset.fingerprint(),
                "device": cell["device"], "split": cell.get("split"), "coder": cell["coder_name"],
                "optimization": OPTIMIZATION, "execution": execution_fingerprint(cell["device"])}

    def run_shard(self, cells: Sequence[Cell], units: Sequence[int]) -> dict[str, Any]:
        pipeline = self._group_pipeline(cells[0])
        part1 = pipeline.part1_images(units)  # sessions kept by the pipeline, which the worker keeps
        partials: dict[str, Any] = {}
        for cell in cells:
            if cell["coder_name"] == ANCHOR:
                partials[cell.id] = {"rows": [part1.anchor_rows[i] for i in units],
                                     "seconds": [part1.anchor_seconds[i] for i in units]}
            else:
                split = self.split_index(cell)
                partials[cell.id] = {"cell": pipeline.run_images(split, cell["coder_name"], units, part1),
                                     "part1_seconds": [part1.part1_seconds[split][i] for i in units]}
        return partials

    def reduce(self, cell: Cell, partials: Sequence[Any], outcome_of: OutcomeOf) -> CellOutcome:
        from harness.detection.part1 import ordered_sum

        pipeline = self._group_pipeline(cell)
        if cell["coder_name"] == ANCHOR:
            rows = [row for partial in partials for image_rows in partial["rows"] for row in image_rows]
            anchor = pipeline.score(rows)
            keep_predictions(self.context.results_dir, cell, rows, self.prediction_name)
            # image by image in dataset order, as the local store build sums them
            seconds = ordered_sum(value for partial in partials for value in partial["seconds"])
            return self.anchor_outcome(anchor, seconds, cell)
        anchor_cell = Cell(cell.scenario, tuple((k, v) for k, v in cell.axes if k not in ("split", "coder_name"))
                           + (("coder_name", ANCHOR),))
        anchor = outcome_of(anchor_cell).metrics
        part1_time = ordered_sum(value for partial in partials for value in partial["part1_seconds"])
        result = pipeline.reduce_cell(self.split_index(cell), cell["coder_name"], [p["cell"] for p in partials], part1_time)
        keep_predictions(self.context.results_dir, cell, result.detections, self.prediction_name)
        return self.outcome(cell, result, anchor)
