"""A cell as a per-image map and a reduce: any sharding of the images gives the unsharded CellResult.

Independent checks: per-image coded sizes re-measured with the coder itself, KBPI mean and standard deviation
against numpy, NMSE against numpy over all tensors at once.
"""
from __future__ import annotations

import dataclasses
import pickle
import random

import numpy as np
import pytest

from harness.coders import make_coder
from harness.datasets.coco_folder import IMAGES_DIR, INSTANCES_JSON, eval_set
from harness.detection.datasets import coco_folder_dataset
from harness.detection.detectors import DETECTORS, AssetMissing
from harness.detection.part1 import ordered_sum
from harness.detection.pipeline import CellPartial, SplitDetectionPipeline

SPLIT = 10
CODER = "qlayer:bits=4,level=1"  # lossy, so NMSE and detections differ from the anchor; fast zlib level


@pytest.fixture(scope="module")
def pipeline() -> SplitDetectionPipeline:
    try:
        detector = DETECTORS.get("ssd_small")(None)
    except AssetMissing as exc:
        pytest.skip(str(exc))
    root = eval_set(12)  # the first 12 held-out images: enough for uneven shards, cheap to code
    dataset = coco_folder_dataset("shapes12", root / INSTANCES_JSON, root / IMAGES_DIR, origin="generated")
    return SplitDetectionPipeline(detector, dataset, [SPLIT], "cpu")


@pytest.fixture(scope="module")
def unsharded(pipeline):
    return pipeline.run_cell(SPLIT, CODER)


def _shards(ids: list[int], seed: int) -> list[list[int]]:
    shuffled = list(ids)
    random.Random(seed).shuffle(shuffled)
    return [shuffled[:2], shuffled[2:5], shuffled[5:]]  # 3 uneven shards


def _same(a, b) -> None:
    assert a.metrics == b.metrics
    assert (a.uncompressed_bytes, a.compressed_bytes, a.images) == (b.uncompressed_bytes, b.compressed_bytes, b.images)
    assert a.coded_bytes_per_image == b.coded_bytes_per_image
    assert (a.feature_nmse, a.output_nmse, a.kbpi, a.kbpi_std) == (b.feature_nmse, b.output_nmse, b.kbpi, b.kbpi_std)
    assert a.detections == b.detections
    assert (a.split, a.coder, a.part1_time) == (b.split, b.coder, b.part1_time)


@pytest.mark.parametrize("seed", [0, 1])
def test_sharded_shuffled_partials_reduce_to_the_unsharded_result(pipeline, unsharded, seed):
    partials = [pipeline.run_images(SPLIT, CODER, shard) for shard in _shards(pipeline.dataset.image_ids(), seed)]
    partials.reverse()
    # partials travel between workers: plain picklable data
    partials = [pickle.loads(pickle.dumps(p)) for p in partials]
    assert all(isinstance(p, CellPartial) for p in partials)
    _same(pipeline.reduce_cell(SPLIT, CODER, partials), unsharded)


def test_shards_coded_from_part1_in_memory_reduce_to_the_store_result(pipeline, unsharded):
    ids = pipeline.dataset.image_ids()
    shards = [ids[7:], ids[:7]]  # as two shard tasks would: each runs part 1 of its images, then codes them
    part1 = [pickle.loads(pickle.dumps(pipeline.part1_images(shard))) for shard in shards]
    assert [p.image_ids for p in part1] == shards
    stored = pipeline.features(SPLIT)
    for shard in part1:  # what a shard codes is what the store holds (the store went through npz)
        for image_id, tensors in shard.features[SPLIT].items():
            assert tensors.keys() == stored[image_id].keys()
            assert all(np.array_equal(tensors[name], stored[image_id][name]) for name in tensors)
        assert shard.part1_max_abs_diff[SPLIT] == 0.0  # part 1 alone equals the one-pass features
    partials = [pipeline.run_images(SPLIT, CODER, shard, p) for shard, p in zip(shards, part1)]
    part1_time = ordered_sum(p.part1_seconds[SPLIT][i] for p in part1 for i in p.image_ids)
    result = pipeline.reduce_cell(SPLIT, CODER, partials, part1_time=part1_time)
    assert result.part1_time == part1_time > 0
    _same(dataclasses.replace(result, part1_time=unsharded.part1_time), unsharded)


def test_held_features_are_read_only_and_subsets_in_stored_order(pipeline):
    ids = pipeline.dataset.image_ids()
    subset = pipeline.features(SPLIT, [ids[3], ids[1]])
    assert list(subset) == [ids[1], ids[3]]
    tensor = next(iter(subset[ids[1]].values()))
    with pytest.raises(ValueError, match="read-only"):
        tensor[...] = 0  # a coder writing into its input would change what the next cell codes
    assert pipeline.features(SPLIT)[ids[1]].keys() == subset[ids[1]].keys()


def test_sizes_kbpi_statistics_and_nmse_against_the_coder_and_numpy(pipeline, unsharded):
    coder = make_coder(CODER)
    sizes, ref, dec = [], [], []
    for image_id, tensors in pipeline.features(SPLIT).items():
        bitstream = coder.encode(tensors)
        sizes.append((image_id, len(bitstream)))
        decoded = coder.decode(bitstream)
        for name, value in tensors.items():
            ref.append(value.astype(np.float64).ravel())
            dec.append(decoded[name].astype(np.float64).ravel())
    assert [i for i, _ in sizes] == pipeline.dataset.image_ids()
    assert unsharded.coded_bytes_per_image == [n for _, n in sizes]
    assert unsharded.compressed_bytes == sum(n for _, n in sizes)
    kbits = np.array([n for _, n in sizes]) * 8 / 1000
    assert unsharded.kbpi == pytest.approx(kbits.mean(), rel=1e-12)
    assert unsharded.kbpi_std == pytest.approx(kbits.std(ddof=0), rel=1e-9)
    assert unsharded.kbpi_std > 0  # images differ in content, so their coded sizes differ
    ref_all, dec_all = np.concatenate(ref), np.concatenate(dec)
    assert unsharded.feature_nmse == pytest.approx(np.sum((dec_all - ref_all) ** 2) / np.sum(ref_all ** 2), rel=1e-9)
    assert 0 < unsharded.output_nmse < 1


def test_raw_coder_has_zero_spread_only_when_sizes_are_equal(pipeline):
    raw = pipeline.run_cell(SPLIT, "raw")  # every image's tensors have the same shape: same size
    assert len(set(raw.coded_bytes_per_image)) == 1 and raw.kbpi_std == 0.0
    assert raw.feature_nmse == 0.0 and raw.output_nmse == 0.0


def test_incomplete_duplicate_or_foreign_partials_are_refused(pipeline):
    ids = pipeline.dataset.image_ids()
    head, tail = pipeline.run_images(SPLIT, CODER, ids[:3]), pipeline.run_images(SPLIT, CODER, ids[3:])
    with pytest.raises(ValueError, match="miss image"):
        pipeline.reduce_cell(SPLIT, CODER, [head])
    with pytest.raises(ValueError, match="more than one partial"):
        pipeline.reduce_cell(SPLIT, CODER, [head, tail, pipeline.run_images(SPLIT, CODER, ids[:1])])
    with pytest.raises(ValueError, match="given to cell"):
        pipeline.reduce_cell(SPLIT, "qlayer:bits=8", [head, tail])
    with pytest.raises(ValueError, match="not in dataset"):
        pipeline.run_images(SPLIT, CODER, [10_000])
