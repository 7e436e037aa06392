"""Detectors: an ONNX graph plus the pre-processing before it and the box decoding/NMS after it.

Post-processing runs in numpy after the network (or after split part 2) so that the split engine only ever
cuts the network itself. A detector is one factory registered in :data:`DETECTORS`, taking the user's
``--data-dir`` (or ``None``) and raising :class:`AssetMissing` when what it needs is not there.

Names say where the weights come from: a DETECTORS name is a trained model (``ssd_small``: shipped in the
repository; ``ssd_resnet``: the user's ssd_resnet.onnx at the manifest's ``models/ssd_resnet.onnx`` under
--data-dir), while harness.models builds architectures with seeded weights under the manifest's
``<architecture>_seeded`` names (``ssd_resnet_seeded``), which are no detectors.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from harness.assetstore.paths import AssetMissing
from harness.detection.ssd.default_boxes import DefaultBoxesConfig
from harness.detection.ssd.postprocess import Detections, postprocess
from harness.detection.ssd.preprocess import preprocess
from harness.models import model_path
from harness.registry import Registry

__all__ = ["AssetMissing", "DETECTORS", "Detector", "coco_result_rows", "ssd_small_detector"]


def coco_result_rows(image_id: int, detections: Detections) -> list[dict]:
    """COCO results rows ([x, y, w, h] boxes) of one image."""
    rows = []
    for box, score, label in zip(detections.boxes, detections.scores, detections.labels):
        x0, y0, x1, y1 = (float(v) for v in box)
        rows.append({"image_id": int(image_id), "category_id": int(label),
                     "bbox": [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)],
                     "score": round(float(score), 6)})
    return rows


@dataclass
class Detector:
    name: str
    onnx_path: Path
    input_name: str
    input_size: int  # square network input, pixels
    boxes_config: DefaultBoxesConfig
    category_ids: list[int]  # network label k (k >= 1) -> dataset category id category_ids[k - 1]
    origin: str
    score_threshold: float = 0.05
    #: the detector whose part 1 (and cloud-only anchor) this one shares when only its part 2 was re-trained
    #: (compression-augmented training, seed 002 §3.3); None for a model of its own
    base_model: str | None = None
    _md5: str | None = field(default=None, repr=False)

    def preprocess(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """uint8 HxWx3 RGB image -> input feed (resized to the network input when needed)."""
        if image.shape[:2] != (self.input_size, self.input_size):
            image = _resize(image, self.input_size)
        return {self.input_name: preprocess(image)}

    def detections(self, outputs: list[np.ndarray], image_id: int, width: int, height: int) -> list[dict]:
        """Network outputs of one image -> COCO results rows."""
        bboxes, scores = outputs[0], outputs[1]
        if bboxes.ndim == 3 and bboxes.shape[1] == 4 and bboxes.shape[2] != 4:
            # NVIDIA's exported ssd_resnet gives (B, 4, N) and (B, C, N)
            bboxes, scores = bboxes.transpose(0, 2, 1), scores.transpose(0, 2, 1)
        (dets,) = postprocess(bboxes, scores, self.boxes_config, score_threshold=self.score_threshold,
                              image_size=(width, height))
        labels = np.asarray([self.category_ids[int(label) - 1] for label in dets.labels], dtype=np.int64)
        return coco_result_rows(image_id, Detections(dets.boxes, dets.scores, labels))

    @property
    def md5(self) -> str:
        if self._md5 is None:
            self._md5 = hashlib.md5(self.onnx_path.read_bytes()).hexdigest()
        return self._md5


def _resize(image: np.ndarray, size: int) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.BILINEAR))


DetectorFactory = Callable[[Path | None], Detector]
DETECTORS: Registry[DetectorFactory] = Registry("detector")


def ssd_small_detector(onnx_path: Path, config: DefaultBoxesConfig = DefaultBoxesConfig(),
                       category_ids: Sequence[int] = (1, 2, 3, 4, 5, 6), input_name: str = "image",
                       origin: str = "trained", name: str = "ssd_small", base_model: str | None = None) -> Detector:
    """An ssd_small-architecture ONNX file as a detector (the training script evaluates its exports this way)."""
    return Detector(name, Path(onnx_path), input_name, config.fig_size, config, list(category_ids), origin,
                    base_model=base_model)


def embedded_meta(asset: str = "ssd_small") -> tuple[Path, dict]:
    """A shipped ssd_small-architecture model and its model JSON (written beside it by scripts/train_ssd_small.py)."""
    onnx_path = model_path(asset)
    meta_path = onnx_path.with_suffix(".json")
    if not meta_path.is_file():
        raise AssetMissing(f"{meta_path} (the model JSON of {onnx_path.name}) is missing: run "
                           "scripts/train_ssd_small.py to build it")
    return onnx_path, json.loads(meta_path.read_text())


def _embedded(asset: str, base_model: str | None = None) -> Detector:
    onnx_path, meta = embedded_meta(asset)
    return ssd_small_detector(onnx_path, DefaultBoxesConfig.from_json(meta["default_boxes"]),
                              [c["id"] for c in meta["categories"]], meta.get("input_name", "image"), "shipped",
                              name=asset, base_model=base_model)


@DETECTORS.register("ssd_small")
def embedded_ssd_small(data_dir: Path | None = None) -> Detector:
    """The embedded SSD trained by scripts/train_ssd_small.py on the generated shapes dataset."""
    return _embedded("ssd_small")


@DETECTORS.register("ssd_small_cat90")
def embedded_ssd_small_cat90(data_dir: Path | None = None) -> Detector:
    """ssd_small with part 2 fine-tuned by compression-augmented training at split 90 (seed 002 §3.3;
    scripts/train_ssd_small.py --finetune-part2-at 90): part 1 is the shipped ssd_small's, bit for bit."""
    return _embedded("ssd_small_cat90", base_model="ssd_small")


# COCO's 80 detection classes as 91-id category ids, in the order of NVIDIA SSD300's labels 1..80.
COCO80_TO_91 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28,
                31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
                56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84,
                85, 86, 87, 88, 89, 90]

# NVIDIA DeepLearningExamples SSD300 v1.1 ``dboxes300_coco()``.
DBOXES300_COCO = DefaultBoxesConfig(
    fig_size=300, feat_size=(38, 19, 10, 5, 3, 1), steps=(8, 16, 32, 64, 100, 300),
    scales=(21.0, 45.0, 99.0, 153.0, 207.0, 261.0, 315.0),
    aspect_ratios=((2.0,), (2.0, 3.0), (2.0, 3.0), (2.0, 3.0), (2.0,), (2.0,)))


@DETECTORS.register("ssd_resnet")
def user_ssd_resnet(data_dir: Path | None = None) -> Detector:
    """The trained ssd_resnet.onnx of seed 000 (convert_ssd300_to_onnx.py), at the manifest's place under --data-dir."""
    path = model_path("ssd_resnet", data_dir)
    import onnx

    graph_input = onnx.load(str(path), load_external_data=False).graph.input[0].name
    return Detector("ssd_resnet", path, graph_input, 300, DBOXES300_COCO, COCO80_TO_91, origin="user-provided")
