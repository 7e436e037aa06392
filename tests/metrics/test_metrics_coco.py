"""coco style: pycocotools' stats by name, the empty-detections case and the annotation-id-0 trap."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.metrics import METRIC_STYLES, score
from harness.metrics.coco_data import parse_ground_truth
from harness.metrics.coco_style import STAT_NAMES, coco_stats
from metrics_builders import make_dets, make_gt, perfect_dets

SMALL, MEDIUM, LARGE = [0, 0, 10, 10], [100, 100, 50, 50], [300, 300, 200, 200]  # COCO area ranges 32², 96²


def test_perfect_predictions_known_answer():
    gt = make_gt([(1, 1, SMALL), (1, 1, LARGE), (2, 2, LARGE)])
    stats = coco_stats(gt, perfect_dets(gt))
    assert list(stats) == list(STAT_NAMES)
    expected = {name: 1.0 for name in STAT_NAMES}
    expected.update(APm=-1.0, ARm=-1.0)  # no medium ground truth: pycocotools reports -1
    expected.update(AR1=0.75)  # one detection per image finds one of class 1's two boxes: mean(1/2, 1)
    assert stats == pytest.approx(expected)


def test_half_found_known_answer():
    # one of two boxes found, ranked first: precision 1 up to recall .5 -> 51 of 101 recall points
    gt = make_gt([(1, 1, MEDIUM), (2, 1, MEDIUM)])
    stats = coco_stats(gt, make_dets(gt, [(1, 1, MEDIUM, 0.9)]))
    assert stats["AP"] == pytest.approx(51 / 101)
    assert stats["AP50"] == pytest.approx(51 / 101)
    assert stats["AR100"] == pytest.approx(0.5) and stats["AR1"] == pytest.approx(0.5)
    assert stats["APs"] == -1.0 and stats["APl"] == -1.0


def test_empty_detections_report_what_pycocotools_reports_for_a_detector_that_finds_nothing(capsys):
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = make_gt([(1, 1, SMALL), (2, 1, LARGE)])
    stats = coco_stats(gt, [])
    # independent expectation: pycocotools itself, with one detection of a category it does not evaluate
    reference = COCO()
    reference.dataset = gt.to_coco_dict()
    reference.createIndex()
    dt = reference.loadRes([{"image_id": 1, "category_id": 99, "bbox": SMALL, "score": 0.9}])
    evaluator = COCOeval(reference, dt, "bbox")
    evaluator.evaluate(), evaluator.accumulate(), evaluator.summarize()
    capsys.readouterr()
    assert stats == pytest.approx(dict(zip(STAT_NAMES, evaluator.stats)))
    assert stats["AP"] == 0.0 and stats["APm"] == -1.0


def test_pycocotools_output_is_silenced(capsys):
    gt = make_gt([(1, 1, SMALL)])
    coco_stats(gt, perfect_dets(gt))
    assert capsys.readouterr().out == ""


def test_annotation_id_zero_still_counts_as_a_match():
    # pycocotools reads a matched ground-truth id of 0 as "unmatched"; ids are renumbered before it sees them
    gt = parse_ground_truth({"images": [{"id": 7}], "categories": [{"id": 1, "name": "a"}],
                             "annotations": [{"id": 0, "image_id": 7, "category_id": 1, "bbox": MEDIUM}]})
    assert coco_stats(gt, perfect_dets(gt))["AP"] == pytest.approx(1.0)


def test_registered_report_is_the_twelve_stats_and_the_per_class_table():
    assert METRIC_STYLES.names() == ["calc_map", "coco", "voc"]
    gt = make_gt([(1, 1, MEDIUM)])
    report = score("coco", gt, perfect_dets(gt))
    assert report.pop("per_class") == {"1": {"name": "class1", "AP": pytest.approx(1.0)}}
    assert report == coco_stats(gt, perfect_dets(gt))


def test_no_images_is_an_error():
    with pytest.raises(ValueError, match="no images"):
        coco_stats(make_gt([], image_ids=[], categories=[1]), [])


box = st.tuples(st.floats(0, 200, allow_nan=False), st.floats(0, 200, allow_nan=False),
                st.floats(1, 150, allow_nan=False), st.floats(1, 150, allow_nan=False)).map(list)


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_stats_in_range_and_invariant_to_detection_order(data):
    gt = make_gt(data.draw(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2), box), min_size=1, max_size=10)),
                 image_ids=[1, 2, 3], categories=[1, 2])
    raw = data.draw(st.lists(st.tuples(st.integers(1, 3), st.integers(1, 2), box), max_size=15))
    scores = data.draw(st.lists(st.floats(0.01, 1), min_size=len(raw), max_size=len(raw), unique=True))
    dets = make_dets(gt, [(*r, s) for r, s in zip(raw, scores)])
    stats = coco_stats(gt, dets)
    assert all(v == -1.0 or 0.0 <= v <= 1.0 for v in stats.values())
    assert coco_stats(gt, data.draw(st.permutations(dets))) == stats
    assert coco_stats(gt, perfect_dets(gt))["AP"] == pytest.approx(1.0)


def test_per_class_ap_known_answer_and_its_mean_is_pycocotools_ap():
    # class 1: one of two medium boxes found first (51/101, as above); class 2: found exactly (1.0)
    gt = make_gt([(1, 1, MEDIUM), (2, 1, MEDIUM), (1, 2, LARGE)])
    report = score("coco", gt, make_dets(gt, [(1, 1, MEDIUM, 0.9), (1, 2, LARGE, 0.8)]))
    per_class = {int(k): v["AP"] for k, v in report["per_class"].items()}
    assert per_class == pytest.approx({1: 51 / 101, 2: 1.0})
    assert sum(per_class.values()) / 2 == pytest.approx(report["AP"])  # COCO AP is the mean over classes
