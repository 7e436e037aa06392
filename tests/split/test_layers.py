"""Layers and configurations (harness.split.layers) against models whose structure is known by construction,
and PoseNet against seed table 10.2.4-1."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from harness.split import SplitError, SplitPlanner
from harness.split.layers import LayerSplitter, find_layers
from harness.split.sweep import seeded_inputs
from harness.runtime import make_session


def splitter(path) -> LayerSplitter:
    return LayerSplitter(SplitPlanner(path))


def test_toy_layers_are_the_anchors_with_their_followers(toy_path):
    layers = find_layers(onnx.load(str(toy_path)))
    assert [(l.node_name, l.start, l.stop) for l in layers] == [
        ("conv_a", 1, 3), ("conv_b", 3, 6), ("conv_c", 6, 8), ("conv_d", 8, 10)]


def test_toy_configurations_send_what_crosses(toy_path):
    configs = splitter(toy_path).configs()
    assert len(configs) == 5
    assert [c.cut_names for c in configs] == [["x"], ["a"], ["a", "s"], ["a", "y"], ["y", "z"]]
    assert [c.boundary for c in configs] == [0, 3, 6, 8, 10]


def test_toy_parts_compose_to_the_full_model(toy_path):
    sweep = splitter(toy_path)
    feed = seeded_inputs(toy_path)[0]
    full = make_session(str(toy_path)).run(None, feed)
    for config in sweep.configs()[1:-1]:
        part1, part2 = sweep.parts(config)
        cut = dict(zip(config.cut_names, make_session(part1).run(config.cut_names, feed)))
        second = make_session(part2)
        outputs = second.run(["y", "z"], {i.name: cut[i.name] for i in second.get_inputs()})
        for want, got in zip(full, outputs):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_empty_sides_of_the_anchors(toy_path):
    sweep = splitter(toy_path)
    assert sweep.parts(sweep.config(0))[0] == b""
    assert sweep.parts(sweep.config(4))[1] == b""


def test_model_without_layer_is_refused(no_layer_path):
    with pytest.raises(SplitError, match="no Conv, ConvTranspose, Gemm, MatMul node"):
        splitter(no_layer_path)


@pytest.mark.parametrize("k", [-1, 5, True, 1.5])
def test_configuration_out_of_range(toy_path, k):
    with pytest.raises(SplitError, match="configurations 0..4"):
        splitter(toy_path).config(k)


def test_node_cut_inside_a_layer_counts_the_anchors_before_it(toy_path):
    config = splitter(toy_path).node_config(4)  # before relu_b: conv_a and conv_b ran
    assert (config.k, config.label, config.cut_names) == (2, "n4", ["a", "c1"])


# --- PoseNet (seed 001 table 10.2.4-1, §10.2.6) ---------------------------------------------------------------
def expected_backbone_channels(size: int = 257) -> list[tuple[int, int]]:
    """(channels, side) after each of MobileNetV1's 27 backbone layers at output stride 16, from the paper's
    table (Howard et al. 2017, table 1) rather than from the builder."""
    plan = [(32, 2)] + [(c, s) for c, s in [(32, 1), (64, 1), (64, 2), (128, 1), (128, 1), (128, 1), (128, 2),
                                             (256, 1), (256, 1), (256, 1), (256, 2), (512, 1)]
                        + [(512, 1)] * 10 + [(512, 2), (1024, 1), (1024, 1), (1024, 1)]]
    side, stride, shapes = size, 1, []
    for channels, s in plan:
        if stride * s <= 16 and s == 2:
            side, stride = (side + 1) // 2, stride * 2
        shapes.append((channels, side))
    return shapes


def test_posenet_has_31_layers_32_configurations_and_13_3_mb(posenet_file):
    sweep = splitter(posenet_file)
    assert sweep.count == 31 and len(sweep.configs()) == 32
    assert round(posenet_file.stat().st_size / 1e6, 1) == 13.3
    parameters = sum(int(np.prod(t.dims)) for t in sweep.model.graph.initializer)
    assert parameters == 3_313_907  # MobileNetV1 1.0 with biases + heads; the seed lists 1,180,147 (see module)


def test_posenet_cut_shapes_follow_mobilenet(posenet_file):
    configs = splitter(posenet_file).configs()
    for k, (channels, side) in enumerate(expected_backbone_channels(), start=1):
        if k == 27:
            break
        (tensor,) = configs[k].cut
        assert tensor.shape == (1, channels, side, side), f"k={k}"
    assert [t.name for t in configs[31].cut] == ["heatmaps", "offsets", "displacement_fwd", "displacement_bwd"]
    assert [t.shape for t in configs[31].cut] == [(1, 17, 17, 17), (1, 34, 17, 17), (1, 32, 17, 17),
                                                  (1, 32, 17, 17)]
    assert configs[0].cut[0].nbytes == 3 * 257 * 257 * 4
