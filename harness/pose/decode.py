"""PoseNet single-pose decoding (TensorFlow.js ``decodeSinglePose``, the decoding posenet_split_test.py compares).

For each of the 17 COCO keypoints: the heatmap cell with the highest score (first one in row-major order on a
tie, numpy's argmax), then the keypoint position = cell x output stride + the offset vector at that cell
(``offsets`` channels 0..16 are y, 17..33 are x), in input-image pixels; its score is the heatmap score there.
The pose score is the mean of the keypoint scores. Heatmaps are sigmoid scores (the built model applies the
sigmoid; pass ``apply_sigmoid=True`` for a model that outputs logits).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KEYPOINT_NAMES = ("nose", "leftEye", "rightEye", "leftEar", "rightEar", "leftShoulder", "rightShoulder",
                  "leftElbow", "rightElbow", "leftWrist", "rightWrist", "leftHip", "rightHip", "leftKnee",
                  "rightKnee", "leftAnkle", "rightAnkle")


@dataclass(frozen=True)
class Pose:
    """17 keypoints: ``coords`` (17, 2) as (y, x) input pixels, ``scores`` (17,), and the pose ``score``."""

    coords: np.ndarray
    scores: np.ndarray

    @property
    def score(self) -> float:
        return float(np.mean(self.scores))


def _chw(array: np.ndarray, channels: int, name: str) -> np.ndarray:
    """One image's (C, H, W) map from a batch of one in NCHW (or CHW)."""
    data = np.asarray(array)
    if data.ndim == 4:
        if data.shape[0] != 1:
            raise ValueError(f"{name}: single-pose decoding takes a batch of one, got shape {data.shape}")
        data = data[0]
    if data.ndim != 3 or data.shape[0] != channels:
        raise ValueError(f"{name}: expected {channels} channels first (N, C, H, W), got shape {np.shape(array)}")
    return data


def decode_single_pose(heatmaps: np.ndarray, offsets: np.ndarray, output_stride: int = 16,
                       apply_sigmoid: bool = False) -> Pose:
    """The pose of one image from PoseNet's ``heatmaps`` (1, 17, H, W) and ``offsets`` (1, 34, H, W)."""
    keypoints = len(KEYPOINT_NAMES)
    scores_map = _chw(heatmaps, keypoints, "heatmaps").astype(np.float64)
    offset_map = _chw(offsets, 2 * keypoints, "offsets").astype(np.float64)
    if scores_map.shape[1:] != offset_map.shape[1:]:
        raise ValueError(f"heatmaps {scores_map.shape} and offsets {offset_map.shape} differ in size")
    if apply_sigmoid:
        scores_map = 1.0 / (1.0 + np.exp(-scores_map))
    height, width = scores_map.shape[1:]
    flat = scores_map.reshape(keypoints, -1).argmax(axis=1)
    rows, cols = np.divmod(flat, width)
    index = np.arange(keypoints)
    coords = np.stack([rows * output_stride + offset_map[index, rows, cols],
                       cols * output_stride + offset_map[index + keypoints, rows, cols]], axis=1)
    return Pose(coords, scores_map[index, rows, cols])


def poses_agree(a: Pose, b: Pose, threshold: float = 0.001) -> tuple[bool, float]:
    """posenet_split_test.py's criterion: every keypoint coordinate and score differs by less than
    ``threshold``; returns (agree, largest difference)."""
    worst = float(max(np.max(np.abs(a.coords - b.coords)), np.max(np.abs(a.scores - b.scores))))
    return worst < threshold, worst
