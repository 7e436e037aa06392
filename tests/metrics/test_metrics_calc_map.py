"""calc_map style: each quirk of 5G-MAG's calc_map.py pinned by a tiny hand-computed example."""
from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.metrics.calc_map_style import (IOU_THRESHOLDS, calc_map, calc_map_class_scores, calc_map_report,
                                            corner_iou, image_class_ap, printed_map, threshold_pairs,
                                            unsorted_voc_ap)
from metrics_builders import make_dets, make_gt, perfect_dets

A = [0, 0, 100, 100]
B_NEAR_A = [0, 0, 100, 101]  # IoU(A, B) = 100/101 >= 0.95: one prediction on A also takes B


def test_thresholds_are_the_scripts_ten():
    assert len(IOU_THRESHOLDS) == 10
    assert IOU_THRESHOLDS == pytest.approx([0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95])


def test_one_prediction_consumes_two_ground_truth_boxes():
    # P (on A, higher score) takes A and B at every threshold; Q (on B) finds nothing left.
    # Per threshold TP = 1 prediction (not 2 boxes): precision 1/2, recall 1/2 -> AP = 0.5 * 0.5.
    gt = make_gt([(1, 1, A), (1, 1, B_NEAR_A)])
    dets = make_dets(gt, [(1, 1, A, 0.9), (1, 1, B_NEAR_A, 0.8)])
    assert threshold_pairs([(0, 0, 100, 100), (0, 0, 100, 101)], [(0, 0, 100, 100), (0, 0, 100, 101)]) == \
        ([0.5] * 10, [0.5] * 10)
    assert calc_map(gt, dets) == pytest.approx(25.0)


def test_unsorted_pairs_subtract_area():
    # r = p = [1, 1, .5 x 8]: mrec = [0,1,1,.5,..,.5,1]; envelope 1 up to index 2, then .5, last 0:
    # AP = 1*1 + (.5-1)*.5 + (1-.5)*0 = 0.75 (sorting by recall first would give 1.0).
    assert unsorted_voc_ap([1, 1] + [0.5] * 8, [1, 1] + [0.5] * 8) == pytest.approx(0.75)


def test_recall_order_effect_end_to_end():
    # GT2/P2 IoU = 0.58: both predictions match at 0.50 and 0.55, only P1 above -> pairs as above.
    gt = make_gt([(1, 1, [500, 500, 50, 50]), (1, 1, [0, 0, 100, 100])])
    dets = make_dets(gt, [(1, 1, [500, 500, 50, 50], 0.9), (1, 1, [0, 0, 100, 58], 0.8)])
    assert calc_map(gt, dets) == pytest.approx(75.0)


def test_score_order_decides_matching_and_equal_scores_keep_file_order():
    # GT A, B (IoU .714); P1 overlaps A (.833) and B (.857); P2 is B. P1 first: it takes both boxes up to
    # IoU .80, B at .85, nothing above, where P2 only gets B: (.5, .5) ten times -> 25.
    # P2 first: takes A and B up to .70, only B above; P1 then gets A at .75/.80 -> r = [.5]*5+[1,1]+[.5]*3 -> 75.
    gt = make_gt([(1, 1, [0, 0, 10, 10]), (1, 1, [0, 0, 10, 14])])
    p1, p2 = [0, 0, 10, 12], [0, 0, 10, 14]
    assert calc_map(gt, make_dets(gt, [(1, 1, p1, 0.9), (1, 1, p2, 0.8)])) == pytest.approx(25.0)
    assert calc_map(gt, make_dets(gt, [(1, 1, p1, 0.8), (1, 1, p2, 0.9)])) == pytest.approx(75.0)
    assert calc_map(gt, make_dets(gt, [(1, 1, p1, 0.7), (1, 1, p2, 0.7)])) == pytest.approx(25.0)
    assert calc_map(gt, make_dets(gt, [(1, 1, p2, 0.7), (1, 1, p1, 0.7)])) == pytest.approx(75.0)


