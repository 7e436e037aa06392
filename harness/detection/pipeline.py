"""The split-inference detection pipeline of seed 000: part 1 -> encode -> decode -> part 2 -> boxes -> mAP.

Part 1 runs once per image for the whole codec/QP sweep: :meth:`SplitDetectionPipeline.store` builds, under the
xdist-safe cache, one file per split point holding every image's cut tensors, from the one part-1 routine
(:meth:`~SplitDetectionPipeline.part1_images`, :mod:`harness.detection.part1`: one run of the full model per
image with the cut tensors as extra outputs, plus each split's part 1 alone, timed and checked against them).

A cell (split point x coder) then only encodes, decodes and runs part 2, as a map over images
(:meth:`~SplitDetectionPipeline.run_images` -> :class:`CellPartial`, from the store or from a shard's part 1 in
memory) and a reduce (:meth:`~SplitDetectionPipeline.reduce_cell` -> :class:`CellResult`);
:meth:`~SplitDetectionPipeline.run_cell` is the two on every image, and any sharding of the images gives the
same result.

Cells run split by split, so the pipeline keeps what every cell would otherwise reload: the anchor's scores and
outputs, the store's meta, and the features of the last split point asked for (one split at a time: the memory
one cell needs anyway). Held arrays are read-only, so a coder cannot change what the next cell codes.
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
from harness.detection.part1 import OPTIMIZATION, Part1Runner, Part1Shard
from harness.files import cached_path, code_version
from harness.metrics import score_headlines
from harness.metrics.coco_data import GroundTruth, parse_detections
from harness.runtime import execution_fingerprint, make_session
from harness.split import SplitPlanner, load_model, split_model
from harness.split.verify import padded_squared_error, squared_error, tensors_sha256

__all__ = ["CellPartial", "CellResult", "OPTIMIZATION", "Part1Shard", "SplitDetectionPipeline", "per_class_columns",
           "score_rows"]

STORE_VERSION = "v3"  # v2: the dataset's content fingerprint; v3: code, onnxruntime and platform
# the code part 1's tensors depend on: the split engine, the detection pipeline, sessions
FEATURE_CODE = ("harness.split", "harness.detection", "harness.runtime")


def score_rows(ground_truth: GroundTruth, rows: list[dict]) -> dict[str, Any]:
    """COCO results rows scored in every registered metric style: each style's headline figures in percent
    (calc_map, voc, COCO AP/AP50: one unit everywhere, harness.metrics.declare_headlines), plus ``coco``,
    pycocotools' own statistics (fractions, as the library gives them) and the per-class tables of calc_map
    (percent) and of pycocotools (AP per category, fractions)."""
    figures, reports = score_headlines(ground_truth, parse_detections(rows, ground_truth, "pipeline detections"))
    coco = {k: v for k, v in reports["coco"].items() if k != "per_class"}
    return {**figures, "coco": coco, "per_class_calc_map": reports["calc_map"]["per_class"],
            "per_class_coco": reports["coco"]["per_class"]}


def per_class_columns(scores: dict[str, Any], ground_truth: GroundTruth) -> dict[str, str]:
    """The per-class tables of :func:`score_rows` as results columns: ``per_class_calc_map`` and
    ``per_class_coco_AP``, ``name=AP`` pairs (percent, 2 decimals) of the classes the ground truth annotates, in
    class-id order (a row of seed 001 §9.4's per-sequence, per-class table; harness.report.sfu_table reads them)."""
    annotated = sorted({box.category_id for box in ground_truth.boxes})

    def pairs(table: dict[str, Any] | None, scale: float) -> str:
        table = table or {}
        return ";".join(f"{table[str(c)]['name']}={float(table[str(c)]['AP']) * scale:.2f}" for c in annotated
                        if str(c) in table)

    return {"per_class_calc_map": pairs(scores.get("per_class_calc_map"), 1.0),
            "per_class_coco_AP": pairs(scores.get("per_class_coco"), 100.0)}


class SplitDetectionPipeline:
    """Split-inference evaluation of one detector on one dataset and device, for a fixed set of split points."""

    def __init__(self, detector: Detector, dataset: DetectionDataset, splits: Sequence[int], device: str = "cpu") -> None:
        self.detector, self.dataset, self.device = detector, dataset, device
        self.splits = sorted(set(int(s) for s in splits))
        self._model = load_model(detector.onnx_path)
        self._planner = SplitPlanner(self._model)
        self._part1: Part1Runner | None = None
        self._part2: dict[int, Any] = {}
        self._held: dict[str, Any] = {}  # what every cell would reload: see the module docstring
        # everything the cut tensors depend on: a warm cache never serves features of other code, another
        # onnxruntime or another execution configuration
        recipe = [",".join(map(str, self.splits)), code_version(FEATURE_CODE), execution_fingerprint(device)]
        recipe_id = hashlib.md5("|".join(recipe).encode()).hexdigest()[:12]
        self.cache_key = (f"features/{detector.name}-{detector.md5[:12]}/{dataset.name}-"
                          f"{dataset.fingerprint()[:12]}-{device}-{recipe_id}-{STORE_VERSION}")

    @property
    def planner(self) -> SplitPlanner:
        """The split planner of the detector's graph (its nodes, in the order split indices count them)."""
        return self._planner

    # --- part 1, once --------------------------------------------------------------------------------
    def part1_images(self, image_ids: Sequence[int]) -> Part1Shard:
        """Part 1 of ``image_ids`` for every split point, in memory (sessions built on the first call)."""
        self._check_images(image_ids)
        if self._part1 is None:
            self._part1 = Part1Runner(self.detector, self.dataset, self._planner, self.splits, self.device)
        return self._part1.run(image_ids)

    def store(self) -> Path:
        return cached_path(self.cache_key, self._build_store)

    def _build_store(self, target: Path) -> None:
        part1 = self.part1_images(self.dataset.image_ids())
        self._part1 = None  # a local run needs part 1 once: free its sessions
        target.mkdir(parents=True)
        for split in self.splits:
            np.savez(target / f"split_{split}.npz", **{f"{image_id}/{name}": value for image_id in part1.image_ids
                                                        for name, value in part1.features[split][image_id].items()})
        np.savez(target / "anchor_outputs.npz", **{f"{image_id}/{k}": value for image_id in part1.image_ids
                                                   for k, value in enumerate(part1.anchor_outputs[image_id])})
        rows = [row for image_id in part1.image_ids for row in part1.anchor_rows[image_id]]
        (target / "anchor_detections.json").write_text(json.dumps(rows))
        timing = {"anchor_time": part1.anchor_time(),
                  "part1_time": {str(split): part1.part1_time(split) for split in self.splits},
                  "part1_max_abs_diff": {str(split): part1.part1_max_abs_diff[split] for split in self.splits}}
        (target / "meta.json").write_text(json.dumps(timing, indent=1, sort_keys=True))

    def _check_split(self, split: int) -> None:
        if split not in self.splits:
            raise ValueError(f"split {split} is not among this pipeline's split points {self.splits}")

    def _check_images(self, image_ids: Sequence[int]) -> None:
        unknown = sorted(set(image_ids) - set(self.dataset.image_ids()))
        if unknown:
            raise ValueError(f"image ids {unknown[:5]} are not in dataset {self.dataset.name}")

    def _load(self, file_name: str) -> dict[int, dict[str, np.ndarray]]:
        """``{image id: {key: array}}`` of a whole store file, in stored order, arrays read-only."""
        per_image: dict[int, dict[str, np.ndarray]] = {}
        with np.load(self.store() / file_name) as data:
            for key in data.files:
                image_id, name = key.split("/", 1)
                value = data[key]
                value.setflags(write=False)
                per_image.setdefault(int(image_id), {})[name] = value
        return per_image

    def _held_file(self, slot: str, file_name: str) -> dict[int, dict[str, np.ndarray]]:
        """A store file held in ``slot`` until another file takes the slot (one split's features at a time)."""
        if self._held.get(slot, (None,))[0] != file_name:
            self._held.pop(slot, None)  # release the previous file before loading the next
            self._held[slot] = (file_name, self._load(file_name))
        return self._held[slot][1]

    @staticmethod
    def _subset(per_image: dict[int, Any], image_ids: Sequence[int] | None) -> dict[int, Any]:
        wanted = None if image_ids is None else set(image_ids)
        return {i: value for i, value in per_image.items() if wanted is None or i in wanted}

    def features(self, split: int, image_ids: Sequence[int] | None = None) -> dict[int, dict[str, np.ndarray]]:
        """Cut tensors of a split point per image (stored order; read-only arrays)."""
        self._check_split(split)
        held = self._held_file("features", f"split_{split}.npz")
        return {i: dict(tensors) for i, tensors in self._subset(held, image_ids).items()}

    def meta(self) -> dict[str, Any]:
        if "meta" not in self._held:
            self._held["meta"] = json.loads((self.store() / "meta.json").read_text())
        return self._held["meta"]

    def anchor_detections(self) -> list[dict]:
        return json.loads((self.store() / "anchor_detections.json").read_text())

    def anchor_outputs(self, image_ids: Sequence[int] | None = None) -> dict[int, list[np.ndarray]]:
        """The unsplit model's outputs per image, in graph output order (read-only arrays)."""
        if "anchor_outputs" not in self._held:
            self._held["anchor_outputs"] = {image_id: [outputs[k] for k in sorted(outputs, key=int)]
                                            for image_id, outputs in self._load("anchor_outputs.npz").items()}
        return {i: list(outputs) for i, outputs in self._subset(self._held["anchor_outputs"], image_ids).items()}

    def anchor_metrics(self) -> dict[str, Any]:
        """The anchor's scores (computed once per pipeline: every cell of the sweep compares with them)."""
        if "anchor_metrics" not in self._held:
            self._held["anchor_metrics"] = self.score(self.anchor_detections())
        return self._held["anchor_metrics"]

    # --- metrics ---------------------------------------------------------------------------------------
    def score(self, rows: list[dict]) -> dict[str, Any]:
        return score_rows(self.dataset.ground_truth, rows)

    # --- one cell ------------------------------------------------------------------------------------
    def _part2_session(self, split: int):
        if split not in self._part2:
            _, part2 = split_model(self._model, self._planner.plan(index=split))
            self._part2[split] = make_session(part2.SerializeToString(), device=self.device, optimization=OPTIMIZATION)
        return self._part2[split]

    def run_images(self, split: int, coder_spec: str, image_ids: Sequence[int],
                   part1: Part1Shard | None = None) -> CellPartial:
        """The map step of a cell: code and decode the cut tensors of ``image_ids``, run part 2, detect.

        ``part1``: these images' part 1 in memory (:meth:`part1_images`, a shard task); default: the store."""
        self._check_split(split)
        self._check_images(image_ids)
        coder = make_coder(coder_spec)
        if part1 is None:
            features, anchor = self.features(split, image_ids), self.anchor_outputs(image_ids)
        else:
            features, anchor = part1.features[split], part1.anchor_outputs
        images = [self._code_image(split, coder, image_id, features[image_id], anchor[image_id])
                  for image_id in image_ids]
        return CellPartial(split, coder.spec, images)

    def _code_image(self, split: int, coder: Any, image_id: int, tensors: dict[str, np.ndarray],
                    anchor: list[np.ndarray]) -> ImageCoding:
        """One image of a cell from its cut tensors and the anchor's outputs."""
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
            output_sq=[padded_squared_error(want, got) for got, want in zip(outputs, anchor)],
            enc_time=enc_time, dec_time=dec_time, part2_time=part2_time, part1_sha256=tensors_sha256(tensors),
            part2_input_sha256=tensors_sha256(decoded), estimated_bytes=coder.estimated_bytes(tensors))

    def reduce_cell(self, split: int, coder_spec: str, partials: Sequence[CellPartial],
                    part1_time: float | None = None) -> CellResult:
        """The reduce step: merge the partials in dataset order (whatever the sharding) and score them.

        ``part1_time``: the part-1 time of the split point over all images when part 1 ran elsewhere (shards:
        :meth:`Part1Shard.part1_time`); by default the store's."""
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
            coded_bytes_per_image=merged.coded_bytes, part1_sha256=merged.part1_sha256,
            part2_input_sha256=merged.part2_input_sha256, output_nmse_per_image=merged.output_nmse_per_image,
            estimated_bytes=merged.estimated_bytes)

    def run_cell(self, split: int, coder_spec: str) -> CellResult:
        """One cell on every image: ``reduce_cell(run_images(all images))``."""
        return self.reduce_cell(split, coder_spec, [self.run_images(split, coder_spec, self.dataset.image_ids())])
