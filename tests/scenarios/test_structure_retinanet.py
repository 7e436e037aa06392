"""Structural conformance of retinanet (torchvision RetinaNet ResNet-50 FPN, seed 000 / seed 001 §10.3.8.1, §10.3.9.1).

Independent expectations: seed 001 table 10.3.3-1 (FPN maps of a 2560x1600 SFU-HW-Objects class A frame:
256x100x160, 256x50x80, 256x25x40, 256x13x20 for "FPN 0, 1, 2, 6" = torchvision levels '0', '1', '2', 'p6';
'p7', 256x7x10, is computed from p6 in part 2 and is not in the table), the seed's "about 22MB" per image,
torchvision's own transform and parameter count. references/expected_metrics.json (key ``retinanet``) records
the built model's seed 000 split points. The user's ``retinanet.onnx`` under --data-dir runs the same tests.
"""
from __future__ import annotations

import re

import numpy as np
import pytest

from harness.split import FeatureExtractor, compare_outputs, run_split, session, split_model

pytestmark = pytest.mark.retinanet

FRAME_HW = (1600, 2560)  # SFU-HW-Objects class A
SEED_FPN = {"0": (256, 100, 160), "1": (256, 50, 80), "2": (256, 25, 40), "p6": (256, 13, 20)}
SEED000_SPLITS = [100, 400, 700, 1000, 1300, 1600, 1900]
MODEL_NAME = "retinanet"  # read by the source/planner fixtures of conftest.py
SEED_NODES = 2248  # seed 000; see test_node_count for why the built graph differs
FPN_PRODUCER = {  # torchvision FPN output level -> node that produces it
    "0": r"/backbone/fpn/layer_blocks\.0/.*Conv$", "1": r"/backbone/fpn/layer_blocks\.1/.*Conv$",
    "2": r"/backbone/fpn/layer_blocks\.2/.*Conv$", "p6": r"/backbone/fpn/extra_blocks/p6/Conv$",
    "p7": r"/backbone/fpn/extra_blocks/p7/Conv$",
}


@pytest.fixture(scope="module")
def feed(planner) -> dict:
    (name,) = planner.model_inputs
    shape = planner.types[name].shape
    if shape is not None and len(shape) == 3 and all(isinstance(d, int) for d in shape[1:]) \
            and tuple(shape[1:]) != FRAME_HW:
        pytest.skip(f"model input is fixed to {shape}; these checks need a 3x{FRAME_HW[0]}x{FRAME_HW[1]} frame")
    frame = np.random.default_rng(7).random((3, *FRAME_HW), dtype=np.float32)
    return {name: frame}


def fpn_nodes(planner) -> dict[str, int]:
    found = {}
    for level, pattern in FPN_PRODUCER.items():
        matches = [i for i, n in enumerate(planner.nodes) if re.search(pattern, n.name)]
        assert len(matches) == 1, f"FPN level {level}: nodes {matches} match {pattern}"
        found[level] = matches[0]
    return found


@pytest.fixture(scope="module")
def fpn_plan(planner):
    # The seed's cut: right after the p6 convolution (Figure 10.3.8.1-2), p7 left to part 2.
    return planner.plan(index=fpn_nodes(planner)["p6"], where="after")


@pytest.fixture(scope="module")
def one_pass(planner, fpn_plan, feed) -> dict:
    """Every seed 000 split point and the FPN cut from ONE run of the full model on the frame."""
    extractor = FeatureExtractor(planner.model, SEED000_SPLITS + [fpn_plan])
    features = extractor.run(feed)
    return {"features": features, "outputs": extractor.last_outputs, "plans": extractor.plans}


