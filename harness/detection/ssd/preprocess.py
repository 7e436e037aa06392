"""Image pre-processing of the embedded detector (ImageNet mean/std as NVIDIA ssd_resnet)."""
from __future__ import annotations

import numpy as np

MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def preprocess(images: np.ndarray) -> np.ndarray:
    """uint8 HxWx3 or BxHxWx3 RGB -> float32 Bx3xHxW network input."""
    images = np.asarray(images)
    if images.dtype != np.uint8 or images.shape[-1] != 3 or images.ndim not in (3, 4):
        raise ValueError(f"preprocess expects uint8 RGB images (H, W, 3) or (B, H, W, 3), got {images.dtype} {images.shape}")
    if images.ndim == 3:
        images = images[None]
    x = (images.astype(np.float32) / 255.0 - MEAN) / STD
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
