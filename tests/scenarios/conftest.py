"""Fixtures of the split-inference detection scenarios: one pipeline per (detector, dataset, device) and worker."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.detection.datasets import DETECTION_DATASETS
from harness.detection.detectors import DETECTORS, AssetMissing
from harness.detection.pipeline import SplitDetectionPipeline
from harness.models import model_file
from harness.split import SplitPlanner

_PIPELINES: dict[tuple, SplitDetectionPipeline] = {}


@pytest.fixture(scope="session")
def detection_pipeline(data_dir: Path | None):
    """``get(detector, dataset, splits, device)``: a cached pipeline, or a skip that names the missing asset."""

    def get(detector_name: str, dataset_name: str, splits: list[int], device: str) -> SplitDetectionPipeline:
        key = (detector_name, dataset_name, tuple(splits), device)
        if key not in _PIPELINES:
            try:
                detector = DETECTORS.get(detector_name)(data_dir)
                dataset = DETECTION_DATASETS.get(dataset_name)(data_dir)
            except AssetMissing as exc:
                pytest.skip(str(exc))
            _PIPELINES[key] = SplitDetectionPipeline(detector, dataset, splits, device)
        return _PIPELINES[key]

    return get


@pytest.fixture(scope="module", params=["built", "user"])
def source(request: pytest.FixtureRequest, data_dir: Path | None) -> tuple[str, Path]:
    """(origin, ONNX path) of the test module's ``MODEL_NAME``: the built architecture, then the user's file."""
    try:
        return request.param, model_file(request.module.MODEL_NAME, request.param, data_dir)
    except FileNotFoundError as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def planner(source: tuple[str, Path]) -> SplitPlanner:
    return SplitPlanner(source[1])
