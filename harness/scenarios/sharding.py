"""The optional scenario interface that lets an executor shard a matrix by unit (image, utterance, frame).

It lives with the scenarios because scenarios implement it; the executors (harness.executors) only call it.

A scenario whose cell metrics are reductions over independent units implements :class:`ShardedScenario`
beside :class:`harness.scenarios.base.Scenario`. One shard is a run of consecutive units of one *group* (the
cells that share their units and their part 1: for ssd one detector x dataset x device); one task runs part 1
once per unit of its shard and then every cell of the group on those features (the one-pass property of the
local pipeline, kept across the cluster), and returns one partial per cell. Partials are plain picklable data.
The reduction (mAP, WER, KBPI) and all gating stay in pytest on the driver.

Conventions a sharded scenario must keep, because results may not depend on the executor, the number of nodes
or the shard size:

* a partial holds per-unit records, and :meth:`ShardedScenario.reduce` concatenates the partials in shard order
  before any floating-point sum, so the same sums run in the same order whatever the sharding;
* ``reduce(cell, [run_shard([cell], all_units)[cell.id]], ...)`` gives the metrics of ``run_cell(cell)``
  (timings excepted); tests/executors check this for the registered scenarios;
* :meth:`cell_fingerprint` names everything a partial depends on besides the harness code and the unit ids
  (asset md5s, model md5, split, coder spec, device), because the shard store is addressed by it.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Callable, ClassVar, Hashable, Mapping, Sequence

from harness.scenarios.base import Cell, CellOutcome

Unit = Hashable  # an image id, an utterance id: JSON-serialisable (int or str)
OutcomeOf = Callable[[Cell], CellOutcome]


class ShardedScenario(ABC):
    """Mixin for a :class:`~harness.scenarios.base.Scenario` whose cells an executor may shard by unit."""

    #: modules/packages whose sources the partials depend on (their digest is part of every store key; the
    #: scenario's own module is always added). Default: the whole suite, the safe choice.
    shard_code: ClassVar[tuple[str, ...]] = ("harness",)

    def is_sharded(self, cell: Cell) -> bool:
        """Whether ``cell`` runs in shards (a scenario mixing shardable cells with cheap whole-model checks runs
        those locally); default: every cell."""
        return True

    def shard_group(self, cell: Cell) -> str:
        """Cells of one group share their units and one part-1 pass (default: the whole matrix is one group)."""
        return "all"

    @abstractmethod
    def shard_units(self, cells: Sequence[Cell]) -> list[Unit]:
        """The units of a group (all ``cells`` share it), in the order the local run reduces them."""

    @abstractmethod
    def cell_fingerprint(self, cell: Cell) -> Mapping[str, Any]:
        """JSON-able identity of what a partial of ``cell`` depends on: asset and model md5s, split, coder, device."""

    @abstractmethod
    def run_shard(self, cells: Sequence[Cell], units: Sequence[Unit]) -> dict[str, Any]:
        """Part 1 once per unit of the shard, then every cell on those features: ``{cell.id: partial}``."""

    @abstractmethod
    def reduce(self, cell: Cell, partials: Sequence[Any], outcome_of: OutcomeOf) -> CellOutcome:
        """The outcome of ``cell`` from its partials in shard order; ``outcome_of(other)`` gives the outcome of
        a cell it depends on (e.g. the anchor a split cell is compared with), computed once per run."""

    def shard_code_modules(self) -> tuple[str, ...]:
        return (*self.shard_code, type(self).__module__)

    def shard_resources(self, cells: Sequence[Cell]) -> dict[str, float]:
        """Ray resources of one shard task: a GPU when any cell runs on ``cuda`` (Ray places it on a GPU node)."""
        return {"num_gpus": 1.0} if any(cell.get("device") == "cuda" for cell in cells) else {}
