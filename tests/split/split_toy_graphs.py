"""Small hand-built ONNX graphs whose cuts are known by construction (independent of any exporter)."""
from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def finish(nodes, inputs, outputs, initializers=(), name="toy") -> onnx.ModelProto:
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def vi(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def residual_block() -> onnx.ModelProto:
    """x -> a=Relu(x) -> b=Mul(a,w) -> c=Add(b,a) -> y=Sigmoid(c); a feeds both b and the skip.

    Cutting before node 1 (Mul) or node 2 (Add) must carry the skip tensor ``a`` too.
    """
    w = numpy_helper.from_array(np.full((1, 4), 0.5, np.float32), "w")
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("Mul", ["a", "w"], ["b"], name="mul"),
        helper.make_node("Add", ["b", "a"], ["c"], name="add"),
        helper.make_node("Sigmoid", ["c"], ["y"], name="sigmoid"),
    ]
    return finish(nodes, [vi("x", [1, 4])], [vi("y", [1, 4])], [w])


def input_reused_late() -> onnx.ModelProto:
    """y = Relu(x) * 2 + x: the raw input is read again by the last node."""
    two = numpy_helper.from_array(np.array(2.0, np.float32), "two")
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Mul", ["r", "two"], ["m"], name="mul"),
        helper.make_node("Add", ["m", "x"], ["y"], name="add_input"),
    ]
    return finish(nodes, [vi("x", [2, 3])], [vi("y", [2, 3])], [two])


def shared_weight_and_constant() -> onnx.ModelProto:
    """One initializer ``w`` and one Constant node read on both sides of a cut at node 2."""
    w = numpy_helper.from_array(np.arange(3, dtype=np.float32).reshape(1, 3), "w")
    nodes = [
        helper.make_node("Constant", [], ["k"], name="const", value=numpy_helper.from_array(np.float32(3.0))),
        helper.make_node("Add", ["x", "w"], ["a"], name="add_w"),
        helper.make_node("Mul", ["a", "w"], ["b"], name="mul_w"),
        helper.make_node("Mul", ["b", "k"], ["y"], name="mul_k"),
    ]
    return finish(nodes, [vi("x", [2, 3])], [vi("y", [2, 3])], [w])


def early_output() -> onnx.ModelProto:
    """Two outputs, ``z`` produced by node 0: a cut after it must pass ``z`` through part 2."""
    nodes = [
        helper.make_node("Relu", ["x"], ["z"], name="relu"),
        helper.make_node("Neg", ["z"], ["n"], name="neg"),
        helper.make_node("Exp", ["n"], ["y"], name="exp"),
    ]
    return finish(nodes, [vi("x", [3])], [vi("y", [3]), vi("z", [3])])


def with_if_subgraph() -> onnx.ModelProto:
    """An If whose branches read ``a`` (produced outside) without listing it as a node input."""
    then_graph = helper.make_graph([helper.make_node("Neg", ["a"], ["t"])], "then", [], [vi("t", [2])])
    else_graph = helper.make_graph([helper.make_node("Identity", ["a"], ["e"])], "else", [], [vi("e", [2])])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["cond"], name="greater"),
        helper.make_node("If", ["cond"], ["y"], name="if", then_branch=then_graph, else_branch=else_graph),
    ]
    zero = numpy_helper.from_array(np.array(0.0, np.float32), "zero")
    return finish(nodes, [vi("x", [2])], [vi("y", [2])], [zero])


def shape_reader() -> onnx.ModelProto:
    """y = Reshape(Relu(Conv-free scale of x), Shape(x)): part 2 reads the raw input only through Shape."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="flatten", axis=0),
        helper.make_node("Shape", ["x"], ["s"], name="shape_of_input"),
        helper.make_node("Reshape", ["f", "s"], ["y"], name="reshape"),
    ]
    return finish(nodes, [vi("x", [2, 3, 4])], [vi("y", [2, 3, 4])])


def random_dag(rng: np.random.Generator, n_nodes: int) -> onnx.ModelProto:
    """A random DAG of element-wise ops on [2, 3] tensors; each node reads 1-2 earlier tensors or weights."""
    available = ["x"]
    nodes, initializers = [], []
    unary, binary = ["Relu", "Neg", "Sigmoid", "Abs", "Tanh"], ["Add", "Mul", "Sub", "Max"]
    for i in range(n_nodes):
        out = f"t{i}"
        if rng.random() < 0.5:
            op = unary[rng.integers(len(unary))]
            inputs = [available[rng.integers(len(available))]]
        else:
            op = binary[rng.integers(len(binary))]
            first = available[rng.integers(len(available))]
            if rng.random() < 0.3:
                weight = f"w{i}"
                initializers.append(numpy_helper.from_array(rng.standard_normal((2, 3)).astype(np.float32), weight))
                second = weight
            else:
                second = available[rng.integers(len(available))]
            inputs = [first, second]
        nodes.append(helper.make_node(op, inputs, [out], name=f"n{i}_{op}"))
        available.append(out)
    # Sum every leaf so that no node is dead and the output depends on all branches.
    read = {name for node in nodes for name in node.input}
    leaves = [name for name in available[1:] if name not in read]
    nodes.append(helper.make_node("Sum", leaves, ["y"], name="sum_leaves"))
    return finish(nodes, [vi("x", [2, 3])], [vi("y", [2, 3])], initializers, name="random_dag")

