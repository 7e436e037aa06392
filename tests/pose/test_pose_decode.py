"""Single-pose decoding (harness.pose.decode) on maps whose answer is known by construction."""
from __future__ import annotations

import numpy as np
import pytest

from harness.pose import KEYPOINT_NAMES, decode_single_pose, image_feed, poses_agree


def maps(height: int = 5, width: int = 7):
    rng = np.random.default_rng(1)
    heat = rng.random((1, 17, height, width)).astype(np.float32) * 0.5
    offsets = rng.standard_normal((1, 34, height, width)).astype(np.float32)
    return heat, offsets


def test_argmax_cell_times_stride_plus_offset():
    heat, offsets = maps()
    heat[0, 3, 2, 4] = 0.9
    offsets[0, 3, 2, 4], offsets[0, 3 + 17, 2, 4] = 1.5, -2.25
    pose = decode_single_pose(heat, offsets, output_stride=16)
    assert len(KEYPOINT_NAMES) == 17
    assert pose.coords[3].tolist() == [2 * 16 + 1.5, 4 * 16 - 2.25]
    assert pose.scores[3] == pytest.approx(0.9)
    assert pose.score == pytest.approx(float(np.mean(pose.scores)))


def test_sigmoid_option_and_shape_errors():
    heat, offsets = maps()
    logits = np.log(heat / (1 - heat))
    a, b = decode_single_pose(heat, offsets), decode_single_pose(logits, offsets, apply_sigmoid=True)
    np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5)
    with pytest.raises(ValueError, match="17 channels"):
        decode_single_pose(heat[:, :16], offsets)
    with pytest.raises(ValueError, match="batch of one"):
        decode_single_pose(np.concatenate([heat, heat]), np.concatenate([offsets, offsets]))


def test_agreement_threshold_is_strict():
    heat, offsets = maps()
    pose = decode_single_pose(heat, offsets)
    shifted = decode_single_pose(heat, offsets + np.float32(0.002))
    assert poses_agree(pose, pose) == (True, 0.0)
    agree, worst = poses_agree(pose, shifted)
    assert not agree and worst == pytest.approx(0.002, rel=1e-3)
    assert poses_agree(pose, shifted, threshold=0.003)[0]


def test_real_photograph_is_preprocessed_to_posenet_range():
    feed = image_feed("matplotlib:grace_hopper.jpg", 257)["image"]
    assert feed.shape == (1, 3, 257, 257) and feed.dtype == np.float32
    assert -1.0 <= feed.min() < -0.9 and 0.9 < feed.max() <= 1.0
    with pytest.raises(ValueError, match="image source"):
        image_feed("http://example.org/x.jpg", 257)
