"""Split engine on hand-built graphs whose correct cut is known by construction."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from harness.runtime import make_session
from harness.split import (
    SplitError, SplitPlanner, compare_outputs, load_model, plan_split, run_split, split_model, verify_split,
)
from split_toy_graphs import (
    early_output, input_reused_late, random_dag, residual_block, shape_reader, shared_weight_and_constant,
    with_if_subgraph,
)


def run(model: onnx.ModelProto, feed: dict) -> dict:
    session = make_session(model.SerializeToString())
    return dict(zip([o.name for o in session.get_outputs()], session.run(None, feed)))


def split_outputs(model: onnx.ModelProto, plan, feed: dict) -> dict:
    part1, part2 = split_model(model, plan)
    return run_split(part1.SerializeToString(), part2.SerializeToString(), feed)


@pytest.mark.parametrize("index, expected_cut", [
    (1, ["a"]),          # before Mul: a feeds both Mul and the skip Add, carried once
    (2, ["a", "b"]),     # before Add: the product and the skip branch
    (3, ["c"]),          # before Sigmoid
])
def test_index_cuts_before_the_node_and_carries_residual_branches(index, expected_cut):
    model = residual_block()
    plan = plan_split(model, index=index)
    assert plan.boundary == index and plan.where == "before"
    assert plan.cut_names == expected_cut
    assert [t.shape for t in plan.cut] == [(1, 4)] * len(expected_cut)
    assert plan.total_bytes == 16 * len(expected_cut)
    part1, part2 = split_model(model, plan)
    assert [o.name for o in part1.graph.output] == expected_cut
    assert [i.name for i in part2.graph.input] == expected_cut  # part 2 inputs named after what they carry
    x = np.array([[-1.0, 0.5, 2.0, -3.0]], np.float32)
    assert np.array_equal(split_outputs(model, plan, {"x": x})["y"], run(model, {"x": x})["y"])


def test_name_cut_before_and_after():
    model = residual_block()
    before = plan_split(model, node="add", where="before")
    after = plan_split(model, node="mul", where="after")
    assert before.boundary == after.boundary == 2 and before.cut_names == after.cut_names == ["a", "b"]
    assert plan_split(model, node="relu", where="after").cut_names == ["a"]


def test_initializers_go_to_each_part_that_reads_them_and_constants_are_copied():
    model = shared_weight_and_constant()
    plan = plan_split(model, index=2)
    part1, part2 = split_model(model, plan)
    assert [t.name for t in part1.graph.initializer] == ["w"] == [t.name for t in part2.graph.initializer]
    assert plan.cut_names == ["a"]  # the Constant k is copied into part 2, not carried as data
    assert [n.name for n in part2.graph.node] == ["const", "mul_w", "mul_k"]
    assert [n.name for n in part1.graph.node] == ["add_w"]  # the constant is unused by part 1: pruned
    x = np.ones((2, 3), np.float32)
    assert np.array_equal(split_outputs(model, plan, {"x": x})["y"], (x + [[0, 1, 2]]) * [[0, 1, 2]] * 3)


def test_model_output_made_in_part_1_is_passed_through():
    model = early_output()
    plan = plan_split(model, index=1)
    assert plan.cut_names == ["z"]
    x = np.array([-1.0, 0.0, 2.0], np.float32)
    got = split_outputs(model, plan, {"x": x})
    assert np.array_equal(got["z"], np.maximum(x, 0)) and np.array_equal(got["y"], np.exp(-np.maximum(x, 0)))


def test_subgraph_outer_scope_reads_cross_the_cut():
    model = with_if_subgraph()
    plan = plan_split(model, index=3)  # before If: its branches read "a" from the outer scope
    assert plan.cut_names == ["a", "cond"]
    for x in (np.array([1.0, -2.0], np.float32), np.array([-5.0, 1.0], np.float32)):
        assert np.array_equal(split_outputs(model, plan, {"x": x})["y"], run(model, {"x": x})["y"])


def test_raw_input_needed_by_part_2_is_an_error_unless_allowed():
    model = input_reused_late()
    with pytest.raises(SplitError, match=r"raw model input\(s\) x .*node 2 'add_input'"):
        plan_split(model, index=1)
    plan = plan_split(model, index=1, pass_inputs=True)
    assert plan.raw_inputs == ("x",) and plan.cut_names == ["r"]
    part1, part2 = split_model(model, plan)
    assert [i.name for i in part2.graph.input] == ["r", "x"]
    x = np.array([[-1, 2, 3], [4, -5, 6]], np.float32)
    assert np.array_equal(split_outputs(model, plan, {"x": x})["y"], np.maximum(x, 0) * 2 + x)


def test_input_read_only_for_its_shape_crosses_as_a_shape():
    model = shape_reader()
    plan = plan_split(model, index=1)
    assert plan.cut_names == ["r", "s"] and plan.raw_inputs == () and plan.hoisted_shapes == (2,)
    assert plan.cut[1].type.elem_type == onnx.TensorProto.INT64 and plan.cut[1].nbytes == 3 * 8
    with pytest.raises(SplitError, match="raw model input"):
        plan_split(model, index=1, hoist_shapes=False)
    x = np.random.default_rng(1).standard_normal((2, 3, 4)).astype(np.float32)
    assert np.array_equal(split_outputs(model, plan, {"x": x})["y"], np.maximum(x, 0))


@pytest.mark.parametrize("kwargs, message", [
    ({"index": 4}, r"node index 4 is out of range: this model has 4 nodes \(0\.\.3\)"),
    ({"index": -1}, "out of range"),
    ({"index": 0}, "leaves part 1 empty"),
    ({"index": 3, "where": "after"}, "leaves part 2 empty"),
    ({"node": "mull"}, r"no node named 'mull'.*did you mean 'mul'"),
    ({"node": "relu", "where": "middle"}, "use 'before' or 'after'"),
    ({}, "exactly one of"),
])
def test_bad_cut_requests_are_clear_errors(kwargs, message):
    with pytest.raises(SplitError, match=message):
        plan_split(residual_block(), **kwargs)


def test_duplicate_node_names_ask_for_an_index():
    model = residual_block()
    model.graph.node[2].name = "mul"
    with pytest.raises(SplitError, match=r"used by 2 nodes \(positions \[1, 2\]\)"):
        plan_split(model, node="mul")


def test_model_failing_the_checker_is_rejected(tmp_path):
    model = residual_block()
    model.graph.node[1].input[1] = "missing_weight"
    path = tmp_path / "broken.onnx"
    path.write_bytes(model.SerializeToString())
    with pytest.raises(SplitError, match="fails onnx.checker"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"not an onnx model at all \x00\xff\x13"])
def test_non_onnx_file_is_rejected(tmp_path, content):
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(SplitError, match=str(path)):
        load_model(path)
    with pytest.raises(SplitError, match="no such ONNX file"):
        load_model(tmp_path / "absent.onnx")


def test_plan_is_deterministic_and_parts_serialise_identically():
    model = residual_block()
    first = split_model(model, plan_split(model, index=2))
    second = split_model(model, plan_split(model, index=2))
    assert [p.SerializeToString() for p in first] == [p.SerializeToString() for p in second]


def test_compare_outputs_measures():
    a = np.array([1.0, 2.0, 2.0], np.float32)
    same = compare_outputs(a, a.copy())
    assert (same.max_abs_diff, same.nmse, same.bit_exact) == (0.0, 0.0, True)
    off = compare_outputs(a, a + np.array([0.0, 0.0, 0.3], np.float32))
    assert off.max_abs_diff == pytest.approx(0.3, rel=1e-6) and off.nmse == pytest.approx(0.09 / 9, rel=1e-5)
    assert compare_outputs(a, a[:2]).nmse == float("inf")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n_nodes=st.integers(2, 14), data=st.data())
def test_any_cut_of_a_random_graph_reproduces_full_inference_bit_exactly(seed, n_nodes, data):
    rng = np.random.default_rng(seed)
    model = random_dag(rng, n_nodes)
    planner = SplitPlanner(model)
    index = data.draw(st.integers(1, len(planner.nodes) - 1), label="index")
    plan = planner.plan(index=index, pass_inputs=True)  # random graphs may read x late
    # Independent expectation of the cut: tensors made before the boundary and read at or after it.
    made_before = {o for node in planner.nodes[:index] for o in node.output}
    read_after = {i for node in planner.nodes[index:] for i in node.input}
    assert set(plan.cut_names) == made_before & read_after
    assert set(plan.raw_inputs) == {"x"} & read_after
    feed = {"x": rng.standard_normal((2, 3)).astype(np.float32)}
    agreement = verify_split(model, plan, feed)
    assert agreement["y"].bit_exact, agreement
