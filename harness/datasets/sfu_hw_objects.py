"""SFU-HW-Objects ground truth (seed 001 §2.1.1.1) as a COCO instances dict.

Layout of one sequence: ``<sequence>/ground-truth/<frame>.txt`` (one file per frame, lines
``<object_label> <box_topleft_x> <box_topleft_y> <box_width> <box_height>`` in pixels) and, for inference, the
decoded frames as ``<sequence>/frames/<frame>.png`` (decode the sequence's video with any tool first).
Frames are ordered by the integer in their file name. Class ids are those of the seed's table, kept as COCO
category ids so that predictions in the same ids score without any mapping.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from harness.metrics.frame_text import read_frame_ground_truth

# seed 001 §2.1.1.1: the labels supported by the dataset (COCO 80-class indices, 0-based)
SFU_CLASSES = {0: "person", 1: "bicycle", 2: "car", 5: "bus", 7: "truck", 8: "boat", 13: "bench", 17: "horse",
               24: "backpack", 25: "umbrella", 26: "handbag", 27: "tie", 32: "sports ball", 41: "cup", 56: "chair",
               58: "potted plant", 60: "dining table", 63: "laptop", 67: "cell phone", 74: "clock", 77: "teddy bear"}


def sequence_dir(data_dir: Path | None, sequence: str) -> Path:
    """The folder of ``sequence`` (e.g. ``FourPeople``) inside the extracted ``sfu_hw_objects`` asset, located
    through the manifest (references/assets.yaml); AssetMissing when the data set or the sequence is absent."""
    from harness.assetstore.paths import AssetMissing, require_asset

    root = require_asset("sfu_hw_objects", data_dir)
    found = sorted(p for p in root.rglob("*") if p.is_dir() and p.name.startswith(sequence) and (p / "ground-truth").is_dir())
    if not found:
        raise AssetMissing(f"SFU-HW-Objects sequence {sequence!r} not found under {root} (no folder named "
                           f"{sequence}* with a ground-truth/ folder)")
    return found[0]


def _frame_number(path: Path) -> int:
    digits = re.findall(r"\d+", path.stem)
    if not digits:
        raise ValueError(f"{path}: cannot tell the frame number from the file name (expected digits in it)")
    return int(digits[-1])


def read_sequence(sequence_dir: Path, width: int | None = None, height: int | None = None) -> dict[str, Any]:
    """COCO instances dict of one sequence; image ids are frame numbers + 1 (COCO ids start at 1)."""
    gt_dir = Path(sequence_dir) / "ground-truth"
    if not gt_dir.is_dir():
        raise FileNotFoundError(f"{gt_dir} not found: an SFU-HW-Objects sequence has one annotation file per frame "
                                "there (https://dash-large-files.akamaized.net/WAVE/3GPP/AIML/ReferenceDataSets/"
                                "sfuhwobjects.tar.gz)")
    files = sorted(gt_dir.glob("*.txt"), key=_frame_number)
    if not files:
        raise FileNotFoundError(f"{gt_dir} holds no .txt annotation files")
    images, annotations = [], []
    for path in files:
        image_id = _frame_number(path) + 1
        image: dict[str, Any] = {"id": image_id, "file_name": f"{path.stem}.png"}
        if width and height:
            image.update(width=width, height=height)
        images.append(image)
        for box in read_frame_ground_truth(path):
            if box.label not in SFU_CLASSES:
                raise ValueError(f"{path}: label {box.label} is not an SFU-HW-Objects class id "
                                 f"({', '.join(map(str, SFU_CLASSES))})")
            if box.width <= 0 or box.height <= 0:
                raise ValueError(f"{path}: box of label {box.label} has a non-positive size {box.width}x{box.height}")
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": box.label,
                                "bbox": [box.x, box.y, box.width, box.height], "area": box.width * box.height,
                                "iscrowd": 0})
    categories = [{"id": cid, "name": name} for cid, name in SFU_CLASSES.items()]
    return {"images": images, "annotations": annotations, "categories": categories}
