"""A deterministic, realistic stand-in for a split-point feature map (ReLU output): sparse, non-negative,
spatially correlated, with channels of very different activity, as after ssd_resnet node 10 (1x256x75x75).

Bit-identical on any machine: numpy's Generator (PCG64, fixed seed) draws the noise, smoothing uses only
element-wise additions (no reductions whose order could vary), and values are rounded to multiples of 2^-8
before the cast to float32, which holds them exactly.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from harness.datasets import DATASETS

SSD_SPLIT10_SHAPE = (1, 256, 75, 75)


def _smooth(field: np.ndarray) -> np.ndarray:
    """One pass of a separable [1, 2, 1] / 4 blur over the last two axes (edge-replicated), element-wise only."""
    for axis in (-2, -1):
        padded = np.concatenate([np.take(field, [0], axis=axis), field, np.take(field, [-1], axis=axis)], axis=axis)
        n = field.shape[axis]
        left = np.take(padded, np.arange(0, n), axis=axis)
        centre = np.take(padded, np.arange(1, n + 1), axis=axis)
        right = np.take(padded, np.arange(2, n + 2), axis=axis)
        field = (left + 2.0 * centre + right) * 0.25
    return field


@DATASETS.register("relu_features")
def relu_features_set(data_dir: Path | None = None, *, shape: tuple[int, ...] = SSD_SPLIT10_SHAPE,
                      seed: int = 2024) -> np.ndarray:
    """The catalogue's entry: one seeded feature map (``data_dir`` is not read)."""
    return relu_features(tuple(int(n) for n in shape), int(seed))


def relu_features(shape: tuple[int, ...] = SSD_SPLIT10_SHAPE, seed: int = 2024) -> np.ndarray:
    """float32 NCHW feature map: about 70 % zeros, the rest smooth positive blobs up to roughly 10."""
    rng = np.random.default_rng(seed)
    batch, channels, height, width = shape
    field = rng.standard_normal((batch, channels, height, width))
    for _ in range(3):
        field = _smooth(field)
    field = field * 2.5  # three blur passes shrink the std to ~0.4; bring it back near 1
    offset = rng.normal(-0.4, 0.5, size=(batch, channels, 1, 1))
    gain = rng.uniform(0.2, 3.0, size=(batch, channels, 1, 1))
    activations = np.maximum((field + offset) * gain, 0.0)
    return (np.round(activations * 256.0) / 256.0).astype(np.float32)
