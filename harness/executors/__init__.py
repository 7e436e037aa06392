"""Executors: where the cells of a scenario's matrix run (``pytest --executor local|ray``).

* :mod:`harness.executors.base`: the Executor interface and ``local`` (the scenario's run_cell, unchanged).
* :mod:`harness.executors.ray_executor`: ``ray``, sharded by unit over a Ray cluster.
* :mod:`harness.executors.sharding`: the optional :class:`ShardedScenario` interface a scenario implements to
  be sharded (scenarios without it run locally under either executor).
* :mod:`harness.executors.store`: the content-addressed shard store (resume, free re-runs, ``--rerun``).
* :mod:`harness.executors.progress` / :mod:`harness.executors.plugin`: the progress line, the pytest options
  and the executor's life in a pytest session.

Ray is imported only when the ``ray`` executor is used.
"""
from __future__ import annotations

from pathlib import Path

from harness.executors.base import EXECUTORS, Executor, LocalExecutor, ShardFailed
from harness.executors.progress import Progress
from harness.executors.sharding import Shard, ShardedScenario, plan_shards
from harness.executors.store import ShardStore

DEFAULT_SHARD_SIZE = 5  # 50 embedded images -> 10 shards per group: balanced on 1, 2, 5 or 10 workers


def make_executor(name: str, *, address: str | None = None, shard_size: int = DEFAULT_SHARD_SIZE,
                  store_root: Path | None = None, rerun: bool = False, progress: Progress | None = None) -> Executor:
    """An executor by name (``local`` or ``ray``) with the run's settings."""
    if name == "local":
        return LocalExecutor(progress)
    if name == "ray":
        from harness.executors.ray_executor import RayExecutor

        return RayExecutor(address=address, shard_size=shard_size, store=ShardStore(store_root, rerun=rerun),
                           progress=progress)
    raise ValueError(f"unknown executor {name!r}; known: local, ray")


__all__ = ["EXECUTORS", "Executor", "LocalExecutor", "Progress", "Shard", "ShardFailed", "ShardStore",
           "ShardedScenario", "make_executor", "plan_shards", "DEFAULT_SHARD_SIZE"]
