"""Numpy post-processing after the network (or after split part 2): box decoding, softmax, per-class NMS.

Follows NVIDIA ssd_resnet's ``Encoder.decode_batch``: decode with the default boxes, softmax over classes,
for every class drop scores <= ``score_threshold``, greedy NMS at ``iou_threshold``, then keep the
``max_output`` best detections overall.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from harness.detection.ssd.default_boxes import DefaultBoxesConfig, decode, default_boxes_xywh


@dataclass
class Detections:
    """Detections of one image: boxes as x0, y0, x1, y1 in pixels; labels are dataset category ids."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray


def softmax(logits: np.ndarray, axis: int = -1) -> np.ndarray:
    shifted = logits - logits.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS, indices kept in decreasing score order (ties: lower index first, as torchvision's stable sort)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    keep: list[int] = []
    while order.size:
        i = order[0]
        keep.append(int(i))
        rest = order[1:]
        lt = np.maximum(boxes[i, :2], boxes[rest, :2])
        rb = np.minimum(boxes[i, 2:], boxes[rest, 2:])
        inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
        union = areas[i] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Per-class NMS; indices sorted by decreasing score like ``torchvision.ops.batched_nms``."""
    keep = [np.flatnonzero(classes == c)[nms(boxes[classes == c], scores[classes == c], iou_threshold)]
            for c in np.unique(classes)]
    if not keep:
        return np.zeros(0, dtype=np.int64)
    merged = np.concatenate(keep)
    return merged[np.argsort(-scores[merged], kind="stable")]


def top_per_class(idx: np.ndarray, cls: np.ndarray, scores: np.ndarray, limit: int) -> tuple[np.ndarray, np.ndarray]:
    """The candidates (box index, class) among the ``limit`` best scores of their class, in their original order."""
    order = np.lexsort((-scores, cls))  # by class, then decreasing score; stable for equal scores
    sorted_cls = cls[order]
    first = np.searchsorted(sorted_cls, sorted_cls, side="left")
    keep = np.sort(order[np.arange(len(order)) - first < limit])
    return idx[keep], cls[keep]


def postprocess(bboxes: np.ndarray, scores: np.ndarray, config: DefaultBoxesConfig, *,
                score_threshold: float = 0.05, iou_threshold: float = 0.5, max_output: int = 100,
                image_size: tuple[int, int] | None = None, max_candidates: int = 200) -> list[Detections]:
    """Network outputs (B, N, 4) offsets and (B, N, C+1) logits -> detections per image.

    Before NMS each class keeps its ``max_candidates`` best-scoring boxes, as NVIDIA's ``decode_single``
    (``max_num=200``); without that cap a degraded feature map (coarse QP) floods NMS with thousands of boxes.

    ``image_size`` (width, height) scales the normalised boxes to pixels (default: the network input size).
    Label k of the network (k >= 1) is returned as category id k.
    """
    bboxes, scores = np.asarray(bboxes), np.asarray(scores)
    anchors = default_boxes_xywh(config)
    if bboxes.ndim != 3 or bboxes.shape[1:] != (len(anchors), 4) or scores.shape[:2] != bboxes.shape[:2]:
        raise ValueError(f"expected bboxes (B, {len(anchors)}, 4) and scores (B, {len(anchors)}, C), "
                         f"got {bboxes.shape} and {scores.shape}; do they come from this model's config?")
    width, height = image_size or (config.fig_size, config.fig_size)
    results = []
    for offsets, logits in zip(bboxes, scores):
        boxes = np.clip(decode(offsets, anchors, config.scale_xy, config.scale_wh), 0.0, 1.0)
        probs = softmax(logits.astype(np.float64))[:, 1:]
        idx, cls = np.nonzero(probs > score_threshold)
        idx, cls = top_per_class(idx, cls, probs[idx, cls], max_candidates)
        cand_boxes, cand_scores = boxes[idx], probs[idx, cls]
        keep = batched_nms(cand_boxes, cand_scores, cls, iou_threshold)[:max_output]
        scale = np.array([width, height, width, height], dtype=np.float64)
        results.append(Detections(cand_boxes[keep] * scale, cand_scores[keep], cls[keep].astype(np.int64) + 1))
    return results
