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

__all__ = ["AssetMissing", "DETECTORS", "Detector", "InGraphHead", "SsdHead", "coco_result_rows", "retinanet_detector",
           "ssd_small_detector"]


def coco_result_rows(image_id: int, detections: Detections) -> list[dict]:
    """COCO results rows ([x, y, w, h] boxes) of one image."""
    rows = []
    for box, score, label in zip(detections.boxes, detections.scores, detections.labels):
        x0, y0, x1, y1 = (float(v) for v in box)
        rows.append({"image_id": int(image_id), "category_id": int(label),
                     "bbox": [round(x0, 3), round(y0, 3), round(x1 - x0, 3), round(y1 - y0, 3)],
                     "score": round(float(score), 6)})
    return rows


class SsdHead:
    """Post-processing outside the graph (SSD): the network takes a square normalised input and returns encoded
    box offsets and class logits per default box; decoding, softmax and NMS run in numpy afterwards, so a split
    engine only ever cuts the network and every cut of it has a fixed shape."""

    def __init__(self, input_size: int, boxes_config: DefaultBoxesConfig, score_threshold: float = 0.05) -> None:
        self.input_size, self.boxes_config, self.score_threshold = input_size, boxes_config, score_threshold

    def feed(self, image: np.ndarray) -> np.ndarray:
        if image.shape[:2] != (self.input_size, self.input_size):
            image = _resize(image, self.input_size)
        return preprocess(image)

    def decode(self, outputs: Sequence[np.ndarray], width: int, height: int) -> Detections:
        """Network labels k >= 1 (0 is background) of the image at its own size."""
        bboxes, scores = outputs[0], outputs[1]
        if bboxes.ndim == 3 and bboxes.shape[1] == 4 and bboxes.shape[2] != 4:
            # NVIDIA's exported ssd_resnet gives (B, 4, N) and (B, C, N)
            bboxes, scores = bboxes.transpose(0, 2, 1), scores.transpose(0, 2, 1)
        (dets,) = postprocess(bboxes, scores, self.boxes_config, score_threshold=self.score_threshold,
                              image_size=(width, height))
        return dets


