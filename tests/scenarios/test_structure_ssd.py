"""Structural conformance of ssd_resnet (NVIDIA SSD300 ResNet-50, seed 000 / seed 001 §10.3.8.2, §10.3.9.2).

Independent expectations: seed 001 table 10.3.9.2 (node name at each split_node index, intermediate data size
in 10^6 bytes rounded to 2 decimals) and the architecture arithmetic below. references/expected_metrics.json
(key ``ssd_resnet``), the regression record of the built model's counts and seed 000 split points, gates the
``ssd_resnet`` scenario's cells (harness/scenarios/ssd_resnet.py, with the architecture arithmetic); this
module checks the seed's table and split inference at those points.
The same tests run on the user's own ``ssd_resnet.onnx`` under --data-dir when it is there.
"""
from __future__ import annotations


import numpy as np
import pytest

from harness.split import verify_split

pytestmark = pytest.mark.ssd

PREFIX = "/feature_extractor/feature_extractor/feature_extractor."
# Seed 001 table 10.3.9.2: split_node_N -> (node name, intermediate data size in MB).
SEED_TABLE = {
    1: ("2/Relu", 5.76),
    3: ("4/feature_extractor.4.0/conv1/Conv", 1.44),
    10: ("4/feature_extractor.4.0/relu_2/Relu", 5.76),
    17: ("4/feature_extractor.4.1/relu_2/Relu", 5.76),
    24: ("4/feature_extractor.4.2/relu_2/Relu", 5.76),
    25: ("5/feature_extractor.5.0/conv1/Conv", 5.76),
    39: ("5/feature_extractor.5.1/relu_2/Relu", 2.96),
    46: ("5/feature_extractor.5.2/relu_2/Relu", 2.96),
    54: ("6/feature_extractor.6.0/conv1/Conv", 2.96),
    62: ("6/feature_extractor.6.1/conv1/Conv", 5.91),
    68: ("6/feature_extractor.6.1/relu_2/Relu", 5.91),
    69: ("6/feature_extractor.6.2/conv1/Conv", 5.91),
    75: ("6/feature_extractor.6.2/relu_2/Relu", 5.91),
    76: ("6/feature_extractor.6.3/conv1/Conv", 5.91),
    82: ("6/feature_extractor.6.3/relu_2/Relu", 5.91),
}
SEED_INPUT_MB = 1.08  # "Anchor" row: the 3x300x300 float32 input
SEED000_SPLITS = [10, 30, 50, 70, 90, 110, 130]
MODEL_NAME = "ssd_resnet"  # read by the source/planner fixtures of conftest.py


def mb(nbytes: int) -> float:
    return round(nbytes / 1e6, 2)


@pytest.mark.parametrize("index", sorted(SEED_TABLE), ids=[f"split_node_{i}" for i in sorted(SEED_TABLE)])
def test_seed_table_node_name_and_intermediate_size(planner, index, record_result, source):
    name_tail, size_mb = SEED_TABLE[index]
    plan = planner.plan(index=index)
    assert plan.node_name == PREFIX + name_tail
    assert plan.total_bytes is not None and mb(plan.total_bytes) == size_mb, plan.describe()
    record_result({"scenario_name": "structure", "model_name": f"ssd_resnet/{source[0]}", "split": index,
                   "metric_name": "intermediate_bytes", "anc_size": plan.total_bytes, "seed_mb": size_mb})


def test_seed_table_input_size(planner):
    (name,) = planner.model_inputs
    assert planner.types[name].static_shape == (1, 3, 300, 300)
    assert mb(planner.types[name].nbytes) == SEED_INPUT_MB


def test_table_sizes_imply_cutting_before_the_node(planner):
    # split_node_3 is the first conv of layer1: before it only the max-pool output (1.44 MB) crosses; after it
    # the conv output and the block input kept for the downsample branch both do (2.88 MB).
    assert mb(planner.plan(index=3).total_bytes) == 1.44
    after = planner.plan(index=3, where="after")
    assert mb(after.total_bytes) == 2.88 and len(after.cut) == 2


@pytest.fixture(scope="module")
def image() -> dict:
    return {"input": np.random.default_rng(2024).random((1, 3, 300, 300), dtype=np.float32)}


@pytest.mark.parametrize("index", SEED000_SPLITS)
def test_seed000_split_point(planner, source, index, image, device, record_result, tolerances):
    plan = planner.plan(index=index)
    # Up to onnxruntime's "extended" level, split and unsplit inference run the same kernels: bit-exact.
    exact = verify_split(planner.model, plan, image, device=device, optimization="extended")
    assert all(a.bit_exact for a in exact.values()), exact
    # At the default level ("all") layout transforms reorder float sums: the seed's NMSE criterion applies.
    default = verify_split(planner.model, plan, image, device=device)
    worst_nmse = max(a.nmse for a in default.values())
    worst_diff = max(a.max_abs_diff for a in default.values())
    assert worst_nmse <= tolerances["metrics"]["split_nmse"]["abs"], default
    record_result({"scenario_name": "structure", "model_name": f"ssd_resnet/{source[0]}", "device": device,
                   "split": index, "metric_name": "split_nmse", "rec_perf": worst_nmse,
                   "split_max_abs_diff": worst_diff, "anc_size": plan.total_bytes, "cut_tensors": len(plan.cut)})
