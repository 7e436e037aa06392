"""Seed 000's image selection on the synthetic stream: the first N images on which the anchor is perfect.

Seed 000 scored ssd_resnet on "the first 50 images of COCO val2017 where ssd_resnet performs perfectly",
so its anchor mAP is 100 by construction. The same selection over generated images is offered here and
must always be reported as a selection (the plain held-out set is the unbiased figure).
"""
from __future__ import annotations

from typing import Callable

from harness.datasets.coco_export import coco_dict
from harness.datasets.synthetic_shapes import Sample, generate_sample

Detector = Callable[[Sample], list[dict]]  # COCO results rows of one image, with image_id 1


def is_perfect(sample: Sample, rows: list[dict], score_threshold: float = 0.5) -> bool:
    """True when calc_map on this one image is 100 (every ground-truth class at AP 1)."""
    from harness.metrics import score
    from harness.metrics.coco_data import parse_detections, parse_ground_truth

    gt = parse_ground_truth(coco_dict([sample], ["image.png"]), "selection candidate")
    report = score("calc_map", gt, parse_detections(rows, gt), score_threshold=score_threshold)
    return report["mAP"] >= 100.0 - 1e-9


def select_perfect(seed: int, count: int, detect: Detector, pool_size: int) -> list[int]:
    """Indices (in stream order) of the first ``count`` images of stream ``seed`` the detector gets perfect."""
    chosen: list[int] = []
    for index in range(pool_size):
        sample = generate_sample(seed, index)
        if is_perfect(sample, detect(sample)):
            chosen.append(index)
            if len(chosen) == count:
                return chosen
    raise ValueError(f"only {len(chosen)} of the first {pool_size} images of stream {seed} are perfect, "
                     f"{count} needed; raise the pool size or train the detector further")
