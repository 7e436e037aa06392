"""How an image becomes a detector's input feed, as the model's catalogue entry declares it.

A model entry of references/assets.yaml with a ``detector`` block names its pre-processing under
``preprocess`` (every key optional):

* ``resize``: the square side the graph takes (bilinear, PIL), applied when the image is another size; omitted:
  the image as it is (a graph that resizes inside, as torchvision's detection transform does);
* ``scale``: the image's uint8 values are divided by it (default 255: values in [0, 1]);
* ``mean``, ``std``: per RGB channel, ``(x / scale - mean) / std`` (ImageNet's for NVIDIA's SSD300);
* ``layout``: ``NCHW`` (a batch of one) or ``CHW`` (one image, torchvision detection models' export).

The arithmetic is float32 in that order, so the embedded ssd_small's feed is the one it was trained and
recorded with, bit for bit (``harness.detection.ssd.preprocess``, tested against it).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

LAYOUTS = ("NCHW", "CHW")
KEYS = ("resize", "scale", "mean", "std", "layout")


@dataclass(frozen=True)
class ImagePreprocess:
    resize: int | None = None
    scale: float = 255.0
    mean: tuple[float, float, float] | None = None
    std: tuple[float, float, float] | None = None
    layout: str = "NCHW"

    @classmethod
    def from_data(cls, data: Mapping[str, Any] | None, where: str) -> "ImagePreprocess":
        """From a catalogue entry's ``preprocess`` mapping; a clear error naming ``where`` and the bad key."""
        data = dict(data or {})
        unknown = set(data) - set(KEYS)
        if unknown:
            raise ValueError(f"{where}: preprocess key(s) {', '.join(sorted(unknown))} unknown; known: {', '.join(KEYS)}")
        resize = data.get("resize")
        if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int) or resize < 1):
            raise ValueError(f"{where}: preprocess resize must be a positive integer side, got {resize!r}")
        scale = data.get("scale", 255.0)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or scale <= 0:
            raise ValueError(f"{where}: preprocess scale must be a positive number, got {scale!r}")
        triples = {}
        for key in ("mean", "std"):
            value = data.get(key)
            if value is not None and (not isinstance(value, list) or len(value) != 3
                                      or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
                                      or (key == "std" and min(value) <= 0)):
                raise ValueError(f"{where}: preprocess {key} must be 3 numbers (R, G, B)"
                                 f"{', all positive' if key == 'std' else ''}, got {value!r}")
            triples[key] = None if value is None else tuple(float(v) for v in value)
        layout = data.get("layout", "NCHW")
        if layout not in LAYOUTS:
            raise ValueError(f"{where}: preprocess layout {layout!r} is not one of {', '.join(LAYOUTS)}")
        return cls(resize, float(scale), triples["mean"], triples["std"], layout)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        """uint8 HxWx3 RGB image -> the float32 feed."""
        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"preprocess expects one uint8 RGB image (H, W, 3), got {image.dtype} {image.shape}")
        if self.resize is not None and image.shape[:2] != (self.resize, self.resize):
            image = _resize(image, self.resize)
        x = image.astype(np.float32) / np.float32(self.scale)
        if self.mean is not None:
            x = x - np.asarray(self.mean, dtype=np.float32)
        if self.std is not None:
            x = x / np.asarray(self.std, dtype=np.float32)
        x = x.transpose(2, 0, 1)
        return np.ascontiguousarray(x[None] if self.layout == "NCHW" else x)


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))
