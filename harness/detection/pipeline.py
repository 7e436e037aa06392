"""The split-inference detection pipeline of seed 000: part 1 -> encode -> decode -> part 2 -> boxes -> mAP.

Part 1 runs once per image for the whole codec/QP sweep: :meth:`SplitDetectionPipeline.store` builds, under the
xdist-safe cache, one file per split point holding every image's cut tensors, all taken from ONE run of the
full model with the cut tensors as extra outputs (:class:`harness.split.FeatureExtractor`, driven by the one
detector loop :func:`harness.detection.inference.detect_images`). The same build times part 1 of each split
point on every image and checks that its output equals the one-pass features.

A cell (split point x coder) then only encodes, decodes and runs part 2, as a map over images
(:meth:`~SplitDetectionPipeline.run_images` -> :class:`CellPartial`) and a reduce
(:meth:`~SplitDetectionPipeline.reduce_cell` -> :class:`CellResult`); :meth:`~SplitDetectionPipeline.run_cell`
is the two on every image, and any sharding of the images gives the same result.
"""
from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from harness.coders import make_coder
from harness.detection.cells import CellPartial, CellResult, ImageCoding, merge_images
from harness.detection.datasets import DetectionDataset
from harness.detection.detectors import Detector
from harness.detection.inference import detect_images
from harness.files import cached_path
from harness.metrics import score
from harness.metrics.coco_data import GroundTruth, parse_detections
from harness.runtime import make_session
from harness.split import FeatureExtractor, SplitPlanner, load_model, split_model
from harness.split.verify import squared_error

__all__ = ["CellPartial", "CellResult", "SplitDetectionPipeline", "score_rows"]

STORE_VERSION = "v2"  # v2: the dataset's content fingerprint is part of the key
# split and unsplit inference are bit-exact at this level (see harness.runtime.OPTIMIZATION_LEVELS)
OPTIMIZATION = "extended"


def score_rows(ground_truth: GroundTruth, rows: list[dict]) -> dict[str, Any]:
    """COCO results rows scored in the three styles: calc_map and voc in percent, COCO AP/AP50 as fractions."""
    detections = parse_detections(rows, ground_truth, "pipeline detections")
    calc = score("calc_map", ground_truth, detections)
    voc = score("voc", ground_truth, detections)
    coco = score("coco", ground_truth, detections)
    return {"calc_map": calc["mAP"], "voc": voc["mAP"], "AP": coco["AP"], "AP50": coco["AP50"],
            "coco": coco, "per_class_calc_map": calc["per_class"]}


