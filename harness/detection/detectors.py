"""Detectors: an ONNX graph plus the pre-processing before it and the box decoding/NMS after it.

Every detector is data: a model entry of references/assets.yaml with a ``detector`` block is registered in
:data:`DETECTORS` under its own name (a member's own detector is one such entry, no code):

```yaml
detector:
  head: ssd                # ssd: post-processing outside the graph (default boxes, softmax, NMS in numpy);
                           # in_graph: the graph outputs boxes, scores, labels after its own NMS
  input: image             # the graph input to feed (default: its first input)
  preprocess: {resize: 300, scale: 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], layout: NCHW}
  default_boxes: {...}     # ssd head: harness.detection.ssd.default_boxes.DefaultBoxesConfig fields, or model_json
  categories: coco80_to_91 # network label k -> category id categories[k - 1]: a list, model_json, a named table;
                           # omitted: the labels are the category ids
  category_space: coco     # shapes (the generated data) or coco (COCO's 91 ids)
  score_threshold: 0.05    # detections kept above it (after the graph's own, for in_graph)
  base_model: ssd_small    # the detector whose part 1 this one shares (part 2 re-trained, seed 002 §3.3)
```

``model_json`` reads the value from the model JSON beside the ONNX file (written by scripts/train_*.py). The
factory takes the user's ``--data-dir`` (or ``None``) and raises :class:`AssetMissing` naming the file when the
model is not there. Post-processing runs in numpy after the network (or after split part 2) for an ssd head, so
the split engine only ever cuts the network itself; an in_graph head takes the graph's own.

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
from typing import Any, Callable, Sequence

import numpy as np

from harness.assetstore.manifest import MANIFEST_PATH
from harness.assetstore.paths import AssetMissing, manifest_asset, manifest_assets
from harness.detection.preprocess import ImagePreprocess
from harness.detection.ssd.default_boxes import DefaultBoxesConfig
from harness.detection.ssd.postprocess import Detections, postprocess
from harness.models import model_path
from harness.registry import Registry

__all__ = ["AssetMissing", "DETECTORS", "Detector", "InGraphHead", "SsdHead", "build_detector", "catalogue_detector",
           "coco_result_rows", "detector_for_file", "detector_spec", "ssd_small_detector"]


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
    """Post-processing outside the graph (SSD): the network returns encoded box offsets and class logits per
    default box; decoding, softmax and NMS run in numpy afterwards, so a split engine only ever cuts the network
    and every cut of it has a fixed shape."""

    def __init__(self, boxes_config: DefaultBoxesConfig, score_threshold: float = 0.05) -> None:
        self.boxes_config, self.score_threshold = boxes_config, score_threshold

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
    #: how an image becomes the feed (the catalogue entry's ``preprocess``, harness.detection.preprocess)
    preprocessing: ImagePreprocess = field(default_factory=ImagePreprocess)
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
        return {self.input_name: self.preprocessing(image)}

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


DetectorFactory = Callable[[Path | None], Detector]
DETECTORS: Registry[DetectorFactory] = Registry("detector")

# COCO's 80 detection classes as 91-id category ids, in the order of NVIDIA SSD300's labels 1..80 (COCO's own
# table, named by the catalogue's ``categories: coco80_to_91``).
COCO80_TO_91 = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28,
                31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55,
                56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84,
                85, 86, 87, 88, 89, 90]
NAMED_CATEGORIES = {"coco80_to_91": COCO80_TO_91}
HEADS = ("ssd", "in_graph")
SPEC_KEYS = ("head", "input", "preprocess", "default_boxes", "categories", "category_space", "score_threshold",
             "base_model")
CATEGORY_SPACES = ("shapes", "coco")
MODEL_JSON = "model_json"  # a value read from the model JSON beside the ONNX file (scripts/train_*.py write it)


def detector_spec(name: str, manifest: Path = MANIFEST_PATH) -> dict[str, Any]:
    """The ``detector`` block of model ``name``'s entry in references/assets.yaml."""
    spec = manifest_asset(name, manifest).detector
    if not isinstance(spec, dict):
        raise ValueError(f"{manifest}: model {name!r} has no detector block (head, preprocess, ...): it is no detector")
    return spec


def embedded_meta(asset: str = "ssd_small") -> tuple[Path, dict]:
    """A shipped model and its model JSON (written beside it by scripts/train_ssd_small.py and
    scripts/train_retinanet_small.py)."""
    onnx_path = model_path(asset)
    return onnx_path, _model_json(onnx_path)


