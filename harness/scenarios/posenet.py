"""Scenario ``posenet`` (seed 001 §10.2; marker ``posenet``): PoseNet MobileNetV1 split at every layer.

The split sweep of harness.scenarios.split_sweep on PoseNet (harness.models.posenet, seeded weights; the
user's own ``posenet.onnx`` under --data-dir runs the same cells), with test images of people
(harness.datasets.pose_images) instead of seeded tensors, plus posenet_split_test.py's check (seed 10.2.8): for every
configuration and image, the single-pose keypoints (coordinates and scores, harness.pose.decode) of split
inference agree with the unsplit model's within 0.001.

Structural conformance with seed table 10.2.4-1 (checked in every cell): 31 layers, so 32 configurations
"0:31 ... 31:0" (§10.2.6), and a 13.3 MB FP32 model (the built one: 13,281,133 bytes). The table's
1,180,147 parameters are not checked: 13.3 MB of FP32 weights hold 3.3 million values (1,180,147 would be
4.7 MB), and the built model has 3,313,907 (MobileNetV1 1.0 convolutions with biases, 3,196,032, plus the
four heads, 117,875), consistent with the 13.3 MB.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import numpy as np

from harness.coders import make_coder
from harness.pose import decode_single_pose, image_feed, poses_agree
from harness.assetstore.paths import AssetMissing
from harness.datasets import DATASETS
from harness.scenarios import SCENARIOS
from harness.scenarios.base import Cell, CellOutcome, Metric
from harness.scenarios.split_sweep import SplitSweepScenario
from harness.split.sweep import LOSSLESS_THRESHOLD

SEED_MODEL_MB = 13.3  # seed table 10.2.4-1


@SCENARIOS.register("posenet")
class PoseNetScenario(SplitSweepScenario):
    description = "PoseNet MobileNetV1 split at each of its 31 layers (seed 001 §10.2)"
    metrics = (*SplitSweepScenario.metrics, Metric("keypoints_lossless", "bool", higher_is_better=True),
               Metric("keypoint_max_diff", "px", higher_is_better=False, gates=False))
    matrix_keys = {
        **{k: v for k, v in SplitSweepScenario.matrix_keys.items() if k != "inputs"},
        "models": "list of {name, model, source: built|user, size (input S x S), layers, configs}",
        "images": "test images: matplotlib:NAME, skimage:NAME, generated:SEED, file:PATH",
        "output_stride": "PoseNet output stride of the decoding",
    }
    required_matrix_keys = ("models", "coders", "repeat", "images", "output_stride")

    def missing_reason(self, cell: Cell) -> str | None:
        try:
            self.images()
        except AssetMissing as exc:
            return str(exc)
        return super().missing_reason(cell)

    def images(self) -> list:
        return DATASETS.get("pose_images")(self.context.data_dir, sources=tuple(self.matrix["images"]))

    def inputs(self, entry: Mapping[str, Any], path: Path) -> list[dict[str, np.ndarray]]:
        from harness.split.plan import SplitPlanner

        planner = SplitPlanner(path)
        (name,) = planner.model_inputs
        shape = planner.types[name].static_shape
        if shape is None or len(shape) != 4 or shape[2] != shape[3]:
            raise ValueError(f"{path}: PoseNet input {name!r} must be 1x3xSxS, got {planner.types[name].shape}")
        return [image_feed(image, shape[2], name) for image in self.images()]

    def run_cell(self, cell: Cell) -> CellOutcome:
        outcome = super().run_cell(cell)
        sweep = self.sweep(cell["model_name"], cell["device"])
        coded = self.result(cell).coded[cell["coder_name"]]
        stride = int(self.matrix["output_stride"])
        worst = 0.0
        for reference, split in zip(sweep.reference, coded.outputs, strict=True):
            agree, diff = poses_agree(decode_single_pose(reference["heatmaps"], reference["offsets"], stride),
                                      decode_single_pose(split["heatmaps"], split["offsets"], stride),
                                      LOSSLESS_THRESHOLD)
            worst = max(worst, diff)
        keypoints = {"keypoints_lossless": worst < LOSSLESS_THRESHOLD, "keypoint_max_diff": worst}
        outcome.metrics.update(keypoints)
        outcome.columns.update(keypoints, images=len(sweep.inputs), full_model_bytes=sweep.model_bytes)
        return outcome

    def check_cell(self, cell: Cell, outcome: CellOutcome) -> None:
        super().check_cell(cell, outcome)
        metrics = outcome.metrics
        if make_coder(cell["coder_name"]).is_lossless:
            assert metrics["keypoints_lossless"], \
                f"{cell.id}: keypoints of split and unsplit inference differ by {metrics['keypoint_max_diff']}"
        entry = self.model_entries()[cell["model_name"]]
        if entry.get("source", "built") == "built" and int(entry.get("size", 257)) == 257:
            full_mb = outcome.columns["full_model_bytes"] / 1e6
            assert abs(full_mb - SEED_MODEL_MB) < 0.05, f"model is {full_mb:.2f} MB, seed table 10.2.4-1: 13.3 MB"
