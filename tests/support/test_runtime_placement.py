"""A CUDA session refuses compute nodes on the CPU: the placement check, on a CPU session's real assignment.

A CPU session places every node on the CPU provider, which is what a CUDA session with a silent fallback
reports for the nodes it could not place; the check must flag exactly the float-producing nodes and leave
onnxruntime's deliberate CPU placement of shape arithmetic alone.
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from harness.runtime import (OPTIMIZATION_VARIABLE, THREADS_VARIABLE, cpu_fallback_nodes, execution_overrides,
                             node_output_types, platform_label)


def shape_and_compute_model() -> bytes:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    weights = numpy_helper.from_array(np.ones((2, 2, 1, 1), np.float32), "w")
    index = numpy_helper.from_array(np.array([0, 1], np.int64), "idx")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv"),
             helper.make_node("Shape", ["c"], ["s"], name="shape"),
             helper.make_node("Gather", ["s", "idx"], ["g"], name="gather"),
             helper.make_node("Concat", ["g", "idx"], ["target"], axis=0, name="concat"),
             helper.make_node("Reshape", ["c", "target"], ["y"], name="reshape")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], [weights, index]),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


def test_float_nodes_on_the_cpu_provider_are_a_fallback_shape_arithmetic_is_not() -> None:
    model = shape_and_compute_model()
    assert node_output_types(model) == {"conv": ["tensor(float)"], "shape": ["tensor(int64)"],
                                        "gather": ["tensor(int64)"], "concat": ["tensor(int64)"],
                                        "reshape": ["tensor(float)"]}
    options = ort.SessionOptions()
    options.add_session_config_entry("session.record_ep_graph_assignment_info", "1")
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    assignment = session.get_provider_graph_assignment_info()
    assert cpu_fallback_nodes(assignment, node_output_types(model)) == ["Conv conv", "Reshape reshape"]


def test_nodes_of_other_providers_and_unknown_nodes() -> None:
    class Node:
        def __init__(self, name, op_type):
            self.name, self.op_type = name, op_type

    class Subgraph:
        def __init__(self, ep_name, nodes):
            self.ep_name, self._nodes = ep_name, nodes

        def get_nodes(self):
            return self._nodes

    assignment = [Subgraph("CUDAExecutionProvider", [Node("conv", "Conv")]),
                  Subgraph("CPUExecutionProvider", [Node("shape", "Shape"), Node("fused_1", "FusedConv")])]
    # a node of the optimised graph that the model does not name cannot be shown to be shape arithmetic
    assert cpu_fallback_nodes(assignment, {"conv": ["tensor(float)"], "shape": ["tensor(int64)"]}) == \
        ["FusedConv fused_1"]


def test_execution_overrides_label_the_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(THREADS_VARIABLE, raising=False)
    monkeypatch.delenv(OPTIMIZATION_VARIABLE, raising=False)
    assert execution_overrides() == {} and platform_label("cuda") == "cuda"
    monkeypatch.setenv(THREADS_VARIABLE, "1")  # the default is no override
    assert platform_label("cpu") == "cpu"
    monkeypatch.setenv(THREADS_VARIABLE, "4")
    monkeypatch.setenv(OPTIMIZATION_VARIABLE, "basic")
    assert platform_label("cpu") == "cpu[optimization=basic,threads=4]"
    monkeypatch.setenv(OPTIMIZATION_VARIABLE, "fastest")
    with pytest.raises(ValueError, match="HARNESS_ORT_OPTIMIZATION='fastest': use one of disable"):
        execution_overrides()
