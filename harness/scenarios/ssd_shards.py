"""The ssd scenario's sharding hooks (issue 13): its matrix as shards of images for ``--executor ray``.

A group is one detector x dataset x device. A shard task runs part 1 ONCE per image of its shard for every
split point (one run of the full model with every split's cut tensors as extra outputs, as the local store
build does, plus the per-split part-1 timing), keeps the features in memory, and codes every cell of the
group on them (the pipeline's per-image map step); the driver merges the partials with the pipeline's reduce
(:func:`harness.detection.cells.merge_images`, dataset order), so a cell's sizes and metrics are those of the
local run whatever the sharding. Partials: the anchor cell's detections and run times per image; a split
cell's :class:`~harness.detection.cells.CellPartial` plus its part-1 time per image.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from harness.executors.sharding import OutcomeOf, ShardedScenario
from harness.scenarios.base import Cell, CellOutcome


@dataclass
class Part1Shard:
    """Part 1 of a shard of images, once per image for every split point (plain data)."""

    features: dict[int, dict[int, dict[str, np.ndarray]]] = field(default_factory=dict)  # split -> image -> tensors
    anchor_outputs: dict[int, list[np.ndarray]] = field(default_factory=dict)
    anchor_rows: dict[int, list[dict]] = field(default_factory=dict)
    anchor_seconds: dict[int, float] = field(default_factory=dict)
    part1_seconds: dict[int, dict[int, float]] = field(default_factory=dict)  # split -> image -> seconds


def part1_shard(pipeline: Any, image_ids: Sequence[int], workspace: dict[str, Any]) -> Part1Shard:
    """One-pass part 1 of ``image_ids`` in memory (the extractor and part-1 sessions live in ``workspace``)."""
    from harness.detection.inference import detect_images
    from harness.detection.pipeline import OPTIMIZATION
    from harness.runtime import make_session
    from harness.split import FeatureExtractor, split_model

    if "extractor" not in workspace:
        workspace["extractor"] = FeatureExtractor(pipeline._model, pipeline.splits, device=pipeline.device,
                                                  optimization=OPTIMIZATION)
        parts1 = {split: split_model(pipeline._model, pipeline._planner.plan(index=split))[0]
                  for split in pipeline.splits}
        workspace["part1"] = {split: make_session(part1.SerializeToString(), device=pipeline.device,
                                                  optimization=OPTIMIZATION) for split, part1 in parts1.items()}
    extractor, sessions = workspace["extractor"], workspace["part1"]
    shard = Part1Shard(features={s: {} for s in pipeline.splits}, part1_seconds={s: {} for s in pipeline.splits})
    cut: dict[int, dict[str, np.ndarray]] = {}

    def run(feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        cut.clear()
        cut.update(extractor.run(feed))
        return [extractor.last_outputs[n] for n in extractor.model_outputs]

    for result in detect_images(pipeline.detector, pipeline.dataset, image_ids=list(image_ids), run=run):
        image_id = result.image_id
        for split, tensors in cut.items():
            shard.features[split][image_id] = dict(tensors)
            start = time.perf_counter()  # part 1 of this split alone, as the local store build times it
            sessions[split].run(None, result.feed)
            shard.part1_seconds[split][image_id] = time.perf_counter() - start
        shard.anchor_outputs[image_id] = result.outputs
        shard.anchor_rows[image_id] = result.rows
        shard.anchor_seconds[image_id] = result.seconds
    return shard


class SsdShards(ShardedScenario):
    """ShardedScenario hooks of :class:`harness.scenarios.ssd.SsdScenario` (mixed in there)."""

    shard_code = ("harness.detection", "harness.coders", "harness.split", "harness.metrics", "harness.runtime",
                  "harness.executors.sharding")

    def _group_pipeline(self, cell: Cell) -> Any:
        return self.pipeline(cell["model_name"], cell["data_set_name"], cell["device"])

    def shard_group(self, cell: Cell) -> str:
        return f"{cell['model_name']}/{cell['data_set_name']}/{cell['device']}"

    def shard_units(self, cells: Sequence[Cell]) -> list[int]:
        return list(self._group_pipeline(cells[0]).dataset.image_ids())

    def cell_fingerprint(self, cell: Cell) -> dict[str, Any]:
        from harness.detection.pipeline import OPTIMIZATION

        pipeline = self._group_pipeline(cell)
        return {"detector": cell["model_name"], "detector_md5": pipeline.detector.md5,
                "dataset": cell["data_set_name"], "dataset_md5": pipeline.dataset.fingerprint(),
                "device": cell["device"], "split": cell.get("split"), "coder": cell["coder_name"],
                "optimization": OPTIMIZATION}

    def run_shard(self, cells: Sequence[Cell], units: Sequence[int]) -> dict[str, Any]:
        from harness.coders import make_coder
        from harness.detection.cells import CellPartial
        from harness.scenarios.ssd import ANCHOR

        pipeline = self._group_pipeline(cells[0])
        workspaces = self.__dict__.setdefault("_shard_workspaces", {})
        part1 = part1_shard(pipeline, units, workspaces.setdefault(self.shard_group(cells[0]), {}))
        partials: dict[str, Any] = {}
        for cell in cells:
            if cell["coder_name"] == ANCHOR:
                partials[cell.id] = {"rows": [part1.anchor_rows[i] for i in units],
                                     "seconds": [part1.anchor_seconds[i] for i in units]}
                continue
            split, coder = cell["split"], make_coder(cell["coder_name"])
            images = [pipeline._code_image(split, coder, i, part1.features[split][i], part1.anchor_outputs[i])
                      for i in units]
            partials[cell.id] = {"cell": CellPartial(split, coder.spec, images),
                                 "part1_seconds": [part1.part1_seconds[split][i] for i in units]}
        return partials

    def reduce(self, cell: Cell, partials: Sequence[Any], outcome_of: OutcomeOf) -> CellOutcome:
        from harness.scenarios.ssd import ANCHOR, keep_predictions

        pipeline = self._group_pipeline(cell)
        metric = self.matrix["metric"]
        if cell["coder_name"] == ANCHOR:
            rows = [row for partial in partials for image_rows in partial["rows"] for row in image_rows]
            anchor = pipeline.score(rows)
            keep_predictions(self.context.results_dir, cell, rows)
            seconds = 0.0
            for partial in partials:  # image by image in dataset order, as the local store build sums them
                for value in partial["seconds"]:
                    seconds += value
            columns = {"split": "", "metric_name": metric, "anc_perf": anchor[metric], "rec_perf": anchor[metric],
                       "map_voc": anchor["voc"], "map_coco_AP": anchor["AP"], "map_coco_AP50": anchor["AP50"],
                       "anc_eval_time": seconds}
            return CellOutcome({k: anchor[k] for k in ("calc_map", "voc", "AP", "AP50")}, columns)
        anchor_cell = Cell(cell.scenario, tuple((k, v) for k, v in cell.axes if k not in ("split", "coder_name"))
                           + (("coder_name", ANCHOR),))
        anchor = outcome_of(anchor_cell).metrics
        part1_time = 0.0
        for partial in partials:
            for value in partial["part1_seconds"]:
                part1_time += value
        result = reduce_split_cell(pipeline, cell["split"], cell["coder_name"], [p["cell"] for p in partials],
                                   part1_time)
        keep_predictions(self.context.results_dir, cell, result.detections)
        return self.outcome(cell, result, anchor)


def reduce_split_cell(pipeline: Any, split: int, coder_spec: str, partials: Sequence[Any], part1_time: float) -> Any:
    """``pipeline.reduce_cell`` without reading the local part-1 store (the part-1 time comes with the partials).

    Mirrors SplitDetectionPipeline.reduce_cell; to be replaced by ``reduce_cell(..., part1_time=...)``."""
    from harness.coders import make_coder
    from harness.detection.cells import CellResult, merge_images

    coder = make_coder(coder_spec).spec
    order = pipeline.dataset.image_ids()
    merged = merge_images(split, coder, order, partials)
    start = time.perf_counter()
    metrics = pipeline.score(merged.rows)
    metrics_time = time.perf_counter() - start
    return CellResult(
        split=split, coder=coder, metrics=metrics, uncompressed_bytes=merged.raw_bytes,
        compressed_bytes=sum(merged.coded_bytes), feature_nmse=merged.feature_nmse, output_nmse=merged.output_nmse,
        enc_time=merged.enc_time, dec_time=merged.dec_time, part1_time=part1_time, part2_time=merged.part2_time,
        metrics_time=metrics_time, detections=merged.rows, images=len(order), coded_bytes_per_image=merged.coded_bytes)
