"""Part 1 of the split-inference detection pipeline: once per image for every split point, in memory.

The one part-1 routine of the suite: the local store build (:meth:`SplitDetectionPipeline.store`) runs it on
every image and writes what it returns to disk; a shard task of ``--executor ray`` runs it on its shard of
images and codes every cell from memory. Per image, ONE run of the full model with every split's cut
tensors as extra outputs (:class:`harness.split.FeatureExtractor`, driven by the one detector loop
:func:`harness.detection.inference.detect_images`) gives the features of all split points and the unsplit
anchor's outputs and detections; then part 1 of each split point runs alone on the same pre-processed input,
timed (seed 000's part-1 time) and compared with the one-pass features (they must agree: a check that
cutting the graph changed nothing).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from harness.detection.datasets import DetectionDataset
from harness.detection.detectors import Detector
from harness.detection.inference import detect_images
from harness.runtime import make_session
from harness.split import FeatureExtractor, SplitPlanner, split_model

# split and unsplit inference are bit-exact at this level (see harness.runtime.OPTIMIZATION_LEVELS)
OPTIMIZATION = "extended"


@dataclass
class Part1Shard:
    """Part 1 of some images, in the order they ran (plain picklable data)."""

    image_ids: list[int] = field(default_factory=list)
    features: dict[int, dict[int, dict[str, np.ndarray]]] = field(default_factory=dict)  # split -> image -> tensors
    anchor_outputs: dict[int, list[np.ndarray]] = field(default_factory=dict)  # image -> outputs, graph order
    anchor_rows: dict[int, list[dict]] = field(default_factory=dict)  # image -> COCO results rows
    anchor_seconds: dict[int, float] = field(default_factory=dict)  # image -> the full model's run
    part1_seconds: dict[int, dict[int, float]] = field(default_factory=dict)  # split -> image -> part 1 alone
    part1_max_abs_diff: dict[int, float] = field(default_factory=dict)  # split -> worst |part 1 - one-pass|

    def anchor_time(self) -> float:
        """The full model's run time summed image by image in run order."""
        return ordered_sum(self.anchor_seconds[i] for i in self.image_ids)

    def part1_time(self, split: int) -> float:
        """Part-1 time of ``split`` summed image by image in run order."""
        return ordered_sum(self.part1_seconds[split][i] for i in self.image_ids)


def ordered_sum(values: Iterable[float]) -> float:
    """Left to right, one float add per image (no compensated or pairwise summation, whatever the Python), so
    a sum over shards in dataset order equals the local run's."""
    total = 0.0
    for value in values:
        total += value
    return total


class Part1Runner:
    """The sessions of part 1 for a set of split points: the one-pass extractor and each split's part 1 alone."""

    def __init__(self, detector: Detector, dataset: DetectionDataset, planner: SplitPlanner, splits: Sequence[int],
                 device: str = "cpu") -> None:
        self.detector, self.dataset, self.splits = detector, dataset, list(splits)
        self.extractor = FeatureExtractor(planner.model, self.splits, device=device, optimization=OPTIMIZATION)
        self.sessions = {split: make_session(split_model(planner.model, planner.plan(index=split))[0].SerializeToString(),
                                             device=device, optimization=OPTIMIZATION) for split in self.splits}

    def run(self, image_ids: Sequence[int]) -> Part1Shard:
        """Part 1 of ``image_ids`` (dataset ids, in this order) for every split point."""
        shard = Part1Shard(features={s: {} for s in self.splits}, part1_seconds={s: {} for s in self.splits},
                           part1_max_abs_diff={s: 0.0 for s in self.splits})
        cut: dict[int, dict[str, np.ndarray]] = {}

        def run(feed: dict[str, np.ndarray]) -> list[np.ndarray]:
            cut.clear()
            cut.update(self.extractor.run(feed))  # this image's cut tensors, taken below before the next image
            return [self.extractor.last_outputs[n] for n in self.extractor.model_outputs]

        for result in detect_images(self.detector, self.dataset, image_ids=list(image_ids), run=run):
            image_id = result.image_id
            shard.image_ids.append(image_id)
            shard.anchor_outputs[image_id], shard.anchor_rows[image_id] = result.outputs, result.rows
            shard.anchor_seconds[image_id] = result.seconds
            for split, tensors in cut.items():
                shard.features[split][image_id] = dict(tensors)
                shard.part1_seconds[split][image_id], worst = self._time_part1(split, result.feed, tensors)
                shard.part1_max_abs_diff[split] = max(shard.part1_max_abs_diff[split], worst)
        return shard

    def _time_part1(self, split: int, feed: dict[str, np.ndarray], one_pass: dict[str, np.ndarray]) -> tuple[float, float]:
        """Part 1 of ``split`` alone on one image: its run time and its largest deviation from the one-pass tensors."""
        session = self.sessions[split]
        names = [o.name for o in session.get_outputs()]
        start = time.perf_counter()
        values = session.run(names, feed)
        seconds = time.perf_counter() - start
        worst = max((float(np.max(np.abs(value.astype(np.float64) - one_pass[name].astype(np.float64)), initial=0.0))
                     for name, value in zip(names, values)),
                    default=0.0)
        return seconds, worst
