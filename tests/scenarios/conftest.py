"""Fixtures of the split-inference detection scenarios: the scenario instance, and the built/user model of a
structure test module."""
from __future__ import annotations

from pathlib import Path

import pytest

from harness.models import model_file
from harness.split import SplitPlanner


@pytest.fixture(scope="session")
def ssd_scenario(pytestconfig: pytest.Config):
    """The ``ssd`` scenario instance the generic cells of this process use (its pipelines are shared)."""
    from harness.pytest_plugin.cells import scenario_instance

    return scenario_instance(pytestconfig, "ssd")


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
