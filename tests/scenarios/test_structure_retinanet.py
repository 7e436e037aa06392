"""Structural conformance of retinanet (torchvision RetinaNet ResNet-50 FPN, seed 000 / seed 001 §10.3.8.1, §10.3.9.1).

The structure itself (node counts, the FPN maps of seed 001 table 10.3.3-1, the seed 000 split points) is the
``retinanet`` scenario's cells (harness/scenarios/retinanet.py), gated against references/expected_metrics.json;
this module checks what needs inference on a frame: torchvision's transform, and split inference against the
unsplit model at the FPN cut and (slow) at every seed 000 split point. The user's ``retinanet.onnx`` under
--data-dir runs the same tests.
"""
from __future__ import annotations

import numpy as np
import pytest

from harness.scenarios.retinanet import FRAME_HW, SEED_FPN, fpn_nodes
from harness.split import compare_outputs, run_split, session, split_model

pytestmark = pytest.mark.retinanet

SEED000_SPLITS = [100, 400, 700, 1000, 1300, 1600, 1900]
MODEL_NAME = "retinanet"  # read by the source/planner fixtures of conftest.py


@pytest.fixture(scope="module")
def feed(planner) -> dict:
    (name,) = planner.model_inputs
    shape = planner.types[name].shape
    if shape is not None and len(shape) == 3 and all(isinstance(d, int) for d in shape[1:]) \
            and tuple(shape[1:]) != FRAME_HW:
        pytest.skip(f"model input is fixed to {shape}; these checks need a 3x{FRAME_HW[0]}x{FRAME_HW[1]} frame")
    frame = np.random.default_rng(7).random((3, *FRAME_HW), dtype=np.float32)
    return {name: frame}


@pytest.fixture(scope="module")
def fpn_plan(planner):
    # The seed's cut: right after the p6 convolution (Figure 10.3.8.1-2), p7 left to part 2.
    return planner.plan(index=fpn_nodes(planner)["p6"], where="after")


def test_transform_resizes_the_frame_as_torchvision_does():
    # Reference library: torchvision's GeneralizedRCNNTransform (min 800, max 1333, pad to a multiple of 32).
    import torch
    from torchvision.models.detection.transform import GeneralizedRCNNTransform

    transform = GeneralizedRCNNTransform(800, 1333, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).eval()
    images, _ = transform([torch.zeros(3, *FRAME_HW)])
    assert tuple(images.tensors.shape) == (1, 3, 800, 1280)
    strides = {"0": 8, "1": 16, "2": 32, "p6": 64}
    assert {k: (256, -(-800 // s), -(-1280 // s)) for k, s in strides.items()} == SEED_FPN


def test_fpn_split_inference_equals_unsplit(planner, fpn_plan, feed, record_result, source):
    part1, part2 = split_model(planner.model, fpn_plan)
    split = run_split(part1.SerializeToString(), part2.SerializeToString(), feed, optimization="extended")
    full_session = session(planner.model.SerializeToString(), optimization="extended")
    full = dict(zip([o.name for o in full_session.get_outputs()], full_session.run(None, feed)))
    assert len(full["boxes"]) > 0, "no detections: the comparison would be vacuous"
    agreement = {name: compare_outputs(full[name], split[name], name) for name in full}
    assert all(a.bit_exact for a in agreement.values()), agreement
    record_result({"scenario_name": "structure", "model_name": f"retinanet/{source[0]}", "split": "fpn",
                   "metric_name": "split_nmse", "rec_perf": max(a.nmse for a in agreement.values()),
                   "detections": len(full["boxes"])})


# one split index stays in the default run (the code path); the other six are the nightly job's
@pytest.mark.parametrize("index", [i if i == 1000 else pytest.param(i, marks=pytest.mark.slow)
                                   for i in SEED000_SPLITS])
def test_seed000_split_inference_is_bit_exact(planner, feed, full_extended, index, record_result, source):
    part1, part2 = split_model(planner.model, planner.plan(index=index))
    split = run_split(part1.SerializeToString(), part2.SerializeToString(), feed, optimization="extended")
    agreement = {name: compare_outputs(full_extended[name], split[name], name) for name in full_extended}
    assert all(a.bit_exact for a in agreement.values()), agreement
    record_result({"scenario_name": "structure", "model_name": f"retinanet/{source[0]}", "split": index,
                   "metric_name": "split_nmse", "rec_perf": max(a.nmse for a in agreement.values())})


@pytest.fixture(scope="module")
def full_extended(planner, feed) -> dict:
    full_session = session(planner.model.SerializeToString(), optimization="extended")
    return dict(zip([o.name for o in full_session.get_outputs()], full_session.run(None, feed)))