def _model_json(onnx_path: Path) -> dict:
    meta_path = Path(onnx_path).with_suffix(".json")
    if not meta_path.is_file():
        raise AssetMissing(f"{meta_path} (the model JSON of {Path(onnx_path).name}) is missing: run the training "
                           "script that exported it (scripts/train_*.py) to build it")
    return json.loads(meta_path.read_text())


def build_detector(name: str, onnx_path: Path, spec: dict[str, Any], origin: str, where: str) -> Detector:
    """A detector from a catalogue ``detector`` block (see the module docstring); a clear error naming ``where``
    and the key for a block that is not one."""
    unknown = set(spec) - set(SPEC_KEYS)
    if unknown:
        raise ValueError(f"{where}: detector key(s) {', '.join(sorted(unknown))} unknown; known: {', '.join(SPEC_KEYS)}")
    if spec.get("head") not in HEADS:
        raise ValueError(f"{where}: detector head {spec.get('head')!r} is not one of {', '.join(HEADS)} (ssd: "
                         "post-processing outside the graph; in_graph: the graph outputs boxes, scores, labels)")
    space = spec.get("category_space", "shapes")
    if space not in CATEGORY_SPACES:
        raise ValueError(f"{where}: category_space {space!r} is not one of {', '.join(CATEGORY_SPACES)}")
    threshold = float(spec.get("score_threshold", 0.05))
    meta = _model_json(onnx_path) if MODEL_JSON in (spec.get("default_boxes"), spec.get("categories")) else {}
    if spec["head"] == "ssd":
        boxes = spec.get("default_boxes")
        if boxes is None:
            raise ValueError(f"{where}: an ssd head needs default_boxes (a mapping, or {MODEL_JSON!r})")
        head: SsdHead | InGraphHead = SsdHead(DefaultBoxesConfig.from_json(meta["default_boxes"] if boxes == MODEL_JSON
                                                                           else boxes), threshold)
    else:
        head = InGraphHead(threshold)
    categories = spec.get("categories")
    if categories == MODEL_JSON:
        categories = [c["id"] for c in meta["categories"]]
    elif isinstance(categories, str):
        if categories not in NAMED_CATEGORIES:
            raise ValueError(f"{where}: categories {categories!r} is not a list, {MODEL_JSON!r} or one of "
                             f"{', '.join(NAMED_CATEGORIES)}")
        categories = NAMED_CATEGORIES[categories]
    input_name = spec.get("input")
    if input_name is None:
        import onnx

        input_name = onnx.load(str(onnx_path), load_external_data=False).graph.input[0].name
    return Detector(name, Path(onnx_path), input_name, head, None if categories is None else list(categories), origin,
                    ImagePreprocess.from_data(spec.get("preprocess"), where), base_model=spec.get("base_model"),
                    category_space=space)


def catalogue_detector(name: str, data_dir: Path | None = None, manifest: Path = MANIFEST_PATH) -> Detector:
    """The detector model ``name`` is in the catalogue: its file (shipped, or under --data-dir; AssetMissing
    naming the file otherwise) with the pre- and post-processing its entry declares."""
    path = model_path(name, data_dir, manifest)
    origin = manifest_asset(name, manifest).origin
    return build_detector(name, path, detector_spec(name, manifest), origin, f"{manifest} ({name})")


def detector_for_file(name: str, onnx_path: Path, origin: str = "trained") -> Detector:
    """Catalogue model ``name``'s declaration applied to another file of the same model (a training script's
    fresh export, before it is shipped)."""
    return build_detector(Path(onnx_path).stem, Path(onnx_path), detector_spec(name), origin,
                          f"{MANIFEST_PATH} ({name})")


def ssd_small_detector(onnx_path: Path, config: DefaultBoxesConfig = DefaultBoxesConfig(),
                       category_ids: Sequence[int] = (1, 2, 3, 4, 5, 6), input_name: str = "image",
                       origin: str = "trained", name: str = "ssd_small", base_model: str | None = None) -> Detector:
    """An ssd_small-architecture export before its model JSON exists (scripts/train_ssd_small.py), with the
    catalogue's pre-processing of ssd_small."""
    preprocessing = ImagePreprocess.from_data(detector_spec("ssd_small").get("preprocess"), "ssd_small")
    return Detector(name, Path(onnx_path), input_name, SsdHead(config), list(category_ids), origin, preprocessing,
                    base_model=base_model)


def _register_catalogue() -> None:
    """Every model entry of references/assets.yaml with a detector block is a detector under its own name."""
    from functools import partial

    for asset in manifest_assets():
        if asset.detector is not None:
            factory = partial(catalogue_detector, asset.name)
            factory.__doc__ = asset.used_by or asset.obtain
            DETECTORS.register(asset.name)(factory)


_register_catalogue()