def test_predictions_of_classes_absent_from_the_image_cost_nothing():
    gt = make_gt([(1, 1, A), (2, 2, A)])
    dets = make_dets(gt, [(1, 1, A, 0.9), (1, 2, [300, 300, 20, 20], 0.99), (2, 2, A, 0.9)])
    assert calc_map(gt, dets) == pytest.approx(100.0)


def test_false_positives_of_a_present_class_do_cost():
    gt = make_gt([(1, 1, A)])
    dets = make_dets(gt, [(1, 1, A, 0.9), (1, 1, [300, 300, 20, 20], 0.8)])
    # precision 1/2, recall 1 at every threshold: envelope .5 over recall 0..1 -> 50
    assert calc_map(gt, dets) == pytest.approx(50.0)


def test_score_threshold_is_strictly_above():
    gt = make_gt([(1, 1, A)])
    assert calc_map(gt, make_dets(gt, [(1, 1, A, 0.5)])) == 0.0
    assert calc_map(gt, make_dets(gt, [(1, 1, A, 0.5000001)])) == pytest.approx(100.0)
    assert calc_map(gt, make_dets(gt, [(1, 1, A, 0.3)]), score_threshold=0.2) == pytest.approx(100.0)
    assert calc_map(gt, make_dets(gt, [(1, 1, A, 0.3)]), score_threshold=0.3) == 0.0


def test_class_without_predictions_scores_zero():
    gt = make_gt([(1, 1, A), (1, 2, [200, 200, 50, 50])])
    scores = calc_map_class_scores(gt, make_dets(gt, [(1, 1, A, 0.9)]))
    assert scores == {1: pytest.approx(100.0), 2: 0.0}
    assert image_class_ap([(0, 0, 1, 1)], []) == 0.0


def test_class_score_is_the_mean_over_images():
    # image 1: perfect (1.0); image 2: the two-box quirk (0.25) -> class mean 0.625
    gt = make_gt([(1, 1, A), (2, 1, A), (2, 1, B_NEAR_A)])
    dets = make_dets(gt, [(1, 1, A, 0.9), (2, 1, A, 0.9), (2, 1, B_NEAR_A, 0.8)])
    assert calc_map_class_scores(gt, dets) == {1: pytest.approx(62.5)}


def test_overall_score_is_the_unweighted_mean_over_classes():
    # class 1 perfect in three images, class 2 missed in one image: 50, not the image-weighted 75
    gt = make_gt([(1, 1, A), (2, 1, A), (3, 1, A), (4, 2, A)])
    dets = make_dets(gt, [(i, 1, A, 0.9) for i in (1, 2, 3)])
    assert calc_map(gt, dets) == pytest.approx(50.0)


def test_two_decimals_only_in_the_printed_value():
    # three classes, one found: 100/3 unrounded; printed "33.33"
    gt = make_gt([(1, 1, A), (1, 2, [200, 0, 50, 50]), (1, 3, [0, 200, 50, 50])])
    report = calc_map_report(gt, make_dets(gt, [(1, 1, A, 0.9)]))
    assert report["mAP"] == pytest.approx(100 / 3, abs=1e-12) and report["mAP"] != 33.33
    assert report["mAP_printed"] == "33.33"
    assert printed_map(94.2149) == "94.21" and printed_map(100.0) == "100.00"


def test_iou_has_no_plus_one_and_matches_at_or_above_threshold():
    assert corner_iou((0, 0, 10, 10), (0, 0, 10, 4.5)) == pytest.approx(0.45)  # +1 convention would give 0.5
    gt = make_gt([(1, 1, [0, 0, 10, 10])])
    assert calc_map(gt, make_dets(gt, [(1, 1, [0, 0, 10, 4.5], 0.9)])) == 0.0
    # IoU exactly 0.5 matches at the first threshold only; pairs (1,1),(0,0)x9 still give AP 1
    assert threshold_pairs([(0, 0, 10, 10)], [(0, 0, 10, 5)]) == ([1.0] + [0.0] * 9, [1.0] + [0.0] * 9)
    assert calc_map(gt, make_dets(gt, [(1, 1, [0, 0, 10, 5], 0.9)])) == pytest.approx(100.0)


