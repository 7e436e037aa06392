"""The Ray executor on a local multi-node cluster, with the toy scenario: ray == local whatever the shard size,
one part-1 pass per unit, resume after an interruption, a lost node, failing cells isolated."""
from __future__ import annotations

import pytest
from planned import planned_outcomes
from toy_scenario import ANCHOR, ToyScenario, markers, toy_matrix

from harness.executors import LocalExecutor, Progress, ShardFailed, ShardStore
from harness.executors.ray_executor import RayExecutor

# starts a Ray cluster (~20 s on the shared CI host): not marked slow, it is the only test of the Ray path


def run_all(executor, scenario):
    return planned_outcomes(executor, scenario, scenario.cells())


def as_plain(outcomes):
    return {cell: (o.metrics, o.columns) for cell, o in outcomes.items()}


@pytest.fixture(scope="module")
def local_outcomes():
    scenario = ToyScenario(toy_matrix())
    return as_plain({cell.id: LocalExecutor().outcome(scenario, cell) for cell in scenario.cells()})


def test_the_toy_sum_is_order_sensitive():
    # so the equality below could fail if partials were reduced out of unit order or re-summed per shard
    scenario = ToyScenario(toy_matrix())
    cell = scenario.cells()[1]
    values = [r["value"] for r in scenario.run_shard([cell], list(range(12)))[cell.id]]
    forward = reversed_ = 0.0
    for v in values:
        forward += v
    for v in reversed(values):
        reversed_ += v
    per_shard = sum(sum(values[k:k + 5]) for k in range(0, 12, 5))
    assert forward != reversed_ or forward != per_shard


