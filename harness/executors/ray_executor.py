"""``--executor ray``: the cells of a sharded scenario as Ray tasks, one per shard of units.

On the first cell of a scenario the executor plans every selected cell: per group (cells sharing units and
part 1), shards of ``shard_size`` consecutive units; a (cell, shard) whose partial is in the shard store is
not recomputed; each shard with missing cells becomes ONE task that runs part 1 once per unit and then all
those cells (ShardedScenario.run_shard). Tasks ask Ray for ``num_cpus`` (and a GPU for ``cuda`` cells, so Ray
places them on GPU nodes); a task lost with its node is retried elsewhere by Ray (``max_retries``, system
failures only: an exception in the scenario's code is reported, not retried). The driver writes each partial
to the store as it arrives, then ``outcome(cell)`` loads the cell's partials in shard order and the scenario
reduces them here, in pytest.

Worker processes keep one scenario instance per (class, matrix, context), so models, sessions and anchors
are loaded once per worker, not once per shard. The scenario's module must be importable on every node (the
suite installed there; a scenario outside the package on PYTHONPATH before ``ray start``).
"""
from __future__ import annotations

import json
import os
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from harness.executors.base import EXECUTORS, Executor, ExecutorSettings, ShardFailed
from harness.executors.progress import Progress
from harness.executors.sharding import Shard, plan_shards
from harness.scenarios.sharding import ShardedScenario
from harness.executors.store import ShardStore
from harness.scenarios.base import Cell, CellOutcome, Scenario

_INSTANCES: dict[str, Any] = {}  # worker side: scenario instances reused across the tasks of one process


def run_shard_task(scenario_cls: type, matrix: Any, context: Any, cells: list[Cell], units: tuple) -> dict[str, Any]:
    """Body of a shard task (runs on a Ray worker): the partials of ``cells`` on ``units`` and who computed them."""
    import ray

    key = repr((scenario_cls.__module__, scenario_cls.__qualname__, json.dumps(matrix, sort_keys=True, default=str),
                repr(context)))
    if key not in _INSTANCES:
        _INSTANCES[key] = scenario_cls(matrix, context)
    start = time.perf_counter()
    partials = _INSTANCES[key].run_shard(cells, units)
    return {"partials": partials, "seconds": time.perf_counter() - start, "units": len(units),
            "node": ray.get_runtime_context().get_node_id(), "host": socket.gethostname()}


@dataclass
class _Job:
    shard: Shard
    scenario: Scenario
    cells: list[Cell]


@dataclass
class _NodeStats:
    host: str = ""
    shards: int = 0
    units: int = 0
    cell_units: int = 0
    busy_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        busy = self.busy_s or float("nan")
        return {"host": self.host, "shards": self.shards, "units": self.units, "busy_s": round(self.busy_s, 3),
                "units_per_s": round(self.units / busy, 3), "cell_units_per_s": round(self.cell_units / busy, 3)}


@dataclass
class _Group:
    shards: list[Shard]
    cells: dict[str, Cell] = field(default_factory=dict)


