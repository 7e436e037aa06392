"""What the executor tests share: a planned run's outcomes, and an outcome without its timings (which differ
between any two runs, while every other figure must agree byte for byte)."""
from __future__ import annotations

from typing import Any, Callable, Sequence


def planned_outcomes(executor: Any, scenario: Any, cells: Sequence[Any],
                     view: Callable[[Any], Any] = lambda outcome: outcome) -> dict[str, Any]:
    """Plan ``cells`` on ``executor``, then each cell's outcome (through ``view``) by id; the executor is
    closed afterwards, also when a cell fails."""
    executor.plan(scenario, cells)
    try:
        return {cell.id: view(executor.outcome(scenario, cell)) for cell in cells}
    finally:
        executor.close()


def untimed(outcome: Any) -> tuple[dict, dict]:
    """(metrics, columns) without the timing columns."""
    return outcome.metrics, {k: v for k, v in outcome.columns.items() if not k.endswith(("_time", "_time_per_frame"))}
