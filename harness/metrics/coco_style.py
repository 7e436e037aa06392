"""``coco`` style: the twelve COCOeval bbox stats, computed by pycocotools itself (not re-implemented).

Values are pycocotools' own: fractions in [0, 1], and -1 where a stat has no ground truth to average over
(e.g. APs when no ground-truth box is small). pycocotools' console summary is silenced.

Empty detections: ``COCO.loadRes([])`` raises inside pycocotools, so an empty results list is evaluated
against an empty results index built directly; COCOeval then reports what it reports for any detector
that finds nothing: 0 for every stat that has ground truth, -1 for the others.
"""
from __future__ import annotations

import contextlib
import io
from typing import Any, Sequence

from harness.metrics import METRIC_STYLES, Headline, declare_headlines, per_class_table
from harness.metrics.coco_data import Detection, GroundTruth, detections_to_coco

STAT_NAMES = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


def coco_eval(ground_truth: GroundTruth, detections: Sequence[Detection]) -> Any:
    """A COCOeval (bbox) that has run evaluate, accumulate and summarize; its ``eval`` and ``stats`` are filled."""
    from pycocotools.coco import COCO  # imported here: keeps `python -m harness` start-up light
    from pycocotools.cocoeval import COCOeval

    if not ground_truth.image_ids:
        raise ValueError(f"{ground_truth.source}: the ground truth has no images; nothing to score")
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress and the summary table
        gt = COCO()
        gt.dataset = ground_truth.to_coco_dict()
        gt.createIndex()
        if detections:
            dt = gt.loadRes(detections_to_coco(detections))
        else:
            dt = COCO()
            dt.dataset = {"images": gt.dataset["images"], "categories": gt.dataset["categories"], "annotations": []}
            dt.createIndex()
        evaluator = COCOeval(gt, dt, iouType="bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    return evaluator


def coco_stats(ground_truth: GroundTruth, detections: Sequence[Detection]) -> dict[str, float]:
    """pycocotools' twelve summary stats by name (AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl)."""
    stats = coco_eval(ground_truth, detections).stats
    return {name: float(value) for name, value in zip(STAT_NAMES, stats)}


def class_average_precision(evaluator: Any) -> dict[int, float]:
    """AP per category from an accumulated COCOeval: its precision array (IoU x recall x category x area x max
    detections) at area "all" and 100 detections, averaged over the entries pycocotools filled (-1: no ground
    truth of that category, then the class's AP is -1 as pycocotools reports such stats)."""
    import numpy as np

    precision = evaluator.eval["precision"][:, :, :, 0, -1]
    result = {}
    for k, category in enumerate(evaluator.params.catIds):
        filled = precision[:, :, k][precision[:, :, k] > -1]
        result[int(category)] = float(filled.mean()) if filled.size else -1.0
    return result


@METRIC_STYLES.register("coco")
def coco_report(ground_truth: GroundTruth, detections: Sequence[Detection]) -> dict[str, Any]:
    """The twelve stats and ``per_class`` (AP per category, fractions, in category-id order)."""
    evaluator = coco_eval(ground_truth, detections)
    report: dict[str, Any] = {name: float(value) for name, value in zip(STAT_NAMES, evaluator.stats)}
    report["per_class"] = per_class_table(ground_truth, class_average_precision(evaluator))
    return report


# the figures every detection cell gates (harness.metrics.headlines), in percent
declare_headlines("coco", Headline("AP", "AP", column="map_coco_AP", to_percent=100.0),
                  Headline("AP50", "AP50", column="map_coco_AP50", to_percent=100.0))
