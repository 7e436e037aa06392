"""Run the (unsplit) embedded detector on a COCO-format image folder and return COCO results.

The split-inference pipeline lives elsewhere; this is the anchor path used by the training script and tests.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from harness.detectors.default_boxes import DefaultBoxesConfig
from harness.detectors.postprocess import Detections, postprocess
from harness.detectors.preprocess import preprocess


def coco_result_rows(image_id: int, detections: Detections) -> list[dict]:
    """COCO results rows ([x, y, w, h] boxes) of one image."""
    rows = []
    for box, score, label in zip(detections.boxes, detections.scores, detections.labels):
        x0, y0, x1, y1 = (float(v) for v in box)
        rows.append({"image_id": int(image_id), "category_id": int(label),
                     "bbox": [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)],
                     "score": round(float(score), 6)})
    return rows


def detect_coco(session, root: Path, config: DefaultBoxesConfig, instances: str = "instances.json",
                images_dir: str = "images", **postprocess_options) -> list[dict]:
    """Detections for every image listed in ``root/instances`` (an onnxruntime session of the detector)."""
    from harness.datasets.coco_export import read_image

    root = Path(root)
    listing = root / instances
    if not listing.is_file():
        raise FileNotFoundError(f"{listing} not found; expected a COCO-format folder with {instances} and {images_dir}/")
    input_name = session.get_inputs()[0].name
    results: list[dict] = []
    for image in json.loads(listing.read_text())["images"]:
        pixels = read_image(root / images_dir / image["file_name"])
        bboxes, scores = session.run(["bboxes", "scores"], {input_name: preprocess(pixels)})
        size = (pixels.shape[1], pixels.shape[0])
        (dets,) = postprocess(np.asarray(bboxes), np.asarray(scores), config, image_size=size, **postprocess_options)
        results.extend(coco_result_rows(image["id"], dets))
    return results
