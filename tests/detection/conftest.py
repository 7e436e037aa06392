"""Shared helpers of the embedded-detector tests: every test here carries the ``ssd`` marker."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ASSETS = REPO / "harness" / "assets"
ONNX_PATH = ASSETS / "ssd_small.onnx"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.ssd)


@pytest.fixture(scope="session")
def train_script():
    """The committed training script, imported as a module (it is a script, not a package module)."""
    path = REPO / "scripts" / "train_ssd_small.py"
    spec = importlib.util.spec_from_file_location("train_ssd_small", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_ssd_small", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shipped_onnx() -> Path:
    if not ONNX_PATH.exists():
        pytest.skip(f"{ONNX_PATH} missing: run scripts/train_ssd_small.py to train and export it")
    return ONNX_PATH
