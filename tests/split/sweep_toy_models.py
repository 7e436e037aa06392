"""Hand-built ONNX models whose layers and cuts are known by construction."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def _finish(nodes, inputs, outputs, initializers) -> onnx.ModelProto:
    model = helper.make_model(helper.make_graph(nodes, "toy", inputs, outputs, initializer=initializers),
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def two_branch_convnet() -> onnx.ModelProto:
    """x(1,2,8,8) -> Transpose? no: Mul (pre-processing) -> conv_a -> Relu -> conv_b -> Relu -> Add(skip of the
    first Relu) -> conv_c + Sigmoid -> y(1,4,8,8); and a second output z = Relu(conv_d(first Relu)).

    Layers (anchors in graph order): conv_a, conv_b, conv_c, conv_d -> 4 layers, 5 configurations.
    Cutting before conv_c (k = 2) carries the Add output only; before conv_b (k = 1) carries ``a`` (read by
    conv_b, the Add and conv_d); before conv_d (k = 3) carries ``a`` and the model output ``y``.
    """
    rng = np.random.default_rng(0)
    weights = [numpy_helper.from_array(rng.standard_normal((4, c, 3, 3)).astype(np.float32) * 0.2, f"w{i}")
               for i, c in enumerate([2, 4, 4, 4])]
    scale = numpy_helper.from_array(np.array(0.5, np.float32), "scale")
    nodes = [
        helper.make_node("Mul", ["x", "scale"], ["xs"], name="pre"),
        helper.make_node("Conv", ["xs", "w0"], ["c0"], name="conv_a", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c0"], ["a"], name="relu_a"),
        helper.make_node("Conv", ["a", "w1"], ["c1"], name="conv_b", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["b"], name="relu_b"),
        helper.make_node("Add", ["b", "a"], ["s"], name="skip"),
        helper.make_node("Conv", ["s", "w2"], ["c2"], name="conv_c", pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["c2"], ["y"], name="sigmoid"),
        helper.make_node("Conv", ["a", "w3"], ["c3"], name="conv_d", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c3"], ["z"], name="relu_d"),
    ]
    vi = lambda name, c: helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, c, 8, 8])  # noqa: E731
    return _finish(nodes, [vi("x", 2)], [vi("y", 4), vi("z", 4)], weights + [scale])


def no_layer_model() -> onnx.ModelProto:
    """Relu then Sigmoid: no Conv/ConvTranspose/Gemm/MatMul, so no layer."""
    vi = lambda name: helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, 4])  # noqa: E731
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Sigmoid", ["r"], ["y"])]
    return _finish(nodes, [vi("x")], [vi("y")], [])
