"""Tiny constructors of COCO ground truth and detections for the metric tests (through the real validators)."""
from __future__ import annotations

from typing import Iterable, Sequence

from harness.metrics.coco_data import Detection, GroundTruth, parse_detections, parse_ground_truth


def make_gt(boxes: Iterable[Sequence], image_ids: Iterable[int] | None = None,
            categories: Iterable[int] | None = None) -> GroundTruth:
    """boxes: (image_id, category_id, [x, y, w, h]) or (image_id, category_id, bbox, iscrowd)."""
    boxes = list(boxes)
    images = list(image_ids) if image_ids is not None else sorted({b[0] for b in boxes})
    cats = list(categories) if categories is not None else sorted({b[1] for b in boxes})
    return parse_ground_truth({
        "images": [{"id": i} for i in images],
        "categories": [{"id": c, "name": f"class{c}"} for c in cats],
        "annotations": [{"id": n, "image_id": b[0], "category_id": b[1], "bbox": list(b[2]),
                         "iscrowd": int(b[3]) if len(b) > 3 else 0} for n, b in enumerate(boxes, start=1)],
    })


def make_dets(gt: GroundTruth, dets: Iterable[Sequence]) -> list[Detection]:
    """dets: (image_id, category_id, [x, y, w, h], score)."""
    return parse_detections([{"image_id": d[0], "category_id": d[1], "bbox": list(d[2]), "score": d[3]}
                             for d in dets], gt)


def perfect_dets(gt: GroundTruth) -> list[Detection]:
    """One detection per non-crowd ground-truth box, on the box, with distinct scores in (0.5, 1]."""
    plain = [b for b in gt.boxes if not b.iscrowd]
    return [Detection(b.image_id, b.category_id, b.bbox, 1.0 - 0.4 * k / max(len(plain), 1))
            for k, b in enumerate(plain)]
