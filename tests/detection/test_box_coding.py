"""Default boxes and SSD box coding (NVIDIA ssd_resnet conventions)."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.detection.ssd.default_boxes import (DefaultBoxesConfig, assign_targets, decode, default_boxes_xywh, encode,
                                             iou_matrix, xywh_to_ltrb)

CONFIG = DefaultBoxesConfig()
ANCHORS = default_boxes_xywh(CONFIG)

box = st.tuples(st.floats(0.0, 0.9), st.floats(0.0, 0.9), st.floats(0.01, 0.5), st.floats(0.01, 0.5)).map(
    lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3]))


def test_default_box_count_and_layout():
    expected = sum(n * f * f for n, f in zip(CONFIG.boxes_per_location(), CONFIG.feat_size))
    assert ANCHORS.shape == (expected, 4)
    first = ANCHORS[: CONFIG.feat_size[0] ** 2]  # first size of the 32x32 map, row-major over the grid
    step = CONFIG.steps[0] / CONFIG.fig_size
    assert np.allclose(first[1, :2] - first[0, :2], [step, 0]) and np.allclose(first[32, :2] - first[0, :2], [0, step])
    assert np.allclose(first[0, 2:], CONFIG.scales[0] / CONFIG.fig_size)


def test_config_json_round_trip():
    assert DefaultBoxesConfig.from_json(CONFIG.to_json()) == CONFIG


@settings(max_examples=200, deadline=None)
@given(st.lists(box, min_size=1, max_size=8), st.integers(0, len(ANCHORS) - 8))
def test_encode_decode_round_trip(boxes, first):
    boxes = np.array(boxes)
    anchors = ANCHORS[first:first + len(boxes)]
    back = decode(encode(boxes, anchors), anchors)
    assert np.allclose(back, boxes, atol=1e-9)


def test_encode_known_answer():
    anchor = np.array([[0.5, 0.5, 0.2, 0.2]])
    target = np.array([[0.42, 0.4, 0.62, 0.8]])  # cx 0.52, cy 0.6, w 0.2, h 0.4
    assert np.allclose(encode(target, anchor), [[0.02 / 0.02, 0.1 / 0.02, 0.0, np.log(2) / 0.2]])


def test_assign_targets_gives_every_object_a_positive_that_decodes_to_it():
    gt = np.array([[0.1, 0.1, 0.2, 0.18], [0.3, 0.3, 0.9, 0.85], [0.12, 0.11, 0.21, 0.2]])
    labels = np.array([1, 4, 6])
    offsets, assigned = assign_targets(gt, labels, ANCHORS, CONFIG)
    for k, label in enumerate(labels):
        assert np.any(assigned == label)
    pos = assigned > 0
    decoded = decode(offsets[pos], ANCHORS[pos])
    ious = iou_matrix(decoded, gt)
    assert np.allclose(ious.max(axis=1), 1.0, atol=1e-5)
    assert np.array_equal(labels[ious.argmax(axis=1)], assigned[pos])
    # the positives (beyond each object's forced best anchor) overlap their object by IoU >= 0.5
    anchor_iou = iou_matrix(xywh_to_ltrb(ANCHORS[pos]), gt).max(axis=1)
    assert (anchor_iou >= 0.5).sum() >= pos.sum() - len(gt)


def test_assign_targets_without_objects_is_all_background():
    offsets, labels = assign_targets(np.zeros((0, 4)), np.zeros(0, np.int64), ANCHORS, CONFIG)
    assert not labels.any() and not offsets.any()
