"""The executor interface: how the generic cell test (harness.pytest_plugin.cells) gets a cell's outcome.

The test asks ``executor.outcome(scenario, cell)``; everything after that (the scenario's checks, the
reference comparison, the results row) is the same whatever the executor, so test ids, results.csv,
references and the report do not depend on it.

* ``local`` (default): ``scenario.run_cell(cell)`` in the test's own process (and so across xdist workers).
* ``ray`` (harness.executors.ray_executor): shards the cells of a :class:`ShardedScenario` by unit over a Ray
  cluster and reduces the partials here; scenarios without the sharding interface run locally.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Sequence

from harness.executors.progress import Progress
from harness.registry import Registry
from harness.scenarios.base import Cell, CellOutcome, Scenario

EXECUTORS: Registry = Registry("executor")


class ShardFailed(RuntimeError):
    """A shard task of a cell failed (an exception in the scenario's code, or retries exhausted)."""


class Executor(ABC):
    name: ClassVar[str] = ""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress if progress is not None else Progress(interval=0)

    def plan(self, scenario: Scenario, cells: Sequence[Cell]) -> None:
        """The cells of ``scenario`` this run will ask for; an executor may start them all now."""

    @abstractmethod
    def outcome(self, scenario: Scenario, cell: Cell) -> CellOutcome:
        """The outcome of one cell (blocks until it is known)."""

    def summary(self) -> dict[str, Any]:
        """What the run should record about the execution (results-dir/executor.json)."""
        return {"executor": self.name}

    def close(self) -> None:
        """Release what the executor holds (cancel unfinished work, disconnect)."""


@EXECUTORS.register("local")
class LocalExecutor(Executor):
    """The scenario's own ``run_cell``, unchanged, in the calling process."""

    name = "local"

    def outcome(self, scenario: Scenario, cell: Cell) -> CellOutcome:
        return scenario.run_cell(cell)