def test_localisation_matters_only_between_objects_of_a_class():
    # a lone object found at IoU .6 scores 100; two objects found at IoU .92 and .6 give
    # r = p = [1]*3 + [.5]*6 + [0] -> AP = 1*(1-.5) + .5*(.5-0) = .75
    gt = make_gt([(1, 1, [0, 0, 100, 100])])
    assert calc_map(gt, make_dets(gt, [(1, 1, [0, 0, 100, 60], 0.9)])) == pytest.approx(100.0)
    gt = make_gt([(1, 1, [0, 0, 100, 100]), (1, 1, [500, 0, 100, 100])])
    dets = make_dets(gt, [(1, 1, [0, 0, 100, 92], 0.9), (1, 1, [500, 0, 100, 60], 0.8)])
    assert calc_map(gt, dets) == pytest.approx(75.0)


def test_degenerate_boxes_do_not_crash():
    assert corner_iou((1, 1, 1, 1), (1, 1, 1, 1)) == 0.0


def test_images_without_ground_truth_are_skipped_and_crowd_is_dropped_by_default():
    gt = make_gt([(1, 1, A), (2, 1, [0, 0, 50, 50], 1)], image_ids=[1, 2, 3])
    dets = make_dets(gt, [(1, 1, A, 0.9), (3, 1, A, 0.9)])  # image 3 has no ground truth
    assert calc_map_class_scores(gt, dets) == {1: pytest.approx(100.0)}
    # with crowd kept, image 2 scores its unmatched crowd box 0: mean(1, 0)
    assert calc_map_class_scores(gt, dets, include_crowd=True) == {1: pytest.approx(50.0)}


def test_nothing_to_score_and_bad_threshold_are_errors():
    gt = make_gt([], image_ids=[1], categories=[1])
    with pytest.raises(ValueError, match="no image has ground-truth boxes"):
        calc_map(gt, [])
    gt = make_gt([(1, 1, A)])
    with pytest.raises(ValueError, match="score threshold"):
        calc_map(gt, [], score_threshold=math.nan)


# property tests: disjoint boxes on a grid so that no two boxes of an image overlap
cells = st.lists(st.tuples(st.integers(1, 3), st.integers(0, 15), st.integers(1, 2)), min_size=1, max_size=20,
                 unique_by=lambda c: (c[0], c[1]))


def _grid_gt(cell_list):
    return make_gt([(img, cls, [(k % 4) * 30.0, (k // 4) * 30.0, 20.0, 25.0]) for img, k, cls in cell_list])


@settings(max_examples=60, deadline=None)
@given(cells)
def test_perfect_predictions_score_100(cell_list):
    gt = _grid_gt(cell_list)
    assert calc_map(gt, perfect_dets(gt)) == pytest.approx(100.0)


@settings(max_examples=60, deadline=None)
@given(cells, st.data())
def test_score_in_range_and_independent_of_result_order_when_scores_differ(cell_list, data):
    gt = _grid_gt(cell_list)
    jitter = st.floats(-8, 8, allow_nan=False)
    raw = data.draw(st.lists(st.tuples(st.sampled_from(sorted(gt.image_ids)), st.sampled_from(sorted(gt.categories)),
                                       st.integers(0, 15), jitter, jitter), max_size=25))
    dets = make_dets(gt, [(img, cls, [(k % 4) * 30.0 + dx, (k // 4) * 30.0 + dy, 20.0, 25.0], 0.51 + i / 100)
                          for i, (img, cls, k, dx, dy) in enumerate(raw)])
    value = calc_map(gt, dets)
    assert 0.0 <= value <= 100.0
    assert calc_map(gt, data.draw(st.permutations(dets))) == value
