"""``calc_map`` style: a faithful re-implementation of 5G-MAG's ``calc_map.py`` (``Evaluator.calculate_map``).

Seed 000 reports its figures (ssd_resnet 100, retinanet 94.21 on 50 COCO val2017 images) with that script,
so this module reproduces its behaviour, quirks included, rather than a cleaned-up mAP:

1. Predictions are kept when ``score > threshold`` (strictly; default 0.5), then sorted by score, highest
   first (a stable sort: equal scores keep the order of the results file).
2. The work is per image and, inside an image, per class *present in that image's ground truth*, in the
   order the classes first appear there. Predictions of a class absent from the image's ground truth cost
   nothing: they are never looked at.
3. For each IoU threshold ``0.5 + k/20`` (k = 0..9, i.e. 0.50, 0.55, ..., 0.95) matching starts afresh.
   Each prediction (score order) is compared with every ground-truth box of the class in file order; every
   box not yet matched whose IoU with it is ``>= threshold`` becomes matched, and the loop does not stop
   after a match, so one prediction can consume several ground-truth boxes and leave later predictions
   nothing to match.
4. TP counting (our reading, from the script's ``tp_mask``, one flag per *prediction*): TP is the number
   of predictions that matched at least one box; a prediction consuming two boxes is one TP, not two. So
   precision = TP / predictions <= 1 and recall = TP / ground-truth boxes <= 1; the quirk shows up as
   boxes taken away from later predictions, lowering both.
5. The ten (recall, precision) pairs, in threshold order and *not* sorted by recall, go through the VOC
   all-point formula: mrec = [0] + rec + [1], mpre = [0] + prec + [0], mpre made non-increasing from the
   right, AP = sum over i where mrec changes of (mrec[i+1] - mrec[i]) * mpre[i+1]. Recall usually falls as
   the threshold rises, so some steps are negative and subtract area; a single prediction matching its
   box only at IoU 0.5 still scores 1 (precision 1 over the first step, zero envelope afterwards).
6. A class with no prediction in the image gets no pairs, hence AP 0.
7. A class's score is the mean of its per-image APs over the images whose ground truth contains it; the
   overall score is the unweighted mean over classes of the per-class percent values, which the script
   prints with two decimals (:func:`printed_map`); nothing is rounded before that.
8. IoU on corner coordinates (x2 = x + w) without the +1 pixel convention. The script divides by the union
   unguarded; two zero-area boxes (union 0) would crash it, here they have IoU 0.

COCO input mapping (the script reads one ground-truth and one prediction text file per frame and knows
neither crowd boxes nor images without ground truth):
* images are visited in the ground truth's ``images`` order; an image without ground-truth boxes
  contributes nothing (the script, given an empty ground-truth file, finds no class to score) and its
  detections are ignored;
* ``iscrowd`` ground truth is dropped by default (``include_crowd=False``): COCO never requires a crowd
  region to be detected. ``include_crowd=True`` treats crowd boxes as ordinary boxes, as a naive
  conversion of COCO annotations to the script's text files would;
* the script normalises ground truth by the frame size taken from the file name; IoU is invariant to that
  common scaling, so pixel coordinates are used as they are.

How it differs from COCO and VOC (see docs/metrics.md): no ranking across images (precision/recall at one
operating point per threshold instead of a precision-recall curve), false positives of classes absent from
an image are free, a class is averaged over images instead of pooling its detections, the threshold
dimension is fed to an AP formula meant for recall, and the score threshold discards low-confidence
detections that COCO/VOC would rank.
"""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from harness.metrics import METRIC_STYLES, Headline, declare_headlines, per_class_table
from harness.metrics.coco_data import BBox, Detection, GroundTruth

DEFAULT_SCORE_THRESHOLD = 0.5
IOU_THRESHOLDS = tuple(0.5 + x / 20 for x in range(0, 10))  # the script's own expression, same floats

Corners = tuple[float, float, float, float]  # x1, y1, x2, y2


def to_corners(bbox: BBox) -> Corners:
    x, y, w, h = bbox
    return (x, y, x + w, y + h)


def corner_iou(gt: Corners, pred: Corners) -> float:
    """The script's ``compute_iou``: widths from corners, no +1; union 0 gives 0 instead of a crash."""
    x1, y1, bx1, by1 = gt
    x2, y2, bx2, by2 = pred
    inter_area = max(0, min(bx1, bx2) - max(x1, x2)) * max(0, min(by1, by2) - max(y1, y2))
    union_area = (bx1 - x1) * (by1 - y1) + (bx2 - x2) * (by2 - y2) - inter_area
    return inter_area / union_area if union_area > 0 else 0.0