class InGraphHead:
    """Post-processing inside the graph (torchvision detection models as the 5G-MAG RetinaNet scripts export them,
    seed 001 §10.3.8.1): the graph takes one 3xHxW float image in [0, 1], resizes and normalises it itself and
    returns ``boxes`` (N x 4, x0 y0 x1 y1 in input pixels), ``scores`` (N) and ``labels`` (N) after its own NMS.

    Chosen for RetinaNet because it is the interface of the user's retinanet.onnx: the same code runs the
    embedded model and the real one. The price: cuts after the NMS carry data-dependent shapes (as many boxes as
    survived), which the coders accept as any other tensor; cuts inside the network carry fixed shapes plus the
    int64 image-size side tensors the transform computed.
    """

    def __init__(self, score_threshold: float = 0.05) -> None:
        self.score_threshold = score_threshold  # applied after the graph's own (a no-op where that is higher)

    def feed(self, image: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / np.float32(255)

    def decode(self, outputs: Sequence[np.ndarray], width: int, height: int) -> Detections:
        if len(outputs) != 3:
            raise ValueError(f"expected outputs boxes, scores, labels; got {len(outputs)} outputs: not a graph with its "
                             "post-processing inside")
        boxes, scores, labels = outputs[0], outputs[1], outputs[2]
        if boxes.ndim != 2 or boxes.shape[-1] != 4 or scores.shape != boxes.shape[:1] or labels.shape != scores.shape:
            raise ValueError(f"expected outputs boxes (N, 4), scores (N,), labels (N,); got shapes {boxes.shape}, "
                             f"{scores.shape}, {labels.shape}: not a graph with its post-processing inside")
        keep = scores > self.score_threshold
        boxes = boxes[keep].astype(np.float32)
        # A cut after the NMS codes the boxes themselves; a lossy coder may move x1 below x0. Such a box is kept
        # with zero width (height): zero area matches no ground truth, so it scores as the false positive it is.
        boxes[:, 2:] = np.maximum(boxes[:, 2:], boxes[:, :2])
        return Detections(boxes, scores[keep].astype(np.float32), labels[keep].astype(np.int64))


@dataclass
class Detector:
    """An ONNX detector: its feed, how its outputs become boxes (``head``) and the category id of each network
    label (``category_ids[k - 1]`` for label k; ``None``: the network's labels are the category ids)."""

    name: str
    onnx_path: Path
    input_name: str
    head: SsdHead | InGraphHead
    category_ids: list[int] | None
    origin: str
    #: the detector whose part 1 (and cloud-only anchor) this one shares when only its part 2 was re-trained
    #: (compression-augmented training, seed 002 §3.3); None for a model of its own
    base_model: str | None = None
    #: what the category ids are: ``shapes`` (harness.datasets.synthetic_shapes) or ``coco`` (COCO's 91 ids)
    category_space: str = "shapes"
    #: category id -> the data set's class id, for a data set with its own ids (SFU-HW-Objects); ids missing
    #: from it are classes the data set does not annotate, whose detections are dropped. None: ids as they are
    data_set_classes: dict[int, int] | None = None
    _md5: str | None = field(default=None, repr=False)

    def for_classes(self, classes: dict[int, int]) -> "Detector":
        """The same model reporting the data set's class ids (see ``data_set_classes``)."""
        from dataclasses import replace

        return replace(self, data_set_classes=dict(classes))

    def preprocess(self, image: np.ndarray) -> dict[str, np.ndarray]:
        """uint8 HxWx3 RGB image -> input feed."""
        return {self.input_name: self.head.feed(image)}

    def detections(self, outputs: list[np.ndarray], image_id: int, width: int, height: int) -> list[dict]:
        """Network outputs of one image -> COCO results rows."""
        dets = self.head.decode(outputs, width, height)
        labels = dets.labels if self.category_ids is None else \
            np.asarray([self.category_ids[int(label) - 1] for label in dets.labels], dtype=np.int64)
        if self.data_set_classes is not None:
            keep = np.asarray([int(label) in self.data_set_classes for label in labels], dtype=bool)
            labels = np.asarray([self.data_set_classes[int(label)] for label in labels[keep]], dtype=np.int64)
            dets = Detections(dets.boxes[keep], dets.scores[keep], labels)
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
    return Detector(name, Path(onnx_path), input_name, SsdHead(config.fig_size, config), list(category_ids), origin,
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
    return Detector("ssd_resnet", path, graph_input, SsdHead(300, DBOXES300_COCO), COCO80_TO_91, origin="user-provided",
                    category_space="coco")


def retinanet_detector(onnx_path: Path, category_ids: Sequence[int] | None = None, input_name: str = "images",
                       origin: str = "trained", name: str = "retinanet_small") -> Detector:
    """A graph with its post-processing inside (boxes, scores, labels) as a detector; ``category_ids`` maps
    network label k to ``category_ids[k - 1]``, None when the labels are the data set's category ids."""
    return Detector(name, Path(onnx_path), input_name, InGraphHead(),
                    None if category_ids is None else list(category_ids), origin)


@DETECTORS.register("retinanet_small")
def embedded_retinanet_small(data_dir: Path | None = None) -> Detector:
    """The embedded RetinaNet trained by scripts/train_retinanet_small.py on the generated shapes data set; its
    labels are the data set's category ids."""
    onnx_path = model_path("retinanet_small")
    return retinanet_detector(onnx_path, None, origin="shipped")


@DETECTORS.register("retinanet")
def user_retinanet(data_dir: Path | None = None) -> Detector:
    """The user's retinanet.onnx exported by the 5G-MAG convert_model.py (seed 001 §10.3.8.1): torchvision's
    retinanet_resnet50_fpn, whose labels are COCO's 91-id category ids."""
    path = model_path("retinanet", data_dir)
    import onnx

    graph_input = onnx.load(str(path), load_external_data=False).graph.input[0].name
    detector = retinanet_detector(path, None, graph_input, origin="user-provided", name="retinanet")
    detector.category_space = "coco"
    return detector
