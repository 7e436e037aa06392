"""Fixtures of the split-sweep tests: toy models written to files, the built PoseNet."""
from __future__ import annotations

from pathlib import Path

import onnx
import pytest

from sweep_toy_models import no_layer_model, two_branch_convnet


@pytest.fixture(scope="session")
def toy_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("toy") / "toy.onnx"
    onnx.save(two_branch_convnet(), str(path))
    return path


@pytest.fixture(scope="session")
def no_layer_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("toy") / "nolayer.onnx"
    onnx.save(no_layer_model(), str(path))
    return path


@pytest.fixture(scope="session")
def posenet_file() -> Path:
    from harness.models.posenet import posenet_path

    return posenet_path(257)
