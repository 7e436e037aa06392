"""Seed 000's image selection: the first N images (in dataset order) on which the anchor detector is perfect.

Each image is scored alone in the chosen style (calc_map by default, as seed 000); "perfect" means 100.
The resulting list is a selection of the evaluation set: report it as such (seed 000 does).
"""
from __future__ import annotations

from typing import Iterator

from harness.detection.datasets import DetectionDataset
from harness.detection.detectors import Detector
from harness.metrics import score
from harness.metrics.coco_data import GroundTruth, parse_detections
from harness.runtime import make_session


def _single_image_truth(truth: GroundTruth, image_id: int) -> GroundTruth:
    return GroundTruth((image_id,), truth.categories, tuple(b for b in truth.boxes if b.image_id == image_id),
                       truth.source, tuple(i for i in truth.images if i.get("id") == image_id))


def image_scores(detector: Detector, dataset: DetectionDataset, style: str = "calc_map",
                 device: str = "cpu") -> Iterator[tuple[int, float]]:
    """(image id, score of that image alone), in dataset order; images without ground truth are skipped."""
    session = make_session(str(detector.onnx_path), device=device)
    for image_id in dataset.image_ids():
        truth = _single_image_truth(dataset.ground_truth, image_id)
        if not truth.boxes:
            continue
        image = dataset.read_image(image_id)
        outputs = session.run(None, detector.preprocess(image))
        rows = detector.detections(outputs, image_id, image.shape[1], image.shape[0])
        yield image_id, float(score(style, truth, parse_detections(rows, truth, f"image {image_id}"))["mAP"])


def select_perfect(detector: Detector, dataset: DetectionDataset, count: int, style: str = "calc_map",
                   device: str = "cpu", perfect: float = 100.0) -> list[int]:
    if count <= 0:
        raise ValueError(f"count must be positive, got {count}")
    chosen = []
    for image_id, value in image_scores(detector, dataset, style, device):
        if value >= perfect - 1e-9:
            chosen.append(image_id)
            if len(chosen) == count:
                break
    return chosen
