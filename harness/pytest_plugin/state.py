"""What the plugin's modules share: markers, the run's results rows, the devices asked for, the xdist worker test.

Every other module of the plugin imports this one and it imports none of them, so the plugin has no circle.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.references import REFERENCES_PATH

ROWS_KEY = pytest.StashKey[list]()
BREACH_ATTRIBUTE = "harness_reference_breach"
NO_REFERENCE_ATTRIBUTE = "harness_no_reference"
RUN_FAILURES_KEY = pytest.StashKey[list]()  # the failing checks over the whole run (Scenario.check_run)

STATIC_MARKERS = {
    "coders": "intermediate-data coder conformance",
    "cuda": "needs a working CUDAExecutionProvider; skipped with a reason otherwise",
    "slow": "long-running test or cell, kept out of the default run (--run-slow or -m slow runs it)",
    "benchmark": "pytest-benchmark speed measurement, excluded from the default run (use -m benchmark)",
}
AREA_MARKERS = ("coders",)  # markers that name an area of the suite in the end-of-run summary


def scenario_markers() -> dict[str, str]:
    """One marker per registered scenario, named like the scenario."""
    from harness.scenarios import SCENARIOS

    return {name: SCENARIOS.get(name).description or f"scenario {name}" for name in SCENARIOS.names()}


def is_xdist_worker(config: pytest.Config) -> bool:
    """True in a pytest-xdist worker: the controller alone writes results and prints summaries."""
    return hasattr(config, "workerinput")


def devices_for(config: pytest.Config) -> list[str]:
    choice = config.getoption("--device")
    return ["cpu", "cuda"] if choice == "all" else [choice]


def add_row(config: pytest.Config, nodeid: str, row: dict[str, Any]) -> None:
    # rows of checks that involve no coder (structure, anchors) still name one, so every row is a cell
    config.stash[ROWS_KEY].append({"test_id": nodeid, "coder_name": "none", **row})


def references_path(config: pytest.Config) -> Path:
    return Path(config.getoption("--references") or REFERENCES_PATH)