class SplitDetectionPipeline:
    """Split-inference evaluation of one detector on one dataset and device, for a fixed set of split points."""

    def __init__(self, detector: Detector, dataset: DetectionDataset, splits: Sequence[int], device: str = "cpu") -> None:
        self.detector, self.dataset, self.device = detector, dataset, device
        self.splits = sorted(set(int(s) for s in splits))
        self._model = load_model(detector.onnx_path)
        self._planner = SplitPlanner(self._model)
        self._part2: dict[int, Any] = {}
        splits_id = hashlib.md5(",".join(map(str, self.splits)).encode()).hexdigest()[:8]
        self.cache_key = (f"features/{detector.name}-{detector.md5[:12]}/{dataset.name}-"
                          f"{dataset.fingerprint()[:12]}-{device}-{splits_id}-{STORE_VERSION}")

    # --- part 1, once --------------------------------------------------------------------------------
    def store(self) -> Path:
        return cached_path(self.cache_key, self._build_store)

    def _build_store(self, target: Path) -> None:
        target.mkdir(parents=True)
        extractor = FeatureExtractor(self._model, self.splits, device=self.device, optimization=OPTIMIZATION)
        features: dict[int, dict[str, np.ndarray]] = {s: {} for s in self.splits}
        cut: dict[int, dict[str, np.ndarray]] = {}

        def run(feed: dict[str, np.ndarray]) -> list[np.ndarray]:
            cut.clear()
            cut.update(extractor.run(feed))  # this image's cut tensors, stored below before the next image
            return [extractor.last_outputs[n] for n in extractor.model_outputs]

        anchor_outputs: dict[str, np.ndarray] = {}
        anchor_rows: list[dict] = []
        feeds: dict[int, dict[str, np.ndarray]] = {}  # each image pre-processed once for all part-1 timings
        full_time = 0.0
        for result in detect_images(self.detector, self.dataset, run=run):
            full_time += result.seconds
            feeds[result.image_id] = result.feed
            for split, tensors in cut.items():
                for name, value in tensors.items():
                    features[split][f"{result.image_id}/{name}"] = value
            for k, value in enumerate(result.outputs):
                anchor_outputs[f"{result.image_id}/{k}"] = value
            anchor_rows += result.rows
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

    def _check_split(self, split: int) -> None:
        if split not in self.splits:
            raise ValueError(f"split {split} is not among this pipeline's split points {self.splits}")

    def _load(self, file_name: str, image_ids: Sequence[int] | None = None) -> dict[int, dict[str, np.ndarray]]:
        """``{image id: {key: array}}`` from a store file (only ``image_ids`` when given), in stored order."""
        wanted = None if image_ids is None else set(image_ids)
        per_image: dict[int, dict[str, np.ndarray]] = {}
        with np.load(self.store() / file_name) as data:
            for key in data.files:
                image_id, name = key.split("/", 1)
                if wanted is None or int(image_id) in wanted:
                    per_image.setdefault(int(image_id), {})[name] = data[key]
        return per_image

    def features(self, split: int, image_ids: Sequence[int] | None = None) -> dict[int, dict[str, np.ndarray]]:
        """Cut tensors of a split point per image (stored order of the tensors)."""
        self._check_split(split)
        return self._load(f"split_{split}.npz", image_ids)

    def meta(self) -> dict[str, Any]:
        return json.loads((self.store() / "meta.json").read_text())

    def anchor_detections(self) -> list[dict]:
        return json.loads((self.store() / "anchor_detections.json").read_text())

    def anchor_outputs(self, image_ids: Sequence[int] | None = None) -> dict[int, list[np.ndarray]]:
        """The unsplit model's outputs per image, in graph output order."""
        return {image_id: [outputs[k] for k in sorted(outputs, key=int)]
                for image_id, outputs in self._load("anchor_outputs.npz", image_ids).items()}

    def anchor_metrics(self) -> dict[str, Any]:
        return self.score(self.anchor_detections())

    # --- metrics ---------------------------------------------------------------------------------------
    def score(self, rows: list[dict]) -> dict[str, Any]:
        return score_rows(self.dataset.ground_truth, rows)

    # --- one cell ------------------------------------------------------------------------------------
    def _part2_session(self, split: int):
        if split not in self._part2:
            _, part2 = split_model(self._model, self._planner.plan(index=split))
            self._part2[split] = make_session(part2.SerializeToString(), device=self.device, optimization=OPTIMIZATION)
        return self._part2[split]

    def run_images(self, split: int, coder_spec: str, image_ids: Sequence[int]) -> CellPartial:
        """The map step of a cell: code and decode the cut tensors of ``image_ids``, run part 2, detect."""
        self._check_split(split)
        unknown = sorted(set(image_ids) - set(self.dataset.image_ids()))
        if unknown:
            raise ValueError(f"image ids {unknown[:5]} are not in dataset {self.dataset.name}")
        coder = make_coder(coder_spec)
        features = self.features(split, image_ids)
        anchor = self.anchor_outputs(image_ids)
        images = [self.code_image(split, coder, image_id, features[image_id], anchor[image_id])
                  for image_id in image_ids]
        return CellPartial(split, coder.spec, images)

    def code_image(self, split: int, coder: Any, image_id: int, tensors: dict[str, np.ndarray],
                   anchor: list[np.ndarray]) -> ImageCoding:
        """One image of a cell from its cut tensors and the anchor's outputs (wherever part 1 ran)."""
        session = self._part2_session(split)
        start = time.perf_counter()
        bitstream = coder.encode(tensors)
        enc_time = time.perf_counter() - start
        start = time.perf_counter()
        decoded = coder.decode(bitstream)
        dec_time = time.perf_counter() - start
        start = time.perf_counter()
        outputs = session.run(None, {i.name: decoded[i.name] for i in session.get_inputs()})
        part2_time = time.perf_counter() - start
        width, height = self.dataset.image_size(image_id)
        return ImageCoding(
            image_id=image_id, rows=self.detector.detections(outputs, image_id, width, height),
            raw_bytes=sum(int(v.nbytes) for v in tensors.values()), coded_bytes=len(bitstream),
            feature_sq=[squared_error(value, decoded[name]) for name, value in tensors.items()],
            output_sq=[squared_error(want, got) for got, want in zip(outputs, anchor)],
            enc_time=enc_time, dec_time=dec_time, part2_time=part2_time)

    _code_image = code_image  # the name harness/scenarios/ssd_shards.py calls today; code_image is the API

    def reduce_cell(self, split: int, coder_spec: str, partials: Sequence[CellPartial],
                    part1_time: float | None = None) -> CellResult:
        """The reduce step: merge the partials in dataset order (whatever the sharding) and score them.

        ``part1_time``: the part-1 time of the split point over all images when part 1 ran elsewhere (shards);
        by default the local store's."""
        self._check_split(split)
        coder = make_coder(coder_spec).spec
        order = self.dataset.image_ids()
        merged = merge_images(split, coder, order, partials)
        start = time.perf_counter()
        metrics = self.score(merged.rows)
        metrics_time = time.perf_counter() - start
        return CellResult(
            split=split, coder=coder, metrics=metrics, uncompressed_bytes=merged.raw_bytes,
            compressed_bytes=sum(merged.coded_bytes), feature_nmse=merged.feature_nmse,
            output_nmse=merged.output_nmse, enc_time=merged.enc_time, dec_time=merged.dec_time,
            part1_time=float(self.meta()["part1_time"][str(split)]) if part1_time is None else part1_time,
            part2_time=merged.part2_time,
            metrics_time=metrics_time, detections=merged.rows, images=len(order),
            coded_bytes_per_image=merged.coded_bytes)

    def run_cell(self, split: int, coder_spec: str) -> CellResult:
        """One cell on every image: ``reduce_cell(run_images(all images))``."""
        return self.reduce_cell(split, coder_spec, [self.run_images(split, coder_spec, self.dataset.image_ids())])