def threshold_pairs(gt_boxes: Sequence[Corners], pred_boxes: Sequence[Corners]) -> tuple[list[float], list[float]]:
    """(recalls, precisions) at each IoU threshold for one image and class; predictions in score order."""
    recalls: list[float] = []
    precisions: list[float] = []
    if not pred_boxes:
        return recalls, precisions
    for threshold in IOU_THRESHOLDS:
        matched = [False] * len(gt_boxes)
        hit = [False] * len(pred_boxes)
        for i, pred in enumerate(pred_boxes):
            for j, gt in enumerate(gt_boxes):  # no break: one prediction may take several boxes
                if not matched[j] and corner_iou(gt, pred) >= threshold:
                    matched[j] = True
                    hit[i] = True
        tp = sum(hit)
        precisions.append(tp / len(pred_boxes))
        recalls.append(tp / len(gt_boxes))
    return recalls, precisions


def unsorted_voc_ap(recalls: Sequence[float], precisions: Sequence[float]) -> float:
    """The script's ``compute_ap``: VOC all-point formula on pairs in the given (threshold) order."""
    mrec = np.concatenate(([0.0], recalls, [1.0]))
    mpre = np.concatenate(([0.0], precisions, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    steps = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def image_class_ap(gt_boxes: Sequence[Corners], pred_boxes: Sequence[Corners]) -> float:
    """AP of one class in one image (fraction); 0 when the class has no prediction there."""
    return unsorted_voc_ap(*threshold_pairs(gt_boxes, pred_boxes))


def _check_threshold(score_threshold: float) -> float:
    if isinstance(score_threshold, bool) or not isinstance(score_threshold, (int, float)) \
            or not math.isfinite(score_threshold):
        raise ValueError(f"score threshold must be a finite number, got {score_threshold!r}")
    return float(score_threshold)


def calc_map_class_scores(ground_truth: GroundTruth, detections: Sequence[Detection],
                          score_threshold: float = DEFAULT_SCORE_THRESHOLD,
                          include_crowd: bool = False) -> dict[int, float]:
    """Per-class calc_map score in percent, keyed by category id, in the script's (first-seen) order."""
    threshold = _check_threshold(score_threshold)
    gt_by_image: dict[int, list[tuple[int, Corners]]] = defaultdict(list)
    for box in ground_truth.boxes:
        if include_crowd or not box.iscrowd:
            gt_by_image[box.image_id].append((box.category_id, to_corners(box.bbox)))
    preds_by_image: dict[int, list[Detection]] = defaultdict(list)
    for det in detections:
        if det.score > threshold:
            preds_by_image[det.image_id].append(det)

    aps_by_class: dict[int, list[float]] = {}
    for image_id in ground_truth.image_ids:
        gt = gt_by_image.get(image_id)
        if not gt:
            continue
        preds = sorted(preds_by_image.get(image_id, []), key=lambda d: d.score, reverse=True)  # stable
        for label in dict.fromkeys(category for category, _ in gt):
            gt_class = [corners for category, corners in gt if category == label]
            pred_class = [to_corners(d.bbox) for d in preds if d.category_id == label]
            aps_by_class.setdefault(label, []).append(image_class_ap(gt_class, pred_class))
    if not aps_by_class:
        raise ValueError(f"{ground_truth.source}: no image has ground-truth boxes; calc_map is undefined")
    return {label: float(np.mean(aps)) * 100 for label, aps in aps_by_class.items()}


def calc_map(ground_truth: GroundTruth, detections: Sequence[Detection],
             score_threshold: float = DEFAULT_SCORE_THRESHOLD, include_crowd: bool = False) -> float:
    """Overall calc_map in percent, unrounded (the script prints it with :func:`printed_map`)."""
    scores = calc_map_class_scores(ground_truth, detections, score_threshold, include_crowd)
    return float(np.mean(list(scores.values())))


def printed_map(value: float) -> str:
    """The overall score as the script prints it: two decimals."""
    return f"{value:.2f}"


@METRIC_STYLES.register("calc_map")
def calc_map_report(ground_truth: GroundTruth, detections: Sequence[Detection],
                    score_threshold: float = DEFAULT_SCORE_THRESHOLD, include_crowd: bool = False) -> dict[str, Any]:
    scores = calc_map_class_scores(ground_truth, detections, score_threshold, include_crowd)
    overall = float(np.mean(list(scores.values())))
    return {"mAP": overall, "mAP_printed": printed_map(overall), "per_class": per_class_table(ground_truth, scores),
            "score_threshold": float(score_threshold), "include_crowd": include_crowd}


# the figures every detection cell gates (harness.metrics.headlines), in percent
declare_headlines("calc_map", Headline("calc_map", "mAP", column="rec_perf"))
