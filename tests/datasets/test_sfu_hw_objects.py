"""SFU-HW-Objects per-frame ground truth -> COCO, on small files the tests write."""
from __future__ import annotations

import pytest

from harness.datasets.sfu_hw_objects import SFU_CLASSES, read_sequence
from harness.metrics.coco_data import parse_ground_truth


def _sequence(tmp_path, frames: dict[str, str]):
    gt = tmp_path / "Traffic" / "ground-truth"
    gt.mkdir(parents=True)
    for name, text in frames.items():
        (gt / name).write_text(text)
    return tmp_path / "Traffic"


def test_frames_become_coco_images_in_numeric_order(tmp_path):
    seq = _sequence(tmp_path, {
        "Traffic_10.txt": "2 10 20 30 40\n",
        "Traffic_2.txt": "0 1.5 2.5 3 4\n\n2 5 5 10 10\n",
        "Traffic_0.txt": "",
    })
    coco = read_sequence(seq, width=2560, height=1600)
    assert [i["id"] for i in coco["images"]] == [1, 3, 11]
    assert coco["images"][1] == {"id": 3, "file_name": "Traffic_2.png", "width": 2560, "height": 1600}
    boxes = [(a["image_id"], a["category_id"], a["bbox"]) for a in coco["annotations"]]
    assert boxes == [(3, 0, [1.5, 2.5, 3.0, 4.0]), (3, 2, [5.0, 5.0, 10.0, 10.0]), (11, 2, [10.0, 20.0, 30.0, 40.0])]
    truth = parse_ground_truth(coco, "sfu")
    assert truth.categories[2] == "car" and len(truth.boxes) == 3


def test_class_table_is_the_seeds(tmp_path):
    assert len(SFU_CLASSES) == 21
    assert SFU_CLASSES[0] == "person" and SFU_CLASSES[77] == "teddy bear" and 3 not in SFU_CLASSES


def test_malformed_line_names_file_and_line(tmp_path):
    seq = _sequence(tmp_path, {"f_1.txt": "0 1 2 3 4\n0 1 two 3 4\n"})
    with pytest.raises(ValueError, match=r"f_1\.txt.*2"):
        read_sequence(seq)


@pytest.mark.parametrize("line,message", [("3 1 2 3 4", r"ground-truth/f_1\.txt:1: object_label 3 is not a class id"), ("0 1 2 0 4", "non-positive")])
def test_unknown_label_or_empty_box_is_an_error(tmp_path, line, message):
    seq = _sequence(tmp_path, {"f_1.txt": line + "\n"})
    with pytest.raises(ValueError, match=message):
        read_sequence(seq)


def test_missing_folder_says_what_to_provide(tmp_path):
    with pytest.raises(FileNotFoundError, match="sfuhwobjects"):
        read_sequence(tmp_path / "nothing")
