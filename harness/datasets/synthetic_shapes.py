"""Deterministic synthetic detection dataset: coloured geometric shapes on cluttered backgrounds.

Why: trained ssd_resnet weights and COCO cannot be downloaded here, so the suite ships its own detector
trained on data it can regenerate bit-exactly from a seed (numpy only, no drawing library).

Each image is ``IMAGE_SIZE`` x ``IMAGE_SIZE`` RGB uint8: a two-colour gradient, Gaussian noise and thin
distractor strokes, then 1-6 shapes of ``CATEGORIES`` (random colour, optional stripe texture, random
rotation and mild aspect change, 12-84 px). A shape is only drawn if every earlier shape keeps at least
``MIN_VISIBLE`` of its pixels visible, so every ground-truth box shows a recognisable object; boxes are the
tight pixel extent of the whole (amodal) shape and never touch the border.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

IMAGE_SIZE = 128
MIN_VISIBLE = 0.6
MIN_SIDE, MAX_SIDE = 12.0, 84.0
MAX_OBJECTS = 6
CATEGORIES: list[dict] = [
    {"id": i + 1, "name": name, "supercategory": "shape"}
    for i, name in enumerate(["circle", "square", "triangle", "ring", "cross", "star"])
]
NUM_CLASSES = len(CATEGORIES)
TRAIN_SEED = 0  # training stream; the evaluation set uses EVAL_SEED, so it is held out
EVAL_SEED = 2024

_CENTRES = np.arange(IMAGE_SIZE, dtype=np.float64) + 0.5  # shapes are sampled at pixel centres


@dataclass
class Sample:
    """One generated image with its ground truth (boxes are x0, y0, x1, y1 in pixels, exclusive end)."""

    image: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    areas: np.ndarray
    visible: np.ndarray = field(default_factory=lambda: np.zeros(0))


def shape_mask(kind: str, u: np.ndarray, v: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Inside test in the shape's unit frame (u, v in [-1, 1])."""
    r2 = u * u + v * v
    if kind == "circle":
        return r2 <= 1.0
    if kind == "square":
        return (np.abs(u) <= 1.0) & (np.abs(v) <= 1.0)
    if kind == "triangle":
        return (v <= 1.0) & (v >= 2.0 * np.abs(u) - 1.0)
    if kind == "ring":
        inner = rng.uniform(0.45, 0.62)
        return (r2 <= 1.0) & (r2 >= inner * inner)
    if kind == "cross":
        t = rng.uniform(0.26, 0.36)
        return ((np.abs(u) <= t) & (np.abs(v) <= 1.0)) | ((np.abs(v) <= t) & (np.abs(u) <= 1.0))
    if kind == "star":
        theta = np.arctan2(v, u)
        phase = np.mod(theta * 5.0 / (2.0 * np.pi), 1.0)
        radius = 0.42 + 0.58 * np.abs(phase - 0.5) * 2.0
        return r2 <= radius * radius
    raise ValueError(f"unknown shape kind {kind!r}")


def _background(rng: np.random.Generator) -> np.ndarray:
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    angle = rng.uniform(0, 2 * np.pi)
    yy, xx = np.meshgrid(_CENTRES, _CENTRES, indexing="ij")
    t = ((xx * np.cos(angle) + yy * np.sin(angle)) / IMAGE_SIZE + 1.0) / 2.0
    image = c0 + (c1 - c0) * t[..., None]
    image += rng.normal(0, rng.uniform(3, 12), image.shape)
    for _ in range(int(rng.integers(3, 10))):  # distractor strokes: edges that are not objects
        p0, p1 = rng.uniform(0, IMAGE_SIZE, 2), rng.uniform(0, IMAGE_SIZE, 2)
        d = p1 - p0
        length2 = float(d @ d) + 1e-9
        s = np.clip(((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / length2, 0, 1)
        dist = np.hypot(xx - p0[0] - s * d[0], yy - p0[1] - s * d[1])
        image[dist <= rng.uniform(0.6, 1.8)] = rng.uniform(0, 255, 3)
    return image


def generate_sample(seed: int, index: int) -> Sample:
    """Image ``index`` of the stream ``seed``; identical on every run and platform."""
    if index < 0 or seed < 0:
        raise ValueError(f"seed and index must be non-negative, got seed={seed} index={index}")
    rng = np.random.default_rng([seed, index])
    image = _background(rng)
    yy, xx = np.meshgrid(_CENTRES, _CENTRES, indexing="ij")
    owner = np.full((IMAGE_SIZE, IMAGE_SIZE), -1, dtype=np.int32)
    masks: list[np.ndarray] = []
    labels: list[int] = []
    for _ in range(int(rng.integers(1, MAX_OBJECTS + 1))):
        for _attempt in range(12):
            label = int(rng.integers(1, NUM_CLASSES + 1))
            side = float(np.exp(rng.uniform(np.log(MIN_SIDE), np.log(MAX_SIDE))))
            aspect = float(np.exp(rng.uniform(np.log(0.75), np.log(1.33))))
            half_w, half_h = side / 2 * min(1.0, aspect), side / 2 * min(1.0, 1 / aspect)
            reach = np.hypot(half_w, half_h) + 1.0
            cx, cy = rng.uniform(reach, IMAGE_SIZE - reach, 2)
            angle = rng.uniform(0, 2 * np.pi)
            dx, dy = xx - cx, yy - cy
            u = (dx * np.cos(angle) + dy * np.sin(angle)) / half_w
            v = (-dx * np.sin(angle) + dy * np.cos(angle)) / half_h
            mask = shape_mask(CATEGORIES[label - 1]["name"], u, v, rng)
            if mask.sum() < 30:
                continue
            # Would drawing this shape hide too much of an earlier one? Then try another placement.
            if any(((owner == k) & ~mask).sum() < MIN_VISIBLE * masks[k].sum() for k in range(len(masks))):
                continue
            colour = rng.uniform(0, 255, 3)
            local = image[mask].mean(axis=0)
            if np.linalg.norm(colour - local) < 90:  # keep the shape distinguishable from what is under it
                colour = np.where(local > 127, local - rng.uniform(90, 127, 3), local + rng.uniform(90, 127, 3))
            fill = np.broadcast_to(colour, image.shape).copy()
            if rng.random() < 0.5:  # stripe texture so colour/flatness is no class giveaway
                period = rng.uniform(3, 8)
                stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / period)
                fill += (rng.uniform(15, 35) * stripes)[..., None]
            image[mask] = fill[mask]
            owner[mask] = len(masks)
            masks.append(mask)
            labels.append(label)
            break
    image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    boxes = np.zeros((len(masks), 4), dtype=np.float32)
    for k, mask in enumerate(masks):
        rows, cols = np.nonzero(mask)
        boxes[k] = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    areas = np.array([m.sum() for m in masks], dtype=np.float32)
    visible = np.array([(owner == k).sum() / m.sum() for k, m in enumerate(masks)], dtype=np.float32)
    return Sample(image, boxes, np.array(labels, dtype=np.int64), areas, visible)


def generate_batch(seed: int, start: int, count: int) -> list[Sample]:
    """Images ``start .. start+count-1`` of stream ``seed``."""
    return [generate_sample(seed, start + i) for i in range(count)]
