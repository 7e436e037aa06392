"""voc style: hand-computed known answers, and agreement with pycocotools' AP50 where the two must agree."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from harness.metrics.coco_style import coco_eval
from harness.metrics.voc_style import all_point_ap, voc_class_aps, voc_map, voc_report
from metrics_builders import make_dets, make_gt, perfect_dets

A = [0, 0, 10, 10]
FAR = [100, 100, 10, 10]


def test_all_point_ap_known_answer():
    # recall .5 at precision 1, then recall 1 at precision 2/3 -> .5*1 + .5*(2/3)
    assert all_point_ap(np.array([0.5, 0.5, 1.0]), np.array([1.0, 0.5, 2 / 3])) == pytest.approx(5 / 6)


def test_tp_fp_tp_ranking_known_answer():
    gt = make_gt([(1, 1, A), (2, 1, A)])
    dets = make_dets(gt, [(1, 1, A, 0.9), (1, 1, FAR, 0.8), (2, 1, A, 0.7)])
    assert voc_map(gt, dets) == pytest.approx(100 * 5 / 6)


def test_ranking_is_across_images_and_independent_of_file_order():
    gt = make_gt([(1, 1, A), (2, 1, A)])
    dets = make_dets(gt, [(2, 1, A, 0.7), (1, 1, FAR, 0.8), (1, 1, A, 0.9)])
    assert voc_map(gt, dets) == pytest.approx(100 * 5 / 6)


def test_duplicate_detection_is_a_false_positive():
    gt = make_gt([(1, 1, A)])
    # TP then FP: envelope 1 up to recall 1 -> 100; FP first: precision 1/2 at recall 1 -> 50
    assert voc_map(gt, make_dets(gt, [(1, 1, A, 0.9), (1, 1, A, 0.8)])) == pytest.approx(100.0)
    assert voc_map(gt, make_dets(gt, [(1, 1, FAR, 0.9), (1, 1, A, 0.8)])) == pytest.approx(50.0)


def test_matches_the_highest_iou_unmatched_box():
    # det1 overlaps GT1 (IoU .6) and GT2 (.739): takes GT2; det2 overlaps only GT2 (.818): false positive.
    gt = make_gt([(1, 1, [0, 0, 10, 10]), (1, 1, [4, 0, 10, 10])])
    dets = make_dets(gt, [(1, 1, [2.5, 0, 10, 10], 0.9), (1, 1, [5, 0, 10, 10], 0.8)])
    assert voc_map(gt, dets) == pytest.approx(50.0)


def test_iou_exactly_half_is_not_a_match():
    gt = make_gt([(1, 1, A)])
    assert voc_map(gt, make_dets(gt, [(1, 1, [0, 0, 10, 5], 0.9)])) == 0.0
    assert voc_map(gt, make_dets(gt, [(1, 1, [0, 0, 10, 5.1], 0.9)])) == pytest.approx(100.0)


def test_crowd_regions_are_neither_required_nor_penalised():
    gt = make_gt([(1, 1, A), (1, 1, [50, 50, 40, 40], 1)])
    # a detection inside the crowd region (covers > half of itself) is ignored, not a false positive
    dets = make_dets(gt, [(1, 1, [55, 55, 10, 10], 0.95), (1, 1, A, 0.9)])
    assert voc_map(gt, dets) == pytest.approx(100.0)
    # a class whose only boxes are crowd is not scored
    gt2 = make_gt([(1, 1, A), (1, 2, [50, 50, 40, 40], 1)])
    assert set(voc_class_aps(gt2, make_dets(gt2, [(1, 1, A, 0.9)]))) == {1}


def test_mean_over_ground_truth_classes_only():
    gt = make_gt([(1, 1, A), (1, 2, FAR)], categories=[1, 2, 3])
    dets = make_dets(gt, [(1, 1, A, 0.9), (1, 3, A, 0.99)])  # class 3 has no ground truth: not scored
    report = voc_report(gt, dets)
    assert report["mAP"] == pytest.approx(50.0)
    assert report["per_class"] == {"1": {"name": "class1", "AP": pytest.approx(100.0)},
                                   "2": {"name": "class2", "AP": 0.0}}


def test_no_ground_truth_is_an_error():
    gt = make_gt([], image_ids=[1], categories=[1])
    with pytest.raises(ValueError, match="no non-crowd box"):
        voc_map(gt, [])


# --- properties and the pycocotools cross-check ---------------------------------------------------------
coord = st.floats(0, 60, allow_nan=False, allow_infinity=False)
size = st.floats(2, 30, allow_nan=False, allow_infinity=False)
box = st.tuples(coord, coord, size, size).map(list)
gt_box = st.tuples(st.integers(1, 3), st.integers(1, 2), box, st.sampled_from([0, 0, 0, 1]))  # 1 in 4 crowd


def _random_case(data):
    boxes = data.draw(st.lists(gt_box, min_size=1, max_size=12))
    assume(any(not b[3] for b in boxes))
    gt = make_gt(boxes, image_ids=[1, 2, 3], categories=[1, 2])
    # near-hits (ground-truth boxes shifted by up to 4 px) make non-trivial rankings; plus random boxes
    shift = st.one_of(st.none(), st.tuples(st.floats(-4, 4), st.floats(-4, 4)))
    shifts = data.draw(st.lists(shift, min_size=len(gt.boxes), max_size=len(gt.boxes)))
    raw = [(b.image_id, b.category_id, [b.bbox[0] + s[0], b.bbox[1] + s[1], *b.bbox[2:]])
           for b, s in zip(gt.boxes, shifts) if s is not None]
    raw += data.draw(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2), box), max_size=10))
    scores = data.draw(st.lists(st.floats(0.01, 1), min_size=len(raw), max_size=len(raw), unique=True))
    return gt, make_dets(gt, [(*r, s) for r, s in zip(raw, scores)])


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_in_range_and_invariant_to_detection_order(data):
    gt, dets = _random_case(data)
    value = voc_map(gt, dets)
    assert 0.0 <= value <= 100.0
    assert voc_map(gt, data.draw(st.permutations(dets))) == value


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_perfect_predictions_score_100(data):
    boxes = data.draw(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2), box), min_size=1, max_size=12))
    gt = make_gt(boxes)
    assert voc_map(gt, perfect_dets(gt)) == pytest.approx(100.0)


def _coco_ap50_per_class(gt, dets) -> dict[int, float]:
    evaluator = coco_eval(gt, dets)
    precision = evaluator.eval["precision"][0, :, :, 0, 2]  # IoU .5, all recalls, classes, area all, 100 dets
    return {cid: float(np.mean(precision[:, k])) for k, cid in enumerate(evaluator.params.catIds)
            if (precision[:, k] > -1).all()}


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_agrees_with_pycocotools_ap50_within_interpolation_error(data):
    # Same matching (highest-IoU unmatched, crowd ignored); COCO samples the envelope at 101 recall points
    # where VOC integrates it: for a non-increasing envelope the two differ by at most 1/100 (1 point).
    gt, dets = _random_case(data)
    ious = [mask_utils.iou([list(d.bbox)], [list(b.bbox)], [int(b.iscrowd)])[0][0] for d in dets for b in gt.boxes]
    assume(all(abs(iou - 0.5) > 1e-9 for iou in ious))  # VOC: > .5, COCO: >= .5
    voc = voc_class_aps(gt, dets)
    coco = _coco_ap50_per_class(gt, dets)
    assert set(voc) == set(coco)
    for cid in voc:
        assert abs(voc[cid] - 100 * coco[cid]) <= 1.0 + 1e-9, (cid, voc[cid], coco[cid])


def test_coincides_with_pycocotools_when_all_found_before_any_false_positive():
    gt = make_gt([(1, 1, A), (2, 1, A), (2, 2, FAR)])
    dets = perfect_dets(gt) + make_dets(gt, [(1, 1, FAR, 0.1), (2, 2, A, 0.05)])
    assert voc_class_aps(gt, dets) == {1: pytest.approx(100.0), 2: pytest.approx(100.0)}
    assert _coco_ap50_per_class(gt, dets) == {1: pytest.approx(1.0), 2: pytest.approx(1.0)}
