"""The sfu video scenario on the Ray cluster, sharded by frame: a 12-frame part of a generated sequence (shards
of 5 frames, the last one partial) gives the local run's sizes, metrics, NMSE-frame fractions and per-frame
prediction files, byte for byte; a second plan finds every shard in the store (resumable)."""
from __future__ import annotations

import pytest
from planned import planned_outcomes, untimed

from harness.executors import LocalExecutor, ShardStore
from harness.executors.ray_executor import RayExecutor
from harness.matrix import scenario_matrix
from harness.scenarios import SCENARIOS
from harness.scenarios.base import RunContext

FRAMES = (6, 18)  # frames 6..17: --frames 6:18
CODERS = ["raw", "nncodec:qp=-10"]


def small_matrix() -> dict:
    matrix = scenario_matrix(SCENARIOS.get("sfu"))
    plaza = [d for d in matrix["detectors"] if d["dataset"] == "sfu-G-ShapesPlaza"]
    return {**matrix, "detectors": [{"detector": plaza[0]["detector"], "dataset": plaza[0]["dataset"]}],
            "splits": ["fpn"], "coders": CODERS}



def test_sfu_frames_ray_equals_local_and_resumes(ray_cluster, tmp_path):
    scenario = SCENARIOS.get("sfu")
    local = scenario(small_matrix(), RunContext(results_dir=tmp_path / "local", frames=FRAMES))
    cells = local.cells()
    assert [c["frames"] for c in cells] == ["6:18:1"] * 3  # the selection is an axis: never the whole sequence's
    expected = {cell.id: untimed(LocalExecutor().outcome(local, cell)) for cell in cells}
    assert all(columns["frame_count"] == 12 and "frames" not in columns for _, columns in expected.values())

    store = ShardStore(tmp_path / "store")
    remote = scenario(small_matrix(), RunContext(results_dir=tmp_path / "ray", frames=FRAMES))
    executor = RayExecutor(shard_size=5, store=store)
    got = planned_outcomes(executor, remote, cells, untimed)
    assert got == expected
    assert executor.summary()["shards_computed"] == 3  # frames 6-10, 11-15, 16-17
    names = sorted(p.name for p in (tmp_path / "local").rglob("*.txt"))
    assert names and "006.txt" in names and "017.txt" in names and "018.txt" not in names  # one file per frame
    for path in (tmp_path / "local").rglob("*"):
        if path.is_file():
            assert (tmp_path / "ray" / path.relative_to(tmp_path / "local")).read_bytes() == path.read_bytes(), path

    again = RayExecutor(shard_size=5, store=store)
    again.plan(scenario(small_matrix(), RunContext(results_dir=tmp_path / "ray2", frames=FRAMES)), cells)
    try:
        assert again.summary()["shards_computed"] == 0 and again.summary()["shards_from_store"] == 3
    finally:
        again.close()
