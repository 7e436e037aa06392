"""Default (anchor) boxes and SSD box coding, following NVIDIA ssd_resnet's ``DefaultBoxes`` and ``Encoder``.

Boxes are normalised to [0, 1]. Encoded offsets use the variances scale_xy=0.1 and scale_wh=0.2:
``dx = (cx - acx) / (scale_xy * aw)``, ``dw = log(w / aw) / scale_wh`` (same for y/h).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True)
class DefaultBoxesConfig:
    """Everything that determines the default boxes; stored in the model JSON next to the ONNX file."""

    fig_size: int = 128
    feat_size: tuple[int, ...] = (32, 16, 8, 4, 2)
    steps: tuple[int, ...] = (4, 8, 16, 32, 64)
    scales: tuple[float, ...] = (10.0, 21.0, 38.0, 60.0, 86.0, 116.0)  # pixels; one more than maps
    aspect_ratios: tuple[tuple[float, ...], ...] = ((2.0,), (2.0,), (2.0,), (2.0,), (2.0,))
    scale_xy: float = 0.1
    scale_wh: float = 0.2

    def boxes_per_location(self) -> list[int]:
        return [2 + 2 * len(ratios) for ratios in self.aspect_ratios]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> "DefaultBoxesConfig":
        fields = dict(data)
        for key in ("feat_size", "steps", "scales"):
            fields[key] = tuple(fields[key])
        fields["aspect_ratios"] = tuple(tuple(r) for r in fields["aspect_ratios"])
        return cls(**fields)


@lru_cache(maxsize=8)  # post-processing asks once per image: built once per config, shared read-only
def default_boxes_xywh(config: DefaultBoxesConfig) -> np.ndarray:
    """(N, 4) float32 default boxes as cx, cy, w, h, in the order the heads emit them (read-only, cached).

    Order as in NVIDIA's DefaultBoxes: per feature map, per box size, per row, per column; that matches
    ``conv(x).view(batch, 4, -1)`` of a head whose channels are grouped coordinate-major.
    """
    if len(config.scales) != len(config.feat_size) + 1:
        raise ValueError("scales needs one entry more than feat_size")
    boxes: list[tuple[float, float, float, float]] = []
    for idx, size in enumerate(config.feat_size):
        fk = config.fig_size / config.steps[idx]
        sk1 = config.scales[idx] / config.fig_size
        sk2 = config.scales[idx + 1] / config.fig_size
        sk3 = math.sqrt(sk1 * sk2)
        sizes = [(sk1, sk1), (sk3, sk3)]
        for alpha in config.aspect_ratios[idx]:
            w, h = sk1 * math.sqrt(alpha), sk1 / math.sqrt(alpha)
            sizes += [(w, h), (h, w)]
        for w, h in sizes:
            for i, j in itertools.product(range(size), repeat=2):
                boxes.append(((j + 0.5) / fk, (i + 0.5) / fk, w, h))
    result = np.clip(np.asarray(boxes, dtype=np.float32), 0.0, 1.0)
    result.setflags(write=False)
    return result


def xywh_to_ltrb(boxes: np.ndarray) -> np.ndarray:
    cxcy, wh = boxes[..., :2], boxes[..., 2:]
    return np.concatenate([cxcy - wh / 2, cxcy + wh / 2], axis=-1)


def ltrb_to_xywh(boxes: np.ndarray) -> np.ndarray:
    lt, rb = boxes[..., :2], boxes[..., 2:]
    return np.concatenate([(lt + rb) / 2, rb - lt], axis=-1)


def encode(boxes_ltrb: np.ndarray, anchors_xywh: np.ndarray, scale_xy: float = 0.1, scale_wh: float = 0.2) -> np.ndarray:
    """Offsets of ``boxes_ltrb`` (N, 4) relative to their anchors (N, 4); boxes need positive width and height."""
    xywh = ltrb_to_xywh(np.asarray(boxes_ltrb, dtype=np.float64))
    anchors = np.asarray(anchors_xywh, dtype=np.float64)
    if np.any(xywh[..., 2:] <= 0) or np.any(anchors[..., 2:] <= 0):
        raise ValueError("encode needs boxes and anchors with positive width and height")
    dxy = (xywh[..., :2] - anchors[..., :2]) / (scale_xy * anchors[..., 2:])
    dwh = np.log(xywh[..., 2:] / anchors[..., 2:]) / scale_wh
    return np.concatenate([dxy, dwh], axis=-1)


def decode(offsets: np.ndarray, anchors_xywh: np.ndarray, scale_xy: float = 0.1, scale_wh: float = 0.2) -> np.ndarray:
    """Inverse of :func:`encode`: ltrb boxes from offsets (..., N, 4)."""
    offsets = np.asarray(offsets, dtype=np.float64)
    anchors = np.asarray(anchors_xywh, dtype=np.float64)
    cxcy = offsets[..., :2] * scale_xy * anchors[..., 2:] + anchors[..., :2]
    wh = np.exp(offsets[..., 2:] * scale_wh) * anchors[..., 2:]
    return xywh_to_ltrb(np.concatenate([cxcy, wh], axis=-1))


def iou_matrix(a_ltrb: np.ndarray, b_ltrb: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU, no +1 pixel convention."""
    lt = np.maximum(a_ltrb[:, None, :2], b_ltrb[None, :, :2])
    rb = np.minimum(a_ltrb[:, None, 2:], b_ltrb[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area_a = np.prod(a_ltrb[:, 2:] - a_ltrb[:, :2], axis=-1)
    area_b = np.prod(b_ltrb[:, 2:] - b_ltrb[:, :2], axis=-1)
    return inter / np.maximum(area_a[:, None] + area_b[None, :] - inter, 1e-12)


def assign_targets(gt_ltrb: np.ndarray, gt_labels: np.ndarray, anchors_xywh: np.ndarray,
                   config: DefaultBoxesConfig, iou_threshold: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Training targets as NVIDIA's ``Encoder.encode``: (N, 4) offsets and (N,) labels (0 = background).

    Each anchor takes the ground truth it overlaps most if IoU >= threshold; each ground truth also claims
    its best anchor, so no object is left without a positive.
    """
    n = len(anchors_xywh)
    if len(gt_ltrb) == 0:
        return np.zeros((n, 4), np.float32), np.zeros(n, np.int64)
    anchors_ltrb = xywh_to_ltrb(anchors_xywh)
    ious = iou_matrix(anchors_ltrb, gt_ltrb)  # (anchors, gt)
    best_gt = ious.argmax(axis=1)
    best_gt_iou = ious.max(axis=1)
    best_anchor = ious.argmax(axis=0)
    best_gt_iou[best_anchor] = 2.0
    best_gt[best_anchor] = np.arange(len(gt_ltrb))
    positive = best_gt_iou >= iou_threshold
    labels = np.where(positive, gt_labels[best_gt], 0).astype(np.int64)
    matched = gt_ltrb[best_gt]
    offsets = encode(matched, anchors_xywh, config.scale_xy, config.scale_wh).astype(np.float32)
    offsets[~positive] = 0.0
    return offsets, labels
