"""``voc`` style: PASCAL VOC average precision at IoU 0.5 with all-point interpolation, in percent.

Per class, every detection of that class over all images is ranked by score (highest first; ties broken by
image id, then box, so that the result does not depend on the order of the results file). Walking down the
ranking, a detection is
  * a true positive when some not-yet-matched, non-crowd ground-truth box of its class in its image has
    IoU > 0.5 with it (strictly greater, as the VOC devkit's ``ovmax > ovthresh``); it takes the one with
    the highest IoU, which is then matched;
  * ignored (neither TP nor FP) when it matches no such box but covers a crowd region of its class,
    with pycocotools' crowd overlap (intersection over the detection's area) > 0.5. COCO crowd regions
    play the role of VOC's "difficult" objects: they are never required, and they are not counted as
    positives (VOC's ``npos`` counts non-difficult boxes only);
  * a false positive otherwise.
AP is the area under the precision envelope (VOC 2010+ ``voc_ap``: precision made monotone from the right,
summed over the recall steps); a class with ground truth and no true positive scores 0. mAP is the mean
over the classes that have at least one non-crowd ground-truth box; detections of other classes are not
scored. IoU uses continuous coordinates (no +1 pixel), computed by ``pycocotools.mask.iou``.

Relation to COCO's AP50: same matching rule (highest-IoU unmatched box, crowd regions ignored), but COCO
counts IoU == 0.5 as a match, keeps at most 100 detections per image and averages precision at 101 recall
points instead of integrating the envelope; the two differ by at most about one point per class otherwise.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from harness.metrics import METRIC_STYLES, Headline, declare_headlines, per_class_table
from harness.metrics.coco_data import Detection, GroundTruth, GroundTruthBox

IOU_THRESHOLD = 0.5


def all_point_ap(recall: np.ndarray, precision: np.ndarray) -> float:
    """VOC all-point interpolated AP of a precision/recall curve ordered by increasing recall."""
    mrec = np.concatenate(([0.0], recall, [1.0]))
    mpre = np.concatenate(([0.0], precision, [0.0]))
    mpre = np.maximum.accumulate(mpre[::-1])[::-1]  # precision envelope: max over all higher recalls
    steps = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[steps + 1] - mrec[steps]) * mpre[steps + 1]))


def _class_ap(gt_by_image: dict[int, list[GroundTruthBox]], detections: list[Detection]) -> float:
    from pycocotools import mask as mask_utils  # deferred: keeps `python -m harness` start-up light

    positives = sum(1 for boxes in gt_by_image.values() for box in boxes if not box.iscrowd)
    ranked = sorted(detections, key=lambda d: (-d.score, d.image_id, d.bbox))
    matched = {image_id: np.zeros(len(boxes), dtype=bool) for image_id, boxes in gt_by_image.items()}
    outcome = []  # +1 true positive, 0 false positive; ignored detections are left out
    for det in ranked:
        boxes = gt_by_image.get(det.image_id, [])
        if not boxes:
            outcome.append(0)
            continue
        crowd = [box.iscrowd for box in boxes]
        ious = mask_utils.iou([list(det.bbox)], [list(box.bbox) for box in boxes], [int(c) for c in crowd])[0]
        candidates = [(iou, j) for j, iou in enumerate(ious)
                      if not crowd[j] and not matched[det.image_id][j] and iou > IOU_THRESHOLD]
        if candidates:
            best = max(candidates, key=lambda c: (c[0], -c[1]))[1]  # highest IoU, first box on ties
            matched[det.image_id][best] = True
            outcome.append(1)
        elif not any(c and iou > IOU_THRESHOLD for c, iou in zip(crowd, ious)):
            outcome.append(0)
    tp = np.cumsum(np.array(outcome, dtype=float))
    fp = np.cumsum(1.0 - np.array(outcome, dtype=float))
    if tp.size == 0:
        return 0.0
    return all_point_ap(tp / positives, tp / np.maximum(tp + fp, np.finfo(float).eps))


def voc_class_aps(ground_truth: GroundTruth, detections: Sequence[Detection]) -> dict[int, float]:
    """VOC AP in percent of each category with non-crowd ground truth, keyed by category id."""
    gt_by_class: dict[int, dict[int, list[GroundTruthBox]]] = defaultdict(lambda: defaultdict(list))
    for box in ground_truth.boxes:
        gt_by_class[box.category_id][box.image_id].append(box)
    dets_by_class: dict[int, list[Detection]] = defaultdict(list)
    for det in detections:
        dets_by_class[det.category_id].append(det)
    scored = sorted(cid for cid, images in gt_by_class.items()
                    if any(not box.iscrowd for boxes in images.values() for box in boxes))
    if not scored:
        raise ValueError(f"{ground_truth.source}: the ground truth has no non-crowd box; VOC mAP is undefined")
    return {cid: 100.0 * _class_ap(gt_by_class[cid], dets_by_class.get(cid, [])) for cid in scored}


def voc_map(ground_truth: GroundTruth, detections: Sequence[Detection]) -> float:
    """VOC mAP in percent: the unweighted mean of :func:`voc_class_aps`."""
    return float(np.mean(list(voc_class_aps(ground_truth, detections).values())))


@METRIC_STYLES.register("voc")
def voc_report(ground_truth: GroundTruth, detections: Sequence[Detection]) -> dict[str, Any]:
    aps = voc_class_aps(ground_truth, detections)
    return {"mAP": float(np.mean(list(aps.values()))), "per_class": per_class_table(ground_truth, aps)}


# the figures every detection cell gates (harness.metrics.headlines), in percent
declare_headlines("voc", Headline("voc", "mAP", column="map_voc"))
