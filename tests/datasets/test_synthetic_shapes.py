"""The synthetic shapes generator: deterministic, valid ground truth, faithful COCO export."""
from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools.coco import COCO

from harness.datasets.coco_folder import INSTANCES_JSON, read_image, write_coco
from harness.datasets.synthetic_shapes import (CATEGORIES, IMAGE_SIZE, MIN_VISIBLE, NUM_CLASSES, generate_batch,
                                               generate_sample)


def test_same_seed_and_index_give_identical_samples():
    for index in (0, 7, 123):
        a, b = generate_sample(3, index), generate_sample(3, index)
        assert a.image.tobytes() == b.image.tobytes()
        assert np.array_equal(a.boxes, b.boxes) and np.array_equal(a.labels, b.labels)


def test_streams_and_indices_differ():
    assert generate_sample(0, 0).image.tobytes() != generate_sample(1, 0).image.tobytes()
    assert generate_sample(0, 0).image.tobytes() != generate_sample(0, 1).image.tobytes()


def test_ground_truth_is_valid_on_many_images():
    samples = generate_batch(11, 0, 60)
    sides = []
    for s in samples:
        assert s.image.shape == (IMAGE_SIZE, IMAGE_SIZE, 3) and s.image.dtype == np.uint8
        assert 1 <= len(s.labels) and len(s.labels) == len(s.boxes) == len(s.visible)
        assert np.all((s.labels >= 1) & (s.labels <= NUM_CLASSES))
        assert np.all(s.boxes[:, :2] >= 0) and np.all(s.boxes[:, 2:] <= IMAGE_SIZE)
        assert np.all(s.boxes[:, 2:] > s.boxes[:, :2])
        assert np.all(s.visible >= MIN_VISIBLE)
        sides.extend(np.maximum(s.boxes[:, 2] - s.boxes[:, 0], s.boxes[:, 3] - s.boxes[:, 1]))
    assert min(sides) < 20 and max(sides) > 60  # small and large objects both occur
    assert {int(c) for s in samples for c in s.labels} == set(range(1, NUM_CLASSES + 1))


def test_negative_index_is_rejected():
    with pytest.raises(ValueError, match="non-negative"):
        generate_sample(0, -1)


def test_coco_export_round_trips(tmp_path):
    samples = generate_batch(5, 0, 4)
    root = write_coco(samples, tmp_path / "set")
    coco = COCO(str(root / INSTANCES_JSON))
    assert sorted(coco.getImgIds()) == [1, 2, 3, 4]
    assert [c["name"] for c in coco.loadCats(coco.getCatIds())] == [c["name"] for c in CATEGORIES]
    for image_id, sample in enumerate(samples, start=1):
        info = coco.loadImgs(image_id)[0]
        assert np.array_equal(read_image(root / "images" / info["file_name"]), sample.image)
        anns = coco.loadAnns(coco.getAnnIds(imgIds=image_id))
        xywh = np.array([a["bbox"] for a in anns])
        assert np.allclose(xywh[:, :2], sample.boxes[:, :2]) and np.allclose(xywh[:, :2] + xywh[:, 2:], sample.boxes[:, 2:])
        assert [a["category_id"] for a in anns] == sample.labels.tolist()


def test_coco_export_refuses_to_overwrite(tmp_path):
    (tmp_path / "set").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        write_coco(generate_batch(5, 0, 1), tmp_path / "set")


def test_eval_set_is_fifty_held_out_images():
    from harness.datasets.coco_folder import eval_set
    from harness.datasets.synthetic_shapes import EVAL_SEED, TRAIN_SEED

    assert EVAL_SEED != TRAIN_SEED
    data = json.loads((eval_set() / INSTANCES_JSON).read_text())
    assert len(data["images"]) == 50 and len(data["annotations"]) >= 50
