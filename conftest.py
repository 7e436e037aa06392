"""What this repository's own test tree shares: fixtures that several test folders use, and the markers of
test folders that belong to a scenario (``pytest -m ssd`` runs the embedded detector's and its training's
tests with the ssd cells; a test module marked with another scenario, such as RetinaNet's, keeps only that).

The options, markers, results writing and reporting are the installed plugin's (``harness.pytest_plugin``,
entry point ``pytest11``), so that they exist before pytest picks a rootdir and ``--data-dir /abs/path``
parses from any folder; a member's test tree gets them without this file.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from harness.assetstore.paths import asset_path

TESTS = Path(__file__).resolve().parent / "tests"
TRAIN_SSD_SMALL = Path(__file__).resolve().parent / "scripts" / "train_ssd_small.py"
FOLDER_MARKERS = {"detection": "ssd", "training": "ssd"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from harness.scenarios import SCENARIOS

    scenarios = set(SCENARIOS.names())
    for item in items:
        path = Path(str(item.fspath)).resolve()
        if TESTS in path.parents:
            marker = FOLDER_MARKERS.get(path.relative_to(TESTS).parts[0])
            # a test that names a scenario of its own (a RetinaNet detector test under tests/detection) keeps it
            own = {m.name for m in item.iter_markers()} & scenarios
            if marker and not own - {marker}:
                item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def train_script() -> ModuleType:
    """The committed SSD training script, imported as a module (it is a script, not a package module)."""
    spec = importlib.util.spec_from_file_location("train_ssd_small", TRAIN_SSD_SMALL)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("train_ssd_small", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shipped_onnx() -> Path:
    """The shipped embedded detector; a committed asset, so its absence fails the tests that need it."""
    path = asset_path("ssd_small")
    if not path.is_file():
        pytest.fail(f"{path} is missing from the checkout: it is committed (references/assets.yaml 'ssd_small'); "
                    "restore it with git, or rebuild it with scripts/train_ssd_small.py")
    return path
