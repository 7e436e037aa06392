"""The split-inference detection pipeline of seed 000: part 1 -> encode -> decode -> part 2 -> boxes -> mAP.

Part 1 runs once per image for the whole codec/QP sweep: :meth:`SplitDetectionPipeline.store` builds, under the
xdist-safe cache, one file per split point holding every image's cut tensors, all taken from ONE run of the
full model with the cut tensors as extra outputs (:class:`harness.split.FeatureExtractor`). The same build
times part 1 of each split point on every image and checks that its output equals the one-pass features.
A cell (split point x coder) then only encodes, decodes and runs part 2.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harness.cache import cached_path
from harness.coders import make_coder
from harness.detection.datasets import DetectionDataset
from harness.detection.detectors import Detector
from harness.metrics import score
from harness.metrics.coco_data import parse_detections
from harness.runtime import make_session
from harness.split import FeatureExtractor, SplitPlanner, load_model, split_model

STORE_VERSION = "v1"
# split and unsplit inference are bit-exact at this level (see harness.runtime.OPTIMIZATION_LEVELS)
OPTIMIZATION = "extended"
METRIC_STYLES = ("calc_map", "voc", "coco")


def nmse(errors_sq: float, reference_sq: float) -> float:
    """Normalised MSE: sum of squared errors over the reference's energy (0 when both are 0)."""
    if reference_sq == 0.0:
        return 0.0 if errors_sq == 0.0 else float("inf")
    return errors_sq / reference_sq


@dataclass
class CellResult:
    split: int
    coder: str
    metrics: dict[str, Any]  # calc_map / voc / coco figures
    uncompressed_bytes: int
    compressed_bytes: int
    feature_nmse: float
    output_nmse: float
    enc_time: float
    dec_time: float
    part1_time: float
    part2_time: float
    metrics_time: float
    detections: list[dict]
    images: int

    @property
    def compress_ratio(self) -> float:
        return self.compressed_bytes / self.uncompressed_bytes

    @property
    def kbpi(self) -> float:
        """Kilobits per image (seed 002's KBPI)."""
        return self.compressed_bytes * 8 / 1000 / self.images


