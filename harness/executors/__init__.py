"""Executors: where the cells of a scenario's matrix run (``pytest --executor NAME``, NAME in :data:`EXECUTORS`).

* :mod:`harness.executors.base`: the Executor interface, its registry and ``local`` (the scenario's run_cell).
* :mod:`harness.executors.ray_executor`: ``ray``, sharded by unit over a Ray cluster.
* :mod:`harness.executors.sharding`: shards of the units of a scenario that implements
  :class:`harness.scenarios.sharding.ShardedScenario` (scenarios without it run locally under any executor).
* :mod:`harness.executors.store`: the content-addressed shard store (resume, free re-runs, ``--rerun``).
* :mod:`harness.executors.progress`: the progress line.

The executor's life in a pytest session (options, progress, executor.json) is the plugin's
(harness.pytest_plugin.execution). Ray is imported only when the ``ray`` executor runs.
"""
from __future__ import annotations

from harness.executors import ray_executor as _ray_executor  # noqa: F401  (registers "ray")
from harness.executors.base import (DEFAULT_SHARD_SIZE, EXECUTORS, Executor, ExecutorSettings, LocalExecutor,
                                    ShardFailed)
from harness.executors.progress import Progress
from harness.executors.sharding import Shard, plan_shards
from harness.executors.store import ShardStore


def make_executor(name: str, settings: ExecutorSettings = ExecutorSettings(),
                  progress: Progress | None = None) -> Executor:
    """A registered executor by name with the run's settings; an unknown name lists the known ones."""
    return EXECUTORS.get(name).from_settings(settings, progress)


__all__ = ["DEFAULT_SHARD_SIZE", "EXECUTORS", "Executor", "ExecutorSettings", "LocalExecutor", "Progress", "Shard",
           "ShardFailed", "ShardStore", "make_executor", "plan_shards"]