@EXECUTORS.register("ray")
class RayExecutor(Executor):
    name = "ray"

    def __init__(self, address: str | None = None, shard_size: int = 5, store: ShardStore | None = None,
                 progress: Progress | None = None, num_cpus: float = 1.0, max_retries: int = 3) -> None:
        super().__init__(progress)
        self.address, self.shard_size, self.num_cpus, self.max_retries = address, shard_size, num_cpus, max_retries
        self.store = store if store is not None else ShardStore()
        self.on_shard_done: list[Callable[[Shard, dict[str, Any]], None]] = []  # observers (tests, progress)
        self._owns_ray = False
        self._groups: dict[tuple[str, str], _Group] = {}
        self._pending: dict[Any, _Job] = {}
        self._failures: dict[str, str] = {}
        self._outcomes: dict[str, CellOutcome] = {}
        self._nodes: dict[str, _NodeStats] = defaultdict(_NodeStats)
        self._remote: Any = None
        self._started = time.monotonic()

    @classmethod
    def from_settings(cls, settings: ExecutorSettings, progress: Progress | None = None) -> "RayExecutor":
        return cls(address=settings.address, shard_size=settings.shard_size,
                   store=ShardStore(settings.store_root, rerun=settings.rerun), progress=progress)

    # --- connection ------------------------------------------------------------------------------------
    def _ray(self) -> Any:
        import ray

        if not ray.is_initialized():
            # no address: a local instance on this host, as ray.init() does; else join the given cluster
            # the run's execution configuration travels to every node, so their sessions run on the same platform
            from harness.runtime import OPTIMIZATION_VARIABLE, THREADS_VARIABLE

            env_vars = {k: os.environ[k] for k in (THREADS_VARIABLE, OPTIMIZATION_VARIABLE) if k in os.environ}
            ray.init(address=self.address, include_dashboard=False, logging_level="WARNING",
                     runtime_env={"env_vars": env_vars} if env_vars else None)
            self._owns_ray = True
        if self._remote is None:
            self._remote = ray.remote(run_shard_task)
            # nodes that can take a shard (a head started with no CPU, as in tests, does not count)
            self.progress.nodes = sum(1 for node in ray.nodes() if node.get("Alive") and
                                      any(node.get("Resources", {}).get(r, 0) for r in ("CPU", "GPU")))
        return ray

    # --- planning ----------------------------------------------------------------------------------------
    def plan(self, scenario: Scenario, cells: Sequence[Cell]) -> None:
        if isinstance(scenario, ShardedScenario):
            self._ensure(scenario, [cell for cell in cells if scenario.is_sharded(cell)])

    def _ensure(self, scenario: Scenario, cells: Sequence[Cell]) -> None:
        """Submit a task per shard for the cells not yet planned whose partials are not stored."""
        by_group: dict[str, list[Cell]] = defaultdict(list)
        for cell in cells:
            group = self._groups.get((scenario.name, scenario.shard_group(cell)))
            if group is None or cell.id not in group.cells:
                by_group[scenario.shard_group(cell)].append(cell)
        for name, new_cells in by_group.items():
            group = self._groups.get((scenario.name, name))
            if group is None:
                units = scenario.shard_units(new_cells)
                group = self._groups[(scenario.name, name)] = _Group(
                    plan_shards(scenario.name, name, units, self.shard_size))
            group.cells.update((cell.id, cell) for cell in new_cells)
            for shard in group.shards:
                missing = [cell for cell in new_cells if not self.store.has(self._key(scenario, cell, shard)[0])]
                self.progress.shards_total += 1
                if missing:
                    self._submit(_Job(shard, scenario, missing))
                else:
                    self.progress.shards_stored += 1
        self.progress.tick()

    def _key(self, scenario: Scenario, cell: Cell, shard: Shard) -> tuple[str, dict[str, Any]]:
        identity = ShardStore.identity(scenario.name, scenario.cell_fingerprint(cell), shard.units,
                                       scenario.shard_code_modules())
        return ShardStore.key(identity), identity

    def _submit(self, job: _Job) -> None:
        ray = self._ray()
        resources = {"num_cpus": self.num_cpus, **job.scenario.shard_resources(job.cells)}
        if resources.get("num_gpus", 0) > ray.cluster_resources().get("GPU", 0):
            # Ray would wait forever for a GPU node; say so instead (cuda cells on a CPU-only cluster)
            self._fail(job, RuntimeError(f"needs {resources['num_gpus']} GPU(s) per task but the Ray cluster has "
                                         f"{ray.cluster_resources().get('GPU', 0)}; add GPU nodes or run --device cpu"))
            return
        task = self._remote.options(max_retries=self.max_retries, retry_exceptions=False, **resources)
        ref = task.remote(type(job.scenario), job.scenario.matrix, job.scenario.context, job.cells, job.shard.units)
        self._pending[ref] = job

    # --- completion ------------------------------------------------------------------------------------
    def _drain(self, done: Callable[[], bool]) -> None:
        ray = self._ray()
        while not done():
            ready, _ = ray.wait(list(self._pending), num_returns=1, timeout=1.0)
            for ref in ready:
                self._collect(ref)
            self.progress.tick()

    def _collect(self, ref: Any) -> None:
        import ray

        job = self._pending.pop(ref)
        try:
            result = ray.get(ref)
            missing = [cell.id for cell in job.cells if cell.id not in result["partials"]]
            if missing:
                raise ShardFailed(f"run_shard of {job.shard.label} returned no partial for {', '.join(missing)}")
        except ray.exceptions.RayTaskError as exc:
            if len(job.cells) > 1:
                # an exception in the scenario's code: isolate the failing cell(s) by re-running the shard once
                # per cell, so only they fail, as they would under the local executor
                self.progress.shards_total += len(job.cells) - 1
                for cell in job.cells:
                    self._submit(_Job(job.shard, job.scenario, [cell]))
                return
            self._fail(job, exc)
            return
        except (ray.exceptions.RayError, ShardFailed) as exc:  # retries exhausted (lost nodes), bad partials
            self._fail(job, exc)
            return
        for cell in job.cells:
            key, identity = self._key(job.scenario, cell, job.shard)
            self.store.put(key, identity, result["partials"][cell.id])
        stats = self._nodes[result["node"]]
        stats.host = result["host"]
        stats.shards, stats.units = stats.shards + 1, stats.units + result["units"]
        stats.cell_units += result["units"] * len(job.cells)
        stats.busy_s += result["seconds"]
        self.progress.shards_done += 1
        for observer in self.on_shard_done:
            observer(job.shard, result)

    def _fail(self, job: _Job, exc: BaseException) -> None:
        self.progress.shards_failed += 1
        for cell in job.cells:
            self._failures[cell.id] = f"shard {job.shard.label} (units {list(job.shard.units)}): {exc}"

    def _pending_for(self, cell: Cell) -> bool:
        return any(cell in job.cells for job in self._pending.values())

    # --- outcomes --------------------------------------------------------------------------------------
    def outcome(self, scenario: Scenario, cell: Cell) -> CellOutcome:
        if not isinstance(scenario, ShardedScenario) or not scenario.is_sharded(cell):
            return scenario.run_cell(cell)
        if cell.id not in self._outcomes:
            partials = self._partials(scenario, cell)
            self._outcomes[cell.id] = scenario.reduce(cell, partials, lambda other: self.outcome(scenario, other))
        return self._outcomes[cell.id]

    def _partials(self, scenario: Scenario, cell: Cell) -> list[Any]:
        for attempt in range(2):
            self._ensure(scenario, [cell])
            self._drain(lambda: not self._pending_for(cell))
            if cell.id in self._failures:
                raise ShardFailed(f"{cell.id}: {self._failures[cell.id]}")
            group = self._groups[(scenario.name, scenario.shard_group(cell))]
            partials, lost = [], []
            for shard in group.shards:
                key, identity = self._key(scenario, cell, shard)
                try:
                    partials.append(self.store.load(key, identity))
                except KeyError:
                    self.store.discard(key)  # damaged or vanished: recompute it
                    lost.append(shard)
            if not lost:
                return partials
            # an entry vanished or is damaged: plan the cell again, its missing shards are recomputed once
            del group.cells[cell.id]
        raise ShardFailed(f"{cell.id}: shard entries {', '.join(s.label for s in lost)} unreadable after recomputing")

    # --- end ---------------------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        return {"executor": self.name, "address": self.address, "shard_size": self.shard_size,
                "store": str(self.store.root), "rerun": self.store.rerun,
                "shards_total": self.progress.shards_total, "shards_computed": self.progress.shards_done,
                "shards_from_store": self.progress.shards_stored, "shards_failed": self.progress.shards_failed,
                "wall_s": round(time.monotonic() - self._started, 3),
                "nodes": {node: stats.as_dict() for node, stats in sorted(self._nodes.items())}}

    def close(self) -> None:
        if self._pending:
            import ray

            for ref in list(self._pending):
                ray.cancel(ref)  # not force: the worker (and what it loaded) survives
            self._pending.clear()
        if self._owns_ray:
            import ray

            ray.shutdown()
            self._owns_ray = False