def test_transform_resizes_the_frame_as_torchvision_does():
    # Reference library: torchvision's GeneralizedRCNNTransform (min 800, max 1333, pad to a multiple of 32).
    import torch
    from torchvision.models.detection.transform import GeneralizedRCNNTransform

    transform = GeneralizedRCNNTransform(800, 1333, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]).eval()
    images, _ = transform([torch.zeros(3, *FRAME_HW)])
    assert tuple(images.tensors.shape) == (1, 3, 800, 1280)
    strides = {"0": 8, "1": 16, "2": 32, "p6": 64}
    assert {k: (256, -(-800 // s), -(-1280 // s)) for k, s in strides.items()} == SEED_FPN


def test_fpn_maps_match_seed_table(planner, one_pass, fpn_plan, record_result, source):
    levels = fpn_nodes(planner)
    cut = one_pass["features"][fpn_plan.node_index]
    shapes = {}
    for level, position in levels.items():
        (name,) = [o for o in planner.nodes[position].output]
        array = cut[name] if name in cut else None
        if level == "p7":
            assert name not in cut  # computed in part 2 from p6
            continue
        assert array is not None, f"FPN level {level} ({name}) does not cross the cut"
        shapes[level] = tuple(array.shape[1:])
        assert array.shape[0] == 1
    assert shapes == SEED_FPN
    fpn_bytes = sum(cut[planner.nodes[levels[k]].output[0]].nbytes for k in SEED_FPN)
    assert round(fpn_bytes / 1e6) == 22  # seed: "the intermediate data is about 22MB of size per image"
    record_result({"scenario_name": "structure", "model_name": f"retinanet/{source[0]}", "split": "fpn",
                   "metric_name": "intermediate_bytes", "anc_size": fpn_bytes,
                   **{f"fpn_{k}": "x".join(map(str, v)) for k, v in shapes.items()}})


def test_fpn_cut_is_the_fpn_maps_plus_shape_side_inputs(fpn_plan, one_pass, check_reference, source):
    cut = one_pass["features"][fpn_plan.node_index]
    maps = [n for n, a in cut.items() if a.dtype == np.float32 and a.ndim == 4]
    side = [n for n in cut if n not in maps]
    assert len(maps) == 4 and fpn_plan.raw_inputs == ()
    # Side inputs carry image-size information only (int64 scalars and shape vectors), never image data.
    assert all(cut[n].dtype == np.int64 and cut[n].size <= 4 for n in side), {n: cut[n].shape for n in side}
    if source[0] == "built":
        check_reference(["retinanet", "fpn_cut"], {
            "node": fpn_plan.node_name, "cut_tensors": len(cut), "side_inputs": len(side),
            "total_bytes": int(sum(a.nbytes for a in cut.values()))})


def test_fpn_split_inference_equals_unsplit(planner, fpn_plan, feed, one_pass, record_result, source):
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


def test_node_count_and_architecture(planner, source, check_reference, record_result):
    import torchvision

    ops = [node.op_type for node in planner.nodes]
    # ResNet-50 53 convs + FPN 3 inner + 3 layer + p6 + p7 + heads 2 x (4 + 1) per level x 5 levels.
    assert ops.count("Conv") == 53 + 8 + 2 * 5 * 5
    reference = torchvision.models.detection.retinanet_resnet50_fpn(weights=None, weights_backbone=None)
    parameters = sum(int(np.prod(t.dims)) for t in planner.model.graph.initializer if t.data_type == 1)
    # Folded (Frozen)BatchNorm keeps 2 numbers per channel, as BatchNorm2d's weight and bias.
    assert parameters == sum(p.numel() for p in reference.parameters())
    record_result({"scenario_name": "structure", "model_name": f"retinanet/{source[0]}", "metric_name": "nodes",
                   "anc_perf": len(ops), "seed_nodes": SEED_NODES})
    if source[0] == "built":
        assert "Identity" not in ops
        check_reference(["retinanet", "model"], {"nodes": len(ops), "parameters": parameters,
                                                 "initializers": len(planner.model.graph.initializer)})


@pytest.mark.parametrize("index", SEED000_SPLITS)
def test_seed000_split_point(planner, one_pass, index, check_reference, record_result, source):
    plan = one_pass["plans"][index]
    assert plan.raw_inputs == ()  # shapes of the image cross as shape side inputs, never the image
    # Every cut tensor has a known rank (ONNX loses it after torchvision's computed Reshapes; the engine
    # recovers it), which onnx.checker requires of part inputs and outputs.
    assert all(t.shape is not None for t in plan.cut), [t.name for t in plan.cut if t.shape is None]
    cut = one_pass["features"][index]
    total = int(sum(a.nbytes for a in cut.values()))
    record_result({"scenario_name": "structure", "model_name": f"retinanet/{source[0]}", "split": index,
                   "metric_name": "intermediate_bytes", "anc_size": total, "cut_tensors": len(cut)})
    if source[0] == "built":
        check_reference(["retinanet", "splits", str(index)], {
            "node": plan.node_name, "op_type": plan.op_type, "cut_tensors": len(cut),
            "cut_shapes": ";".join("x".join(map(str, a.shape)) or "scalar" for a in cut.values()),
            "total_bytes": total})


@pytest.mark.slow
@pytest.mark.parametrize("index", SEED000_SPLITS)
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
