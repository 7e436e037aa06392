"""COCO-format folders: write generated samples (PNG images + instances JSON, atomically) and read images.

:func:`read_image` is the one image reader of the suite (detection datasets, selection, training evaluation).
Why Pillow: it is already a matplotlib dependency and writes lossless PNG deterministically for a given
version, so the exported images decode to exactly the generated arrays.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable

import numpy as np
from PIL import Image

from harness.files import atomic_directory
from harness.datasets.synthetic_shapes import CATEGORIES, EVAL_SEED, Sample, generate_sample

IMAGES_DIR = "images"
INSTANCES_JSON = "instances.json"


def coco_dict(samples: Iterable[Sample], file_names: list[str], categories: list[dict] = CATEGORIES) -> dict:
    """COCO instances dict; image ids are 1-based positions, boxes are [x, y, w, h] in pixels."""
    images, annotations = [], []
    for image_id, (sample, name) in enumerate(zip(samples, file_names), start=1):
        height, width = sample.image.shape[:2]
        images.append({"id": image_id, "file_name": name, "width": int(width), "height": int(height)})
        for box, label, area in zip(sample.boxes, sample.labels, sample.areas):
            x0, y0, x1, y1 = (float(v) for v in box)
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": int(label),
                "bbox": [x0, y0, x1 - x0, y1 - y0], "area": float(area), "iscrowd": 0,
            })
    return {"info": {"description": "harness synthetic shapes"}, "images": images,
            "annotations": annotations, "categories": list(categories)}


def write_coco(samples: list[Sample], target: Path) -> Path:
    """Write ``target/images/*.png`` and ``target/instances.json``; ``target`` appears complete or not at all."""
    with atomic_directory(Path(target)) as tmp:
        (tmp / IMAGES_DIR).mkdir()
        names = [f"{i:06d}.png" for i in range(1, len(samples) + 1)]
        for sample, name in zip(samples, names):
            Image.fromarray(sample.image).save(tmp / IMAGES_DIR / name, format="PNG")
        (tmp / INSTANCES_JSON).write_text(json.dumps(coco_dict(samples, names), indent=1))
    return Path(target)


def read_image(path: Path) -> np.ndarray:
    """Any image file Pillow reads (PNG, JPEG, ...) -> uint8 HxWx3 RGB; an unreadable file is an error naming it."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("RGB"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read image {path}: {exc}") from exc


def eval_set(count: int = 50, seed: int = EVAL_SEED, indices: list[int] | None = None) -> Path:
    """The evaluation set, built once under the cache: images 0..count-1 of the held-out stream ``seed``,
    or the given stream ``indices`` (a selection, see ``harness.detection.selection``)."""
    import hashlib

    from harness.files import cached_path

    if indices is None:
        if count <= 0:
            raise ValueError(f"count must be positive, got {count}")
        indices, name = list(range(count)), f"synthetic_shapes_v1_seed{seed}_n{count}"
    else:
        if not indices or min(indices) < 0:
            raise ValueError(f"indices must be a non-empty list of non-negative stream indices, got {indices!r}")
        digest = hashlib.sha1(",".join(map(str, indices)).encode()).hexdigest()[:12]
        name = f"synthetic_shapes_v1_seed{seed}_sel{len(indices)}_{digest}"
    chosen = list(indices)
    return cached_path(f"datasets/{name}", lambda tmp: write_coco([generate_sample(seed, i) for i in chosen], tmp))
