"""Building the two part models of a planned cut, and writing them.

Our own walk rather than ``onnx.utils.Extractor``: the cut is defined by node position (the seed's indices),
control-flow bodies read outer-scope names that Extractor does not follow, and Extractor needs a value_info
for every boundary tensor. Parts are assembled with ``onnx.helper`` and validated with ``onnx.checker``.
"""
from __future__ import annotations

import re
from pathlib import Path

import onnx
from onnx import helper

from harness.files import atomic_write
from harness.split.graph import ModelSource, SplitError, load_model, node_inputs
from harness.split.plan import SplitPlan


def _needed(nodes: list[onnx.NodeProto], positions: list[int], targets: set[str]) -> list[int]:
    """Positions (among ``positions``) of the nodes that contribute to ``targets``, in graph order."""
    producers = {name: p for p in positions for name in nodes[p].output if name}
    keep: set[int] = set()
    stack = [name for name in targets]
    while stack:
        position = producers.get(stack.pop())
        if position is None or position in keep:
            continue
        keep.add(position)
        stack.extend(node_inputs(nodes[position]))
    return sorted(keep)


def _make_part(model: onnx.ModelProto, nodes: list[onnx.NodeProto], inputs: list[onnx.ValueInfoProto],
               outputs: list[onnx.ValueInfoProto], name: str) -> onnx.ModelProto:
    read = {n for node in nodes for n in node_inputs(node)}
    # Initializers go to every part that reads them (duplicated when both do).
    initializers = [t for t in model.graph.initializer if t.name in read]
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=initializers)
    part = helper.make_model(graph, opset_imports=list(model.opset_import), ir_version=model.ir_version,
                             producer_name="harness.split", functions=list(model.functions))
    try:
        onnx.checker.check_model(part)
    except onnx.checker.ValidationError as exc:
        raise SplitError(f"{name} fails onnx.checker after the cut: {str(exc).splitlines()[0]}") from None
    return part


def split_model(model: ModelSource, plan: SplitPlan) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """Part 1 (model inputs -> cut tensors) and part 2 (cut tensors [+ raw inputs] -> model outputs)."""
    model = load_model(model)
    nodes = list(model.graph.node)
    if len(nodes) != plan.node_count:
        raise SplitError(f"the plan was made for a model of {plan.node_count} nodes, this one has {len(nodes)}")
    types = {t.name: t.type for t in plan.cut}
    declared = {v.name: v for v in list(model.graph.input) + list(model.graph.output)}
    inputs = [declared[name] for name in (i.name for i in model.graph.input) if name in declared
              and name not in {t.name for t in model.graph.initializer}]
    cut_values = [types[name].value_info(name) for name in plan.cut_names]

    part1_positions = _needed(nodes, plan.part1_positions, set(plan.cut_names))
    read_by_part1 = {n for p in part1_positions for n in node_inputs(nodes[p])}
    part1_inputs = [v for v in inputs if v.name in read_by_part1]
    if not part1_inputs:
        raise SplitError(f"part 1 of the cut at node {plan.node_index} reads no model input; cut later")
    part1 = _make_part(model, [nodes[p] for p in part1_positions], part1_inputs, cut_values, "part1")

    part2_positions = _needed(nodes, plan.part2_positions, {o.name for o in model.graph.output})
    raw_values = [v for v in inputs if v.name in plan.raw_inputs]
    part2 = _make_part(model, [nodes[p] for p in part2_positions], cut_values + raw_values,
                       list(model.graph.output), "part2")
    return part1, part2


def part1_by_names(model: ModelSource, plan: SplitPlan) -> onnx.ModelProto:
    """Part 1 of another graph of the same model (quantized or pruned: its nodes renumbered) cut at the tensors
    ``plan`` names: the nodes of ``model`` that compute those tensors from its inputs. A name ``model`` does not
    produce is a SplitError naming it (a derivation that renamed the tensor: choose another split)."""
    model = load_model(model)
    nodes = list(model.graph.node)
    produced = {name for node in nodes for name in node.output}
    missing = [name for name in plan.cut_names if name not in produced]
    if missing:
        raise SplitError(f"the graph has no tensor {missing[0]!r} of the cut at node {plan.node_index} (of "
                         f"{len(missing)} missing): the derivation renamed it; choose another split")
    initializers = {t.name for t in model.graph.initializer}
    positions = _needed(nodes, list(range(len(nodes))), set(plan.cut_names))
    read = {n for p in positions for n in node_inputs(nodes[p])}
    inputs = [v for v in model.graph.input if v.name in read and v.name not in initializers]
    types = {t.name: t.type for t in plan.cut}
    return _make_part(model, [nodes[p] for p in positions], inputs,
                      [types[name].value_info(name) for name in plan.cut_names], "part1")


def part_file_names(model_stem: str, plan: SplitPlan) -> tuple[str, str]:
    """split_onnx.py naming: ``<stem>_Part_I_<node name with / -> _>.onnx`` and ``..._Part_II_...``."""
    label = plan.node_name or f"node{plan.node_index}"
    label = re.sub(r"[^A-Za-z0-9._-]", "_", label)
    suffix = "" if plan.where == "before" else "_after"
    return f"{model_stem}_Part_I_{label}{suffix}.onnx", f"{model_stem}_Part_II_{label}{suffix}.onnx"


def save_model_atomic(model: onnx.ModelProto, path: Path) -> None:
    """Write an ONNX file so that nobody ever sees half of it."""
    atomic_write(Path(path), lambda handle: handle.write(model.SerializeToString()))


