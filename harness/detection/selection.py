"""Seed 000's image selection: the first N images (in dataset order) on which the anchor detector is perfect.

Each image is scored alone in the chosen style (calc_map by default, as seed 000); "perfect" means 100.
The resulting list is a selection of the evaluation set: report it as such (seed 000 does). The embedded
``shapes50_selected`` set (scripts/train_ssd_small.py --select-perfect-from) and the user's COCO list
(``python -m harness select``) are both made here.
"""
from __future__ import annotations

from typing import Iterator

from harness.detection.datasets import DetectionDataset
from harness.detection.detectors import Detector
from harness.detection.inference import detect_images
from harness.metrics import score
from harness.metrics.coco_data import GroundTruth, parse_detections


def _single_image_truth(truth: GroundTruth, image_id: int) -> GroundTruth:
    return GroundTruth((image_id,), truth.categories, tuple(b for b in truth.boxes if b.image_id == image_id),
                       truth.source, tuple(i for i in truth.images if i.get("id") == image_id))


def image_scores(detector: Detector, dataset: DetectionDataset, style: str = "calc_map",
                 device: str = "cpu") -> Iterator[tuple[int, float]]:
    """(image id, score of that image alone), in dataset order; images without ground truth are skipped
    (no object: nothing to be perfect on)."""
    with_truth = {box.image_id for box in dataset.ground_truth.boxes}
    ids = [image_id for image_id in dataset.image_ids() if image_id in with_truth]
    for result in detect_images(detector, dataset, ids, device=device):
        truth = _single_image_truth(dataset.ground_truth, result.image_id)
        detections = parse_detections(result.rows, truth, f"image {result.image_id}")
        yield result.image_id, float(score(style, truth, detections)["mAP"])


def select_perfect(detector: Detector, dataset: DetectionDataset, count: int, style: str = "calc_map",
                   device: str = "cpu", perfect: float = 100.0) -> list[int]:
    """Ids of the first ``count`` images scoring ``perfect`` (fewer when the dataset has not that many)."""
    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    chosen = []
    for image_id, value in image_scores(detector, dataset, style, device):
        if value >= perfect - 1e-9:
            chosen.append(image_id)
            if len(chosen) == count:
                break
    return chosen
