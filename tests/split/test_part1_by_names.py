"""Part 1 of another graph of the same model, cut by the tensor names of a plan made on the FP32 graph
(harness.split.part1_by_names): what a quantized device model needs, since quantization renumbers nodes."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from harness.datasets.synthetic_shapes import generate_sample
from harness.derive.quantize import quantize
from harness.detection.detectors import DETECTORS
from harness.runtime import make_session
from harness.split import SplitError, SplitPlanner, part1_by_names, split_model, with_extra_outputs


@pytest.fixture(scope="module")
def detector_and_feeds():
    detector = DETECTORS.get("ssd_small")(None)
    return detector, [detector.preprocess(generate_sample(7, i).image) for i in range(4)]


@pytest.mark.parametrize("index", [30, 90])
def test_the_fp32_graph_cut_by_names_is_its_own_part1(detector_and_feeds, index):
    detector, feeds = detector_and_feeds
    planner = SplitPlanner(str(detector.onnx_path))
    plan = planner.plan(index=index)
    by_index, _ = split_model(planner.model, plan)
    by_names = part1_by_names(planner.model, plan)
    assert [n.name for n in by_names.graph.node] == [n.name for n in by_index.graph.node]
    a, b = (make_session(m.SerializeToString(), optimization="extended").run(None, feeds[0]) for m in (by_index, by_names))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_a_quantized_graph_cut_by_names_gives_its_own_tensors_in_float(detector_and_feeds, tmp_path):
    detector, feeds = detector_and_feeds
    quantized = quantize(detector.onnx_path, tmp_path / "q.onnx", "static", feeds).path
    plan = SplitPlanner(str(detector.onnx_path)).plan(index=90)
    model = onnx.load(str(quantized))
    assert len(model.graph.node) != plan.node_count  # renumbered: an index would cut elsewhere
    part1 = part1_by_names(model, plan)
    names = list(plan.cut_names)
    got = make_session(part1.SerializeToString(), optimization="extended").run(names, feeds[1])
    whole = make_session(with_extra_outputs(model, [plan]).SerializeToString(), optimization="extended")
    assert all(g.dtype == np.float32 for g in got)  # the dequantized activations cross
    assert all(np.array_equal(g, w) for g, w in zip(got, whole.run(names, feeds[1])))
    assert any(n.op_type == "DequantizeLinear" for n in part1.graph.node)


def test_a_name_the_graph_does_not_produce_is_refused(detector_and_feeds):
    detector, _ = detector_and_feeds
    planner = SplitPlanner(str(detector.onnx_path))
    plan = planner.plan(index=30)
    model = onnx.load(str(detector.onnx_path))
    for node in model.graph.node:  # the tensor renamed everywhere, as a derivation's rewrite may do
        for names in (node.input, node.output):
            for k, name in enumerate(names):
                if name == plan.cut_names[0]:
                    names[k] = "renamed"
    with pytest.raises(SplitError, match="no tensor .* the derivation renamed it"):
        part1_by_names(model, plan)
