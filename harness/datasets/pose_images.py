"""Test images of the PoseNet scenario (PoseNet's input pre-processing is harness.pose.preprocess).

Seed 10.2.8 uses 24 COCO photographs of people, which cannot be downloaded here. Real photographs shipped
inside installed registry packages are used instead: ``matplotlib:grace_hopper.jpg`` (matplotlib's sample data,
a portrait of Grace Hopper; matplotlib is a dependency already). scikit-image's wheel also ships photographs of
people (``skimage:astronaut.png``, ``skimage:camera.png``); they are read when scikit-image is installed.
``generated:<seed>`` is a seeded synthetic image (a light figure of ellipses on a noisy background) for
cases that need no real content. ``file:<path>`` reads any image (e.g. the seed's COCO images); a relative path
is read under --data-dir.

The catalogue's entry ``pose_images`` (:data:`harness.datasets.DATASETS`) takes the matrix's list of sources.
"""
from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw

from harness.assetstore.paths import AssetMissing
from harness.datasets import DATASETS


def image_source_missing(source: str) -> str | None:
    """Why an image source cannot be read here, or None."""
    kind, _, name = source.partition(":")
    if kind == "skimage":
        try:
            resources.files("skimage.data")
        except ModuleNotFoundError:
            return f"image {source}: scikit-image is not installed (pip install scikit-image)"
    if kind == "file" and not Path(name).is_file():
        return f"image {source}: no such file"
    return None


def _generated(seed: int, size: int = 257) -> Image.Image:
    rng = np.random.default_rng(seed)
    background = (rng.random((size, size, 3)) * 80 + 40).astype(np.uint8)
    image = Image.fromarray(background)
    draw = ImageDraw.Draw(image)
    cx, cy = size // 2 + int(rng.integers(-20, 21)), size // 2
    color = tuple(int(c) for c in rng.integers(150, 256, 3))
    draw.ellipse([cx - 18, cy - 100, cx + 18, cy - 64], fill=color)  # head
    draw.rectangle([cx - 28, cy - 60, cx + 28, cy + 20], fill=color)  # torso
    for dx in (-1, 1):
        draw.line([cx + dx * 28, cy - 55, cx + dx * 70, cy - int(rng.integers(0, 60))], fill=color, width=10)
        draw.line([cx + dx * 15, cy + 20, cx + dx * 30, cy + 110], fill=color, width=12)
    return image


def load_image(source: str) -> Image.Image:
    """An RGB image from ``matplotlib:NAME``, ``skimage:NAME``, ``generated:SEED`` or ``file:PATH``."""
    kind, _, name = source.partition(":")
    if kind == "matplotlib":
        from matplotlib import cbook

        path = Path(cbook.get_sample_data(name, asfileobj=False))
    elif kind == "skimage":
        reason = image_source_missing(source)
        if reason:
            raise FileNotFoundError(reason)
        path = Path(str(resources.files("skimage.data") / name))
    elif kind == "file":
        path = Path(name)
    elif kind == "generated":
        try:
            return _generated(int(name))
        except ValueError:
            raise ValueError(f"image {source}: generated:<integer seed>") from None
    else:
        raise ValueError(f"image source {source!r}: use matplotlib:NAME, skimage:NAME, generated:SEED or file:PATH")
    if not path.is_file():
        raise FileNotFoundError(f"image {source}: {path} does not exist")
    with Image.open(path) as image:
        return image.convert("RGB")



def _under_data_dir(source: str, data_dir: Path | None) -> str:
    kind, _, name = source.partition(":")
    if kind == "file" and data_dir is not None and not Path(name).is_absolute():
        return f"file:{Path(data_dir) / name}"
    return source


@DATASETS.register("pose_images")
def pose_images(data_dir: Path | None = None, *, sources: Sequence[str]) -> list[Image.Image]:
    """The RGB images of ``sources``, in order; AssetMissing naming the first that cannot be read here."""
    resolved = [_under_data_dir(source, data_dir) for source in sources]
    for source in resolved:
        reason = image_source_missing(source)
        if reason:
            raise AssetMissing(reason)
    return [load_image(source) for source in resolved]
