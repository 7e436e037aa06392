"""PoseNet's input pre-processing (the images themselves: harness.datasets.pose_images)."""
from __future__ import annotations

import numpy as np
from PIL import Image

from harness.datasets.pose_images import load_image


def image_feed(source: str | Image.Image, size: int, input_name: str = "image") -> dict[str, np.ndarray]:
    """PoseNet's input for one image (a loaded image or its source): resized to ``size`` x ``size`` (bilinear), ``x / 127.5 - 1``, NCHW float32.
    Resizing is pre-processing, outside every latency (seed 10.2.6)."""
    image = load_image(source) if isinstance(source, str) else source
    resized = image.resize((size, size), Image.BILINEAR)
    array = np.asarray(resized, dtype=np.float32) / 127.5 - 1.0
    return {input_name: np.ascontiguousarray(array.transpose(2, 0, 1)[None])}
