"""Every cell of every registered scenario: one test id per cell (parametrized by the suite's plugin)."""
from typing import Any

import pytest

from harness.pytest_plugin.cells import run_and_gate
from harness.scenarios.base import Cell


def test_cell(scenario_cell: Cell, request: pytest.FixtureRequest, check_reference: Any) -> None:
    """One cell of a scenario's matrix, gated against its reference."""
    run_and_gate(request, scenario_cell, check_reference)
