"""The real ssd scenario on the Ray cluster: a small matrix (embedded detector, two splits, three coders) on its
first images gives the local run's sizes, metrics, NMSEs and predictions, byte for byte, shards cut mid-set."""
from __future__ import annotations

import dataclasses

import pytest
from planned import planned_outcomes, untimed

from harness.executors import LocalExecutor, ShardStore
from harness.executors.ray_executor import RayExecutor
from harness.matrix import scenario_matrix
from harness.scenarios import SCENARIOS
from harness.scenarios.base import RunContext

# not marked slow: the only end-to-end test of this executor path, so it stays in the default run

CODERS = ["raw", "nncodec:qp=8", "qlayer:bits=4"]  # lossless, coarse NNCodec (fast), coarse Q-layer
IMAGES = 12  # the first images of the evaluation set: 2 full and 1 partial shard of 5


class FewImagesSsd(SCENARIOS.get("ssd")):
    """The ssd scenario on the first IMAGES images (both executors see the same restricted pipeline)."""

    def pipeline(self, detector_name, dataset_name, device):
        pipeline = super().pipeline(detector_name, dataset_name, device)
        if len(pipeline.dataset.image_ids()) > IMAGES:
            from harness.detection.pipeline import SplitDetectionPipeline

            subset = dataclasses.replace(pipeline.dataset, _fingerprint=None, _sizes=None,
                                         image_paths=dict(list(pipeline.dataset.image_paths.items())[:IMAGES]))
            pipeline = SplitDetectionPipeline(pipeline.detector, subset, pipeline.splits, device)
            self._pipelines[(detector_name, dataset_name, device)] = pipeline
        return pipeline


def small_matrix() -> dict:
    matrix = scenario_matrix(SCENARIOS.get("ssd"))
    first = {key: value for key, value in matrix["detectors"][0].items() if key != "coders_at"}
    return {**matrix, "detectors": [first], "splits": [30, 90], "coders": CODERS}



def test_ssd_subset_ray_equals_local(ray_cluster, tmp_path):
    cls = FewImagesSsd
    local = cls(small_matrix(), RunContext(results_dir=tmp_path / "local"))
    cells = local.cells()
    reason = local.missing_reason(cells[0])
    if reason:
        pytest.skip(reason)
    assert len(cells) == 1 + 2 * len(CODERS)
    expected = {cell.id: untimed(LocalExecutor().outcome(local, cell)) for cell in cells}

    remote = cls(small_matrix(), RunContext(results_dir=tmp_path / "ray"))
    executor = RayExecutor(shard_size=5, store=ShardStore(tmp_path / "store"))
    got = planned_outcomes(executor, remote, cells, untimed)
    assert got == expected
    assert executor.summary()["shards_computed"] == 3  # one task per shard for all 7 cells: part 1 once per image
    lossy = [cell_id for cell_id, (metrics, columns) in got.items() if columns.get("feature_nmse", 0) > 0]
    assert lossy  # the comparison covers lossy cells, not only bit-exact ones
    predictions = sorted(p.relative_to(tmp_path / "local") for p in (tmp_path / "local").rglob("*") if p.is_file())
    assert predictions and predictions == sorted(p.relative_to(tmp_path / "ray")
                                                 for p in (tmp_path / "ray").rglob("*") if p.is_file())
    for path in predictions:
        assert (tmp_path / "ray" / path).read_bytes() == (tmp_path / "local" / path).read_bytes(), path
