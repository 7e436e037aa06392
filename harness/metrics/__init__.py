"""Detection accuracy metrics in three documented styles (see docs/metrics.md).

* ``coco``: pycocotools' twelve COCOeval stats (AP@[.5:.95], AP50, ...), fractions in [0, 1] (-1: no data).
* ``voc``: PASCAL VOC AP at IoU 0.5, all-point interpolation, mean over ground-truth classes, percent.
* ``calc_map``: faithful re-implementation of 5G-MAG's calc_map.py (the figures of seed 000), percent.

Each style is one module registering a report function in :data:`METRIC_STYLES`; a report function takes
``(ground_truth, detections, **options)`` and returns a JSON-ready dict.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from harness.metrics.coco_data import Detection, GroundTruth
from harness.registry import Registry, import_submodules

StyleReport = Callable[..., dict[str, Any]]
METRIC_STYLES: Registry[StyleReport] = Registry("detection metric style")


def score(style: str, ground_truth: GroundTruth, detections: Sequence[Detection], **options: Any) -> dict[str, Any]:
    """Score detections in the named style (``coco``, ``voc``, ``calc_map``)."""
    return METRIC_STYLES.get(style)(ground_truth, detections, **options)


def per_class_table(ground_truth: GroundTruth, values: dict[int, float], key: str = "AP") -> dict[str, dict[str, Any]]:
    """``{"<category id>": {"name": ..., key: value}}`` in category-id order: ids are unique, names may not be."""
    return {str(cid): {"name": ground_truth.categories[cid], key: values[cid]} for cid in sorted(values)}


import_submodules(__name__)