class SplitDetectionPipeline:
    """Split-inference evaluation of one detector on one dataset and device, for a fixed set of split points."""

    def __init__(self, detector: Detector, dataset: DetectionDataset, splits: Sequence[int], device: str = "cpu") -> None:
        self.detector, self.dataset, self.device = detector, dataset, device
        self.splits = sorted(set(int(s) for s in splits))
        self._model = load_model(detector.onnx_path)
        self._planner = SplitPlanner(self._model)
        self._part2: dict[int, Any] = {}
        splits_id = hashlib.md5(",".join(map(str, self.splits)).encode()).hexdigest()[:8]
        self.cache_key = (f"features/{detector.name}-{detector.md5[:12]}/{dataset.name}-{device}-"
                          f"{splits_id}-{STORE_VERSION}")

    # --- part 1, once --------------------------------------------------------------------------------
    def store(self) -> Path:
        return cached_path(self.cache_key, self._build_store)

    def _build_store(self, target: Path) -> None:
        target.mkdir(parents=True)
        extractor = FeatureExtractor(self._model, self.splits, device=self.device, optimization=OPTIMIZATION)
        features: dict[int, dict[str, np.ndarray]] = {s: {} for s in self.splits}
        anchor_outputs: dict[str, np.ndarray] = {}
        anchor_rows: list[dict] = []
        full_time = 0.0
        feeds: dict[int, dict[str, np.ndarray]] = {}  # read and pre-process each image once for all timings
        for image_id in self.dataset.image_ids():
            image = self.dataset.read_image(image_id)
            feed = feeds[image_id] = self.detector.preprocess(image)
            start = time.perf_counter()
            per_split = extractor.run(feed)
            full_time += time.perf_counter() - start
            for split, tensors in per_split.items():
                for name, value in tensors.items():
                    features[split][f"{image_id}/{name}"] = value
            outputs = [extractor.last_outputs[n] for n in extractor.model_outputs]
            for k, value in enumerate(outputs):
                anchor_outputs[f"{image_id}/{k}"] = value
            anchor_rows += self.detector.detections(outputs, image_id, image.shape[1], image.shape[0])
        timing = {"anchor_time": full_time, "part1_time": {}, "part1_max_abs_diff": {}}
        for split in self.splits:
            np.savez(target / f"split_{split}.npz", **features[split])
            timing["part1_time"][str(split)], timing["part1_max_abs_diff"][str(split)] = self._time_part1(
                split, features[split], feeds)
        np.savez(target / "anchor_outputs.npz", **anchor_outputs)
        (target / "anchor_detections.json").write_text(json.dumps(anchor_rows))
        (target / "meta.json").write_text(json.dumps(timing, indent=1, sort_keys=True))

    def _time_part1(self, split: int, features: dict[str, np.ndarray],
                    feeds: dict[int, dict[str, np.ndarray]]) -> tuple[float, float]:
        """Part-1 time of a split point over all images, and its largest deviation from the one-pass features."""
        part1, _ = split_model(self._model, self._planner.plan(index=split))
        session = make_session(part1.SerializeToString(), device=self.device, optimization=OPTIMIZATION)
        names = [o.name for o in session.get_outputs()]
        total, worst = 0.0, 0.0
        for image_id, feed in feeds.items():
            start = time.perf_counter()
            values = session.run(names, feed)
            total += time.perf_counter() - start
            for name, value in zip(names, values):
                worst = max(worst, float(np.max(np.abs(value - features[f"{image_id}/{name}"]), initial=0.0)))
        return total, worst

    def features(self, split: int) -> dict[int, dict[str, np.ndarray]]:
        if split not in self.splits:
            raise ValueError(f"split {split} is not among this pipeline's split points {self.splits}")
        per_image: dict[int, dict[str, np.ndarray]] = {}
        with np.load(self.store() / f"split_{split}.npz") as data:
            for key in data.files:
                image_id, name = key.split("/", 1)
                per_image.setdefault(int(image_id), {})[name] = data[key]
        return per_image

    def meta(self) -> dict[str, Any]:
        return json.loads((self.store() / "meta.json").read_text())

    def anchor_detections(self) -> list[dict]:
        return json.loads((self.store() / "anchor_detections.json").read_text())

    def anchor_outputs(self) -> dict[int, list[np.ndarray]]:
        outputs: dict[int, list[np.ndarray]] = {}
        with np.load(self.store() / "anchor_outputs.npz") as data:
            for key in sorted(data.files, key=lambda k: (int(k.split("/")[0]), int(k.split("/")[1]))):
                outputs.setdefault(int(key.split("/")[0]), []).append(data[key])
        return outputs

    def anchor_metrics(self) -> dict[str, Any]:
        return self.score(self.anchor_detections())

    # --- metrics ---------------------------------------------------------------------------------------
    def score(self, rows: list[dict]) -> dict[str, Any]:
        gt = self.dataset.ground_truth
        detections = parse_detections(rows, gt, "pipeline detections")
        calc = score("calc_map", gt, detections)
        voc = score("voc", gt, detections)
        coco = score("coco", gt, detections)
        return {"calc_map": calc["mAP"], "voc": voc["mAP"], "AP": coco["AP"], "AP50": coco["AP50"],
                "coco": coco, "per_class_calc_map": calc["per_class"]}

    # --- one cell ------------------------------------------------------------------------------------
    def _part2_session(self, split: int):
        if split not in self._part2:
            _, part2 = split_model(self._model, self._planner.plan(index=split))
            self._part2[split] = make_session(part2.SerializeToString(), device=self.device, optimization=OPTIMIZATION)
        return self._part2[split]

    def run_cell(self, split: int, coder_spec: str) -> CellResult:
        coder = make_coder(coder_spec)
        session = self._part2_session(split)
        input_names = [i.name for i in session.get_inputs()]
        anchor = self.anchor_outputs()
        features = self.features(split)
        sizes = {image_id: self.dataset.ground_truth.images[k] for k, image_id in enumerate(self.dataset.image_ids())} \
            if self.dataset.ground_truth.images else {}
        enc_time = dec_time = part2_time = 0.0
        raw_bytes = coded_bytes = 0
        feat_err = feat_ref = out_err = out_ref = 0.0
        rows: list[dict] = []
        for image_id in self.dataset.image_ids():
            tensors = features[image_id]
            start = time.perf_counter()
            bitstream = coder.encode(tensors)
            enc_time += time.perf_counter() - start
            start = time.perf_counter()
            decoded = coder.decode(bitstream)
            dec_time += time.perf_counter() - start
            raw_bytes += sum(int(v.nbytes) for v in tensors.values())
            coded_bytes += len(bitstream)
            for name, value in tensors.items():
                ref = value.astype(np.float64)
                feat_err += float(np.sum((decoded[name].astype(np.float64) - ref) ** 2))
                feat_ref += float(np.sum(ref ** 2))
            start = time.perf_counter()
            outputs = session.run(None, {name: decoded[name] for name in input_names})
            part2_time += time.perf_counter() - start
            for got, want in zip(outputs, anchor[image_id]):
                out_err += float(np.sum((got.astype(np.float64) - want.astype(np.float64)) ** 2))
                out_ref += float(np.sum(want.astype(np.float64) ** 2))
            info = sizes.get(image_id) or {}
            width, height = info.get("width"), info.get("height")
            if width is None or height is None:
                height, width = self.dataset.read_image(image_id).shape[:2]
            rows += self.detector.detections(outputs, image_id, int(width), int(height))
        meta = self.meta()
        start = time.perf_counter()
        metrics = self.score(rows)
        metrics_time = time.perf_counter() - start
        return CellResult(
            split=split, coder=coder.spec, metrics=metrics, uncompressed_bytes=raw_bytes,
            compressed_bytes=coded_bytes, feature_nmse=nmse(feat_err, feat_ref), output_nmse=nmse(out_err, out_ref),
            enc_time=enc_time, dec_time=dec_time, part1_time=float(meta["part1_time"][str(split)]),
            part2_time=part2_time, metrics_time=metrics_time, detections=rows, images=len(self.dataset.image_ids()))
