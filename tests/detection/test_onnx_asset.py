"""The shipped ONNX detector: integrity, structure and naming, agreement with torch, and accuracy."""
from __future__ import annotations

import hashlib
import json

import numpy as np
import onnx
import pytest
import torch

from harness.datasets.synthetic_shapes import NUM_CLASSES, generate_batch
from harness.detection.ssd.default_boxes import DefaultBoxesConfig, default_boxes_xywh
from harness.detection.ssd.preprocess import preprocess
from harness.detection.ssd.ssd_small import SSD
from harness.runtime import make_session

SPLIT_NODE_10 = "/feature_extractor/feature_extractor/feature_extractor.4/feature_extractor.4.0/relu_2/Relu"


def test_md5_file_matches_the_onnx_bytes(shipped_onnx):
    recorded = shipped_onnx.with_name(shipped_onnx.name + ".md5").read_text().split()[0]
    assert hashlib.md5(shipped_onnx.read_bytes()).hexdigest() == recorded
    described = json.loads(shipped_onnx.with_suffix(".json").read_text())
    assert described["md5"] == recorded


def test_structure_and_node_names_follow_ssd_resnet(shipped_onnx):
    assert shipped_onnx.stat().st_size <= 10 * 1024 * 1024
    model = onnx.load(str(shipped_onnx))
    onnx.checker.check_model(model)
    assert 13 <= model.opset_import[0].version <= 17
    names = [node.name for node in model.graph.node]
    assert not any(node.op_type == "BatchNormalization" for node in model.graph.node)  # folded in eval mode
    # the seed 001 split-point names sit at the same indices as in ssd_resnet (Table 10.3.9.2)
    assert names[1] == "/feature_extractor/feature_extractor/feature_extractor.2/Relu"
    assert names[3] == "/feature_extractor/feature_extractor/feature_extractor.4/feature_extractor.4.0/conv1/Conv"
    assert names[10] == SPLIT_NODE_10
    assert [o.name for o in model.graph.output] == ["bboxes", "scores"]
    n = len(default_boxes_xywh(DefaultBoxesConfig()))
    dims = [[d.dim_value for d in o.type.tensor_type.shape.dim] for o in model.graph.output]
    assert dims == [[1, n, 4], [1, n, NUM_CLASSES + 1]]


def test_exported_graph_equals_torch(train_script, tmp_path):
    """Export path check on a freshly initialised model (no trained weights needed)."""
    torch.manual_seed(0)
    model = SSD(NUM_CLASSES)
    with torch.no_grad():  # non-trivial batch-norm statistics so that folding is exercised
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    model.eval()
    path = tmp_path / "m.onnx"
    train_script.export_onnx(model, path)
    _compare(model, path)


def test_shipped_onnx_equals_its_checkpoint(train_script, shipped_onnx):
    ckpt = train_script.DEFAULT_CKPT
    if not ckpt.exists():
        pytest.skip(f"no training checkpoint at {ckpt}: run scripts/train_ssd_small.py to compare torch with ONNX")
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    trained = json.loads(shipped_onnx.with_suffix(".json").read_text())["training"]["steps_done"]
    if state["step"] != trained:
        pytest.skip(f"checkpoint {ckpt} is at step {state['step']}, the shipped model at {trained}")
    model = SSD(NUM_CLASSES)
    model.load_state_dict(state["model"])
    _compare(model.eval(), shipped_onnx)


def _compare(model: SSD, path) -> None:
    session = make_session(str(path))
    for sample in generate_batch(77, 0, 3):
        x = preprocess(sample.image)
        with torch.no_grad():
            expected = [t.numpy() for t in model(torch.from_numpy(x))]
        got = session.run(["bboxes", "scores"], {"image": x})
        for e, g in zip(expected, got):
            np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)


ACCURACY_KEYS = ("calc_map", "voc", "coco_AP", "coco_AP50")


def test_anchor_is_perfect_on_the_seed000_style_selection(train_script, shipped_onnx):
    """Seed 000's selection (first 50 held-out images where the anchor is perfect) scores 100 by construction,
    through the training script's own evaluation (the ssd scenario's anchor cells gate the pipeline's figures on
    this selection and on the first 50 held-out images)."""
    described = json.loads(shipped_onnx.with_suffix(".json").read_text())["evaluation"]
    if "selected" not in described:
        pytest.skip("the model JSON records no seed-000-style selection (train_ssd_small.py --select-perfect-from POOL)")
    indices = described["selected"]["indices"]
    scores = train_script.evaluate_onnx(shipped_onnx, indices=indices)
    measured = {k: scores[k] for k in ACCURACY_KEYS}
    assert len(indices) == 50 and indices == sorted(set(indices))
    assert measured["calc_map"] == 100.0
