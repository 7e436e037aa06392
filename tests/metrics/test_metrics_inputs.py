"""Input validation of COCO ground truth/results and the per-frame text format of seed 001 §2.1.1.1."""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.metrics.coco_data import load_detections, load_ground_truth, parse_detections, parse_ground_truth
from harness.metrics.frame_text import (FrameBox, FramePrediction, read_frame_ground_truth, read_frame_predictions,
                                        write_frame_ground_truth, write_frame_predictions)

GT = {"images": [{"id": 1, "width": 640, "height": 480}, {"id": 2}],
      "categories": [{"id": 1, "name": "person"}, {"id": 3, "name": "car"}],
      "annotations": [{"id": 5, "image_id": 1, "category_id": 1, "bbox": [1, 2, 3, 4]},
                      {"id": 6, "image_id": 2, "category_id": 3, "bbox": [0, 0, 5, 5], "area": 20.5, "iscrowd": 1}]}


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def test_valid_ground_truth_and_detections(tmp_path):
    gt = load_ground_truth(_write(tmp_path, "gt.json", GT))
    assert gt.image_ids == (1, 2) and dict(gt.categories) == {1: "person", 3: "car"}
    assert [(b.area, b.iscrowd) for b in gt.boxes] == [(12.0, False), (20.5, True)]
    assert [a["id"] for a in gt.to_coco_dict()["annotations"]] == [1, 2]
    dets = load_detections(_write(tmp_path, "dt.json", [{"image_id": 2, "category_id": 3, "bbox": [0, 0, 5, 5],
                                                         "score": 0.7}]), gt)
    assert dets[0].bbox == (0.0, 0.0, 5.0, 5.0) and dets[0].score == 0.7


def test_malformed_json_names_the_file_and_position(tmp_path):
    path = _write(tmp_path, "gt.json", '{"images": [}')
    with pytest.raises(ValueError, match=r"gt\.json: malformed JSON at line 1"):
        load_ground_truth(path)


def test_missing_file_is_an_os_error_naming_it(tmp_path):
    with pytest.raises(OSError, match="nope.json"):
        load_ground_truth(tmp_path / "nope.json")


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("categories"), "needs a list 'categories'"),
    (lambda d: d["annotations"][1].pop("bbox"), r"annotations\[1\]: missing key\(s\) bbox"),
    (lambda d: d["annotations"][0].update(bbox=[0, 0, -1, 4]), r"annotations\[0\]: bbox width and height must be >= 0"),
    (lambda d: d["annotations"][0].update(bbox=[0, 0, math.nan, 4]), r"annotations\[0\]: 'bbox' must be a finite"),
    (lambda d: d["annotations"][0].update(bbox=[0, 0, 4]), r"annotations\[0\]: 'bbox' must be a list"),
    (lambda d: d["annotations"][0].update(image_id=9), r"annotations\[0\]: image_id 9 is not in 'images'"),
    (lambda d: d["annotations"][0].update(category_id=2), r"annotations\[0\]: category_id 2 is not in"),
    (lambda d: d["annotations"][0].update(iscrowd=2), r"'iscrowd' must be 0 or 1"),
    (lambda d: d["images"].append({"id": 1}), r"images\[2\]: duplicate image id 1"),
    (lambda d: d["images"][0].update(id="1"), r"images\[0\]: 'id' must be an integer"),
])
def test_bad_ground_truth_entries_are_named(tmp_path, mutate, message):
    data = json.loads(json.dumps(GT))
    mutate(data)
    path = _write(tmp_path, "bad_gt.json", data)
    with pytest.raises(ValueError, match=message) as info:
        load_ground_truth(path)
    assert "bad_gt.json" in str(info.value)


@pytest.mark.parametrize("entry, message", [
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}, r"entry \[0\]: missing key\(s\) score"),
    ({"image_id": 4, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, "image_id 4 is not an image of"),
    ({"image_id": 1, "category_id": 0, "bbox": [0, 0, 1, 1], "score": 1}, r"category_id 0 is not a category"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, -1], "score": 1}, "must be >= 0"),
    ({"image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "score": math.nan}, "'score' must be a finite"),
    ({"image_id": True, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 1}, "'image_id' must be an integer"),
    ("not an object", r"entry \[0\]: expected a JSON object"),
])
def test_bad_detections_are_named(tmp_path, entry, message):
    gt = parse_ground_truth(GT, "gt.json")
    path = _write(tmp_path, "dt.json", [entry])
    with pytest.raises(ValueError, match=message) as info:
        load_detections(path, gt)
    assert "dt.json" in str(info.value)


def test_detections_must_be_a_list():
    with pytest.raises(ValueError, match="must be a JSON list"):
        parse_detections({"annotations": []}, parse_ground_truth(GT), "dt.json")


# --- per-frame text files (seed 001 §2.1.1.1) --------------------------------------------------------------
def test_reads_the_seed_formats(tmp_path):
    gt = _write(tmp_path, "gt.txt", "0 10 20 30 40\n\n2 1.5 2.5 3 4\n")
    assert read_frame_ground_truth(gt) == [FrameBox(0, 10, 20, 30, 40), FrameBox(2, 1.5, 2.5, 3, 4)]
    pred = _write(tmp_path, "pred.txt", "0 0.93 10 20 30 40\n")
    assert read_frame_predictions(pred) == [FramePrediction(0, 0.93, 10, 20, 30, 40)]
    assert read_frame_predictions(_write(tmp_path, "empty.txt", "")) == []


@pytest.mark.parametrize("reader, text, message", [
    (read_frame_ground_truth, "0 1 2 3 4\n0 1 2 3\n", r"frame\.txt:2: expected 5 fields"),
    (read_frame_ground_truth, "person 1 2 3 4\n", r"frame\.txt:1: object_label must be an integer"),
    (read_frame_ground_truth, "0 1 2 x 4\n", r"frame\.txt:1: box_width must be a number"),
    (read_frame_ground_truth, "0 1 2 -3 4\n", r"frame\.txt:1: box_width must be >= 0"),
    (read_frame_ground_truth, "0 1 2 3 nan\n", r"frame\.txt:1: box_height must be finite"),
    (read_frame_predictions, "\n0 1 2 3 4\n", r"frame\.txt:2: expected 6 fields"),
    (read_frame_predictions, "0 high 2 3 4 5\n", r"frame\.txt:1: prediction_confidence must be a number"),
])
def test_malformed_frame_lines_name_file_and_line(tmp_path, reader, text, message):
    with pytest.raises(ValueError, match=message):
        reader(_write(tmp_path, "frame.txt", text))


finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
size = st.floats(0, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.builds(FrameBox, st.integers(0, 90), finite, finite, size, size), max_size=5),
       st.lists(st.builds(FramePrediction, st.integers(0, 90), st.floats(0, 1), finite, finite, size, size),
                max_size=5))
def test_write_then_read_round_trips_exactly(tmp_path_factory, boxes, predictions):
    folder = tmp_path_factory.mktemp("frames")
    write_frame_ground_truth(folder / "gt.txt", boxes)
    write_frame_predictions(folder / "pred.txt", predictions)
    assert read_frame_ground_truth(folder / "gt.txt") == boxes
    assert read_frame_predictions(folder / "pred.txt") == predictions


def test_writing_a_non_finite_value_leaves_no_file(tmp_path):
    with pytest.raises(ValueError, match="non-finite"):
        write_frame_predictions(tmp_path / "p.txt", [FramePrediction(0, math.inf, 0, 0, 1, 1)])
    assert list(tmp_path.iterdir()) == []