@pytest.mark.parametrize("shard_size", [1, 5, 12])
def test_ray_equals_local_whatever_the_shard_size(ray_cluster, tmp_path, local_outcomes, shard_size):
    log = tmp_path / "log"
    log.mkdir()
    scenario = ToyScenario(toy_matrix(log_dir=str(log)))
    executor = RayExecutor(shard_size=shard_size, store=ShardStore(tmp_path / "store"))
    assert as_plain(run_all(executor, scenario)) == local_outcomes
    calls = markers(log)
    # one task per shard, each computing every cell of the matrix: part 1 ran once per unit
    assert sorted(u for call in calls for u in call["units"]) == list(range(12))
    assert all(len(call["cells"]) == len(scenario.cells()) for call in calls)
    assert len(calls) == -(-12 // shard_size)
    summary = executor.summary()
    assert summary["shards_computed"] == len(calls) and summary["shards_from_store"] == 0
    assert sum(node["units"] for node in summary["nodes"].values()) == 12


def test_interrupted_run_resumes_without_recomputing(ray_cluster, tmp_path, local_outcomes):
    store_dir = tmp_path / "store"
    logs = [tmp_path / f"log{k}" for k in range(3)]
    for log in logs:
        log.mkdir()
    first = RayExecutor(shard_size=2, store=ShardStore(store_dir))

    stored: list[int] = []

    def interrupt(shard, result):
        stored.extend(shard.units)
        if first.progress.shards_done == 2:
            raise KeyboardInterrupt  # the run is stopped (Ctrl-C, a killed job) after two shards

    first.on_shard_done.append(interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_all(first, ToyScenario(toy_matrix(log_dir=str(logs[0]), delay=0.05)))

    second = RayExecutor(shard_size=2, store=ShardStore(store_dir))
    assert as_plain(run_all(second, ToyScenario(toy_matrix(log_dir=str(logs[1]))))) == local_outcomes
    assert second.progress.shards_stored == 2 and second.progress.shards_done == 4
    recomputed = sorted(u for call in markers(logs[1]) for u in call["units"])
    assert len(stored) == 4 and recomputed == sorted(set(range(12)) - set(stored))

    third = RayExecutor(shard_size=2, store=ShardStore(store_dir))  # nothing changed: the re-run is free
    assert as_plain(run_all(third, ToyScenario(toy_matrix(log_dir=str(logs[2]))))) == local_outcomes
    assert third.progress.shards_done == 0 and markers(logs[2]) == []

    forced = RayExecutor(shard_size=2, store=ShardStore(store_dir, rerun=True))  # --rerun
    assert as_plain(run_all(forced, ToyScenario(toy_matrix()))) == local_outcomes
    assert forced.progress.shards_done == 6 and forced.progress.shards_stored == 0


def test_lost_node_costs_only_its_shards(ray_cluster, tmp_path, local_outcomes):
    extra = ray_cluster.add_node(num_cpus=1)
    ray_cluster.wait_for_nodes()
    log = tmp_path / "log"
    log.mkdir()
    executor = RayExecutor(shard_size=2, store=ShardStore(tmp_path / "store"))
    stored_before_loss: list[tuple] = []

    def remove_a_busy_node(shard, result):
        stored_before_loss.append(shard.units)
        if len(stored_before_loss) == 1:  # another node is in the middle of a shard: remove it
            victim = next(node for node in [extra, *ray_cluster.worker_nodes] if node.unique_id != result["node"])
            ray_cluster.remove_node(victim)

    executor.on_shard_done.append(remove_a_busy_node)
    outcomes = run_all(executor, ToyScenario(toy_matrix(log_dir=str(log), delay=0.3)))
    assert as_plain(outcomes) == local_outcomes
    assert executor.progress.shards_failed == 0
    computed = [tuple(call["units"]) for call in markers(log)]
    # the shard finished before the loss is not computed again; every shard was computed at least once
    assert computed.count(stored_before_loss[0]) == 1
    assert {u for units in computed for u in units} == set(range(12))


def test_a_failing_cell_fails_alone(ray_cluster, tmp_path, local_outcomes):
    scenario = ToyScenario(toy_matrix(fail_coder="b"))
    executor = RayExecutor(shard_size=6, store=ShardStore(tmp_path / "store"))
    executor.plan(scenario, scenario.cells())
    try:
        for cell in scenario.cells():
            if cell["coder_name"] == "b":
                with pytest.raises(ShardFailed, match="coder b fails on unit"):
                    executor.outcome(scenario, cell)
            else:
                assert as_plain({cell.id: executor.outcome(scenario, cell)}) == {cell.id: local_outcomes[cell.id]}
    finally:
        executor.close()


def test_the_anchor_is_computed_when_only_split_cells_are_selected(ray_cluster, tmp_path, local_outcomes):
    scenario = ToyScenario(toy_matrix())
    executor = RayExecutor(shard_size=4, store=ShardStore(tmp_path / "store"))
    selected = [cell for cell in scenario.cells() if cell["coder_name"] != ANCHOR][:2]  # as with -k
    got = planned_outcomes(executor, scenario, selected)
    assert as_plain(got) == {cell.id: local_outcomes[cell.id] for cell in selected}


def test_progress_line():
    now = [0.0]
    lines = []
    progress = Progress(cells_total=10, interval=5, emit=lines.append, clock=lambda: now[0])
    progress.shards_total, progress.shards_stored, progress.nodes = 8, 2, 2
    progress.tick()
    now[0] = 30.0
    progress.shards_done = 3  # 3 of the 6 shards to compute in 30 s: 30 s left
    progress.tick()
    progress.tick()  # within the interval: no new line
    assert lines == ["progress: cells 0/10, shards 2/8 (2 from store, 2 node(s)), elapsed 0:00, ETA -",
                     "progress: cells 0/10, shards 5/8 (2 from store, 2 node(s)), elapsed 0:30, ETA 0:30"]
    progress.shards_done, progress.cells_done = 6, 4  # shards done: ETA from the cell rate (30 s per 4 cells)
    assert progress.line().endswith("ETA 0:45")


def test_a_damaged_entry_is_recomputed(ray_cluster, tmp_path, local_outcomes):
    store = ShardStore(tmp_path / "store")
    run_all(RayExecutor(shard_size=6, store=store), ToyScenario(toy_matrix()))
    victim = sorted(store.root.rglob("*.pkl"))[0]
    victim.write_bytes(victim.read_bytes()[:20])  # e.g. a shared folder that lost part of a file
    again = RayExecutor(shard_size=6, store=ShardStore(tmp_path / "store"))
    assert as_plain(run_all(again, ToyScenario(toy_matrix()))) == local_outcomes
    assert again.progress.shards_done == 1  # that one (cell, shard) entry, nothing else


class GpuToy(ToyScenario):
    def shard_resources(self, cells):
        return {"num_gpus": 1.0}


def test_gpu_cells_on_a_cpu_cluster_fail_with_a_reason(ray_cluster, tmp_path):
    scenario = GpuToy(toy_matrix())
    executor = RayExecutor(shard_size=6, store=ShardStore(tmp_path / "store"))
    try:
        with pytest.raises(ShardFailed, match="GPU.*add GPU nodes or run --device cpu"):
            executor.outcome(scenario, scenario.cells()[0])
    finally:
        executor.close()
