"""Shards: consecutive units of one group of a :class:`~harness.scenarios.sharding.ShardedScenario`, planned
from the units and the shard size alone, so that every executor and every cluster cuts the same shards."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from harness.scenarios.sharding import Unit


@dataclass(frozen=True)
class Shard:
    """Consecutive units of one group; ``index`` counts shards within the group."""

    scenario: str
    group: str
    index: int
    units: tuple[Unit, ...]

    @property
    def label(self) -> str:
        return f"{self.scenario}/{self.group}#{self.index}"


def plan_shards(scenario: str, group: str, units: Sequence[Unit], size: int) -> list[Shard]:
    """Split ``units`` into consecutive shards of ``size`` (the last one shorter). The plan depends on the units
    and the size only, never on the cluster, so a resumed run on another cluster finds the same shards."""
    if size < 1:
        raise ValueError(f"shard size must be >= 1 unit, got {size}")
    units = list(units)
    if len(set(units)) != len(units):
        raise ValueError(f"scenario {scenario!r} group {group!r} lists a unit twice; units must be unique")
    return [Shard(scenario, group, k, tuple(units[start:start + size]))
            for k, start in enumerate(range(0, len(units), size))]
