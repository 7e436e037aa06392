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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

from harness.executors.progress import Progress
from harness.registry import Registry
from harness.scenarios.base import Cell, CellOutcome, Scenario

DEFAULT_SHARD_SIZE = 5  # 50 embedded images -> 10 shards per group: balanced on 1, 2, 5 or 10 workers


@dataclass(frozen=True)
class ExecutorSettings:
    """What a run says about execution (the pytest options); each executor reads what applies to it."""

    address: str | None = None
    shard_size: int = DEFAULT_SHARD_SIZE
    store_root: Path | None = None
    rerun: bool = False




class ShardFailed(RuntimeError):
    """A shard task of a cell failed (an exception in the scenario's code, or retries exhausted)."""


class Executor(ABC):
    name: ClassVar[str] = ""

    def __init__(self, progress: Progress | None = None) -> None:
        self.progress = progress if progress is not None else Progress(interval=0)

    @classmethod
    def from_settings(cls, settings: ExecutorSettings, progress: Progress | None = None) -> "Executor":
        """The executor for a run's settings (an executor without settings of its own ignores them)."""
        return cls(progress)

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


EXECUTORS: Registry[type[Executor]] = Registry("executor")


@EXECUTORS.register("local")
class LocalExecutor(Executor):
    """The scenario's own ``run_cell``, unchanged, in the calling process."""

    name = "local"

    def outcome(self, scenario: Scenario, cell: Cell) -> CellOutcome:
        return scenario.run_cell(cell)
