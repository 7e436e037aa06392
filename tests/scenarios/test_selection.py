"""Seed 000's selection (first N images on which the anchor is perfect) on the embedded detector and data."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness.detection.datasets import DATASETS
from harness.detection.detectors import DETECTORS, AssetMissing
from harness.detection.selection import image_scores, select_perfect

pytestmark = pytest.mark.ssd


@pytest.fixture(scope="module")
def embedded():
    try:
        return DETECTORS.get("ssd_small")(None), DATASETS.get("shapes50")(None)
    except AssetMissing as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def scores(embedded) -> list[tuple[int, float]]:
    return list(image_scores(*embedded))


def test_selection_is_the_first_perfect_images_in_order(embedded, scores):
    detector, dataset = embedded
    perfect = [image_id for image_id, value in scores if value == 100.0]
    if len(perfect) < 3:
        pytest.skip("the embedded detector is perfect on fewer than 3 images")
    assert select_perfect(detector, dataset, 3) == perfect[:3]
    assert all(0.0 <= value <= 100.0 for _, value in scores)


def test_selection_reproduces_the_recorded_shapes50_selected_indices(embedded, scores):
    """scripts/train_ssd_small.py recorded the selection over the held-out stream (stream index = image id - 1)
    when it was made by a separate implementation; the one selection must find the same images among the
    first 50, whose dataset is shapes50."""
    from harness.detection.detectors import embedded_meta

    recorded = embedded_meta()[1]["evaluation"]["selected"]["indices"]
    expected = [index + 1 for index in recorded if index < len(embedded[1].image_ids())]
    assert len(expected) >= 10
    assert [image_id for image_id, value in scores if value == 100.0] == expected


def test_selection_command_writes_list_or_fails_cleanly(embedded, tmp_path):
    detector, dataset = embedded
    root = dataset.image_paths[dataset.image_ids()[0]].parent.parent
    out = tmp_path / "selection.txt"
    base = [sys.executable, "-m", "harness", "select", "--detector", "ssd_small", "--instances",
            str(root / "instances.json"), "--images", str(root / "images"), "--out", str(out)]
    ok = subprocess.run(base + ["--count", "2"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    chosen = json.loads(ok.stdout)["selected"]
    assert [int(line) for line in out.read_text().splitlines() if not line.startswith("#")] == chosen
    too_many = subprocess.run(base + ["--count", "51", "--out", str(tmp_path / "never.txt")], capture_output=True, text=True)
    assert too_many.returncode == 1 and too_many.stderr.startswith("error:")
    assert not (tmp_path / "never.txt").exists()
