"""Scenario ``ssd_cloud`` (harness.scenarios.cloud_anchor): its cells, its KBPI and its coded-image view.

The cells themselves run in the generic cell test (``pytest -m ssd_cloud``), gated against the references and
checked there: a lossless image coder gives exactly the detections of the uncoded images.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.assetstore.paths import asset_path
from harness.coders import make_coder
from harness.matrix import load_matrix, scenario_matrix
from harness.scenarios import SCENARIOS
from harness.scenarios.base import RunContext
from harness.scenarios.cloud_anchor import SPLIT, coded_dataset, kbpi_stats

pytestmark = pytest.mark.ssd_cloud


def _scenario(matrix: dict | None = None, devices: tuple[str, ...] = ("cpu",)):
    cls = SCENARIOS.get("ssd_cloud")
    return cls(matrix or scenario_matrix(cls), RunContext(devices=devices, results_dir=Path("unused")))


def test_kbpi_is_kilobits_per_image_with_the_population_std():
    assert kbpi_stats([1000, 3000]) == (16.0, 8.0)  # 8 and 24 kbit: mean 16, std 8
    assert kbpi_stats([250, 250, 250]) == (2.0, 0.0)


def test_cells_cover_the_ssd_detectors_and_run_under_the_ssd_marker():
    scenario = _scenario(devices=("cpu", "cuda"))
    # a re-trained part 2 (base_model) has no cloud-only curve of its own: its base model's is the anchor; an
    # anchor-only entry (no split points) has no split curve for one to join
    detectors = [d for d in load_matrix("ssd")["detectors"]
                 if not (d["detector"] == "ssd_small_cat90" and asset_path("ssd_small_cat90").is_file())
                 and d.get("splits", [None])]
    assert len(detectors) < len(load_matrix("ssd")["detectors"]) - 1
    coders = [make_coder(spec).spec for spec in scenario.matrix["coders"]]
    cells = scenario.cells()
    assert len(cells) == len(detectors) * 2 * len(coders)
    assert {(c["model_name"], c["data_set_name"]) for c in cells} == {(d["detector"], d["dataset"]) for d in detectors}
    assert all(c.marks == ("ssd",) and c["split"] == SPLIT for c in cells)
    assert [c["coder_name"] for c in cells[:len(coders)]] == coders


def test_matrix_with_a_feature_coder_is_refused():
    matrix = {"detectors_from": "ssd", "coders": ["jpeg:quality=50", "hevc:qp=27"], "metric": "calc_map"}
    with pytest.raises(ValueError, match=r"hevc:qp=27,bits=8,lossless=0,tiling=channel are not image coders"):
        _scenario(matrix)


def test_coded_view_returns_each_image_through_the_coder_and_counts_its_bytes():
    from harness.detection.datasets import DATASETS

    dataset = DATASETS.get("shapes50_selected")(None)
    first = dataset.image_ids()[:3]
    lossless, lossy = coded_dataset(dataset, make_coder("png")), coded_dataset(dataset, make_coder("jpeg:quality=30"))
    jpeg = make_coder("jpeg:quality=30")
    for image_id in first:
        image = dataset.read_image(image_id)
        assert np.array_equal(lossless.read_image(image_id), image)
        assert np.array_equal(lossy.read_image(image_id), jpeg.decode(jpeg.encode({"image": image}))["image"])
        assert lossy.coded_bytes[image_id] == len(jpeg.encode({"image": image}))
    assert lossy.image_ids() == dataset.image_ids() and lossy.ground_truth is dataset.ground_truth
