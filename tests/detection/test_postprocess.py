"""Numpy post-processing against torchvision's NMS and on constructed network outputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torchvision.ops import batched_nms as tv_batched_nms
from torchvision.ops import nms as tv_nms

from harness.detection.ssd.default_boxes import DefaultBoxesConfig, default_boxes_xywh, encode
from harness.detection.ssd.postprocess import batched_nms, nms, postprocess


def _random_boxes(seed: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lt = rng.uniform(0, 100, (n, 2))
    boxes = np.concatenate([lt, lt + rng.uniform(1, 40, (n, 2))], axis=1)
    # distinct scores: with ties the kept order is implementation-defined
    scores = rng.permutation(n).astype(np.float64) / n + rng.uniform(0, 1e-3)
    return boxes, scores, rng.integers(0, 4, n)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 80), st.sampled_from([0.3, 0.5, 0.7]))
def test_nms_matches_torchvision(seed, n, iou):
    boxes, scores, _ = _random_boxes(seed, n)
    expected = tv_nms(torch.from_numpy(boxes), torch.from_numpy(scores), iou).numpy()
    assert np.array_equal(nms(boxes, scores, iou), expected)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 80))
def test_batched_nms_matches_torchvision(seed, n):
    boxes, scores, classes = _random_boxes(seed, n)
    expected = tv_batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(classes), 0.5).numpy()
    assert np.array_equal(batched_nms(boxes, scores, classes, 0.5), expected)


def test_postprocess_recovers_constructed_detections():
    config = DefaultBoxesConfig()
    anchors = default_boxes_xywh(config)
    gt = np.array([[0.1, 0.2, 0.3, 0.35], [0.5, 0.4, 0.9, 0.95]])
    # Three anchors near each object vote for it with shrinking confidence; NMS must keep one per object.
    centres = (gt[:, :2] + gt[:, 2:]) / 2
    bboxes = np.zeros((1, len(anchors), 4))
    logits = np.zeros((1, len(anchors), 7))
    logits[0, :, 0] = 10.0
    for k, (label, conf) in enumerate([(2, 8.0), (5, 12.0)]):
        nearest = np.argsort(np.abs(anchors[:, :2] - centres[k]).sum(axis=1))[:3]
        for rank, a in enumerate(nearest):
            bboxes[0, a] = encode(gt[k:k + 1] + rank * 0.002, anchors[a:a + 1])
            logits[0, a, 0], logits[0, a, label] = 0.0, conf - rank
    (dets,) = postprocess(bboxes, logits, config, image_size=(200, 100))
    order = np.argsort(dets.labels)
    assert dets.labels[order].tolist() == [2, 5]
    assert np.allclose(dets.boxes[order], gt * [200, 100, 200, 100], atol=1e-6)
    assert np.all(dets.scores > 0.99)


def test_postprocess_rejects_outputs_of_another_model():
    with pytest.raises(ValueError, match="expected bboxes"):
        postprocess(np.zeros((1, 10, 4)), np.zeros((1, 10, 7)), DefaultBoxesConfig())


def test_boxes_are_clipped_to_the_image():
    config = DefaultBoxesConfig()
    anchors = default_boxes_xywh(config)
    bboxes = np.zeros((1, len(anchors), 4))
    bboxes[0, 0, 2:] = 20.0  # absurdly large box on the corner anchor
    logits = np.zeros((1, len(anchors), 7))
    logits[0, :, 0] = 10
    logits[0, 0, 3] = 20
    (dets,) = postprocess(bboxes, logits, config)
    assert len(dets.boxes) == 1 and dets.boxes.min() >= 0 and dets.boxes.max() <= config.fig_size
    assert np.allclose(dets.boxes[0], [0, 0, config.fig_size, config.fig_size])


def test_candidates_capped_per_class_keep_the_best():
    from harness.detection.ssd.postprocess import top_per_class

    rng = np.random.default_rng(0)
    idx = np.arange(1000)
    cls = rng.integers(0, 3, size=1000)
    scores = rng.random(1000)
    kept_idx, kept_cls = top_per_class(idx, cls, scores, 200)
    for c in range(3):
        expected = set(idx[cls == c][np.argsort(-scores[cls == c], kind="stable")[:200]])
        assert set(kept_idx[kept_cls == c]) == expected
    assert np.all(np.diff(kept_idx) > 0)
