"""``python -m harness map`` end to end, through a subprocess."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.metrics import score
from harness.metrics.coco_data import load_detections, load_ground_truth
from harness.files import REPO_ROOT

GT = {"images": [{"id": 1}, {"id": 2}],
      "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "car"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50]},
                      {"id": 2, "image_id": 2, "category_id": 1, "bbox": [10, 10, 40, 60]},
                      {"id": 3, "image_id": 2, "category_id": 2, "bbox": [100, 100, 80, 40]}]}
DT = [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 50, 50], "score": 0.9},
      {"image_id": 2, "category_id": 1, "bbox": [12, 10, 40, 60], "score": 0.45},
      {"image_id": 2, "category_id": 2, "bbox": [200, 100, 80, 40], "score": 0.8}]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", "map", *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def files(tmp_path):
    gt, dt = tmp_path / "gt.json", tmp_path / "dt.json"
    gt.write_text(json.dumps(GT))
    dt.write_text(json.dumps(DT))
    return gt, dt


@pytest.mark.parametrize("style, extra", [("coco", []), ("voc", []), ("calc_map", []),
                                          ("calc_map", ["--threshold", "0.4"])])
def test_prints_the_style_report_as_json(files, style, extra):
    gt, dt = files
    result = _run("--gt", str(gt), "--dt", str(dt), "--style", style, *extra)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    options = {"score_threshold": 0.4} if extra else {}
    ground_truth = load_ground_truth(gt)
    expected = score(style, ground_truth, load_detections(dt, ground_truth), **options)
    assert printed == json.loads(json.dumps(expected))  # JSON floats round-trip exactly
    if style == "coco":
        assert list(printed) == ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl",
                                 "per_class"]
    else:
        assert set(printed["per_class"]) == {"1", "2"} and printed["per_class"]["1"]["name"] == "person"


def test_calc_map_threshold_changes_the_score(files):
    gt, dt = files
    # default 0.5 drops the 0.45 person of image 2: person = mean(100, 0) = 50, car 0 -> 25
    assert json.loads(_run("--gt", str(gt), "--dt", str(dt), "--style", "calc_map").stdout)["mAP_printed"] == "25.00"
    # 0.4 keeps it (IoU .905: matched up to .90) -> person 100; overall 50
    lowered = json.loads(_run("--gt", str(gt), "--dt", str(dt), "--style", "calc_map", "--threshold", "0.4").stdout)
    assert lowered["mAP"] == pytest.approx(50.0)


def _assert_one_line_error(result, *fragments):
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_malformed_ground_truth(files, tmp_path):
    _, dt = files
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    _assert_one_line_error(_run("--gt", str(bad), "--dt", str(dt), "--style", "voc"), "broken.json", "malformed JSON")


def test_detection_of_an_unknown_image(files, tmp_path):
    gt, _ = files
    dt = tmp_path / "dt_bad.json"
    dt.write_text(json.dumps([{"image_id": 42, "category_id": 1, "bbox": [0, 0, 1, 1], "score": 0.9}]))
    _assert_one_line_error(_run("--gt", str(gt), "--dt", str(dt), "--style", "coco"), "dt_bad.json", "image_id 42")


def test_missing_file(files, tmp_path):
    gt, _ = files
    _assert_one_line_error(_run("--gt", str(gt), "--dt", str(tmp_path / "absent.json"), "--style", "voc"),
                           "absent.json")


@pytest.mark.parametrize("args, fragment", [
    (["--style", "coco", "--threshold", "0.3"], "--threshold does not apply to --style coco"),
    (["--style", "voc", "--include-crowd"], "--include-crowd does not apply to --style voc"),
    (["--style", "calc_map", "--threshold", "nan"], "--threshold must be a finite number"),
])
def test_option_misuse(files, args, fragment):
    gt, dt = files
    _assert_one_line_error(_run("--gt", str(gt), "--dt", str(dt), *args), fragment)


def test_unknown_style_is_rejected_by_argparse(files):
    gt, dt = files
    result = _run("--gt", str(gt), "--dt", str(dt), "--style", "f1")
    assert result.returncode == 2 and "invalid choice" in result.stderr
