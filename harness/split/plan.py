"""Where a model is cut and what crosses the cut.

Index convention (seed 001 §10.3.9.2): ``index=k`` cuts BEFORE node ``k`` of ``graph.node`` as exported, so
part 1 runs nodes ``0..k-1`` and part 2 starts with node ``k``. The table's sizes prove it: split_node_3
(``feature_extractor.4.0/conv1/Conv``) has 1.44 MB = 64x75x75 float32, the input of that convolution; cutting
after it would carry 2.88 MB (the conv1 output plus the block input kept for the downsample branch).
``node=NAME, where="after"`` cuts after the named node (boundary ``k+1``), as split_onnx.py's ``after`` flag does.

Shape side inputs: a ``Shape`` node of part 2 that reads a part-1 tensor (or the raw model input) is run in part 1
instead (``hoist_shapes=True``, the default), so part 2 receives the small int64 shape rather than the whole
tensor. This is what seed 001's RetinaNet needs: its post-processing reads only the *shape* of the (padded)
input image, which the seed obtained by feeding part 2 a dummy image; here the shape itself crosses the cut.
Constant nodes of part 1 read by part 2 are copied into part 2 (a constant is a weight, not intermediate data).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Sequence

import onnx

from harness.split.graph import (
    ModelSource, SplitError, TensorType, graph_input_names, index_producers, infer_tensor_types, load_model,
    node_inputs,
)

WHERE = ("before", "after")


@dataclass(frozen=True)
class CutTensor:
    """One tensor produced in part 1 and read in part 2 (a part-2 input of the same name)."""

    name: str
    type: TensorType
    producer: int  # position of the node producing it

    @property
    def shape(self) -> tuple[int | str | None, ...] | None:
        return self.type.shape

    @property
    def nbytes(self) -> int | None:
        return self.type.nbytes

    @property
    def dtype(self) -> str:
        return str(onnx.helper.tensor_dtype_to_np_dtype(self.type.elem_type))


@dataclass(frozen=True)
class SplitPlan:
    """A cut of ``graph.node`` at ``boundary``: part 1 = nodes[:boundary], part 2 = nodes[boundary:]."""

    boundary: int
    node_index: int
    node_name: str
    op_type: str
    where: str
    node_count: int
    cut: tuple[CutTensor, ...]
    raw_inputs: tuple[str, ...] = ()  # model inputs part 2 reads too (only with pass_inputs=True)
    shared_constants: tuple[int, ...] = field(default=())  # Constant nodes of part 1 copied into part 2
    hoisted_shapes: tuple[int, ...] = field(default=())  # Shape nodes after the boundary run in part 1

    @property
    def part1_positions(self) -> list[int]:
        return sorted(set(range(self.boundary)) | set(self.hoisted_shapes))

    @property
    def part2_positions(self) -> list[int]:
        return sorted((set(range(self.boundary, self.node_count)) - set(self.hoisted_shapes))
                      | set(self.shared_constants))

    @property
    def cut_names(self) -> list[str]:
        return [t.name for t in self.cut]

    @property
    def total_bytes(self) -> int | None:
        sizes = [t.nbytes for t in self.cut]
        return None if any(s is None for s in sizes) else sum(sizes)  # type: ignore[misc]

    def describe(self) -> dict:
        """JSON-ready summary (CLI and results rows)."""
        return {
            "index": self.node_index, "where": self.where, "boundary": self.boundary, "node": self.node_name,
            "op_type": self.op_type, "total_bytes": self.total_bytes, "raw_inputs": list(self.raw_inputs),
            "cut": [{"name": t.name, "dtype": t.dtype, "shape": None if t.shape is None else list(t.shape),
                     "bytes": t.nbytes} for t in self.cut],
        }


def find_node(model: onnx.ModelProto, name: str) -> int:
    """Position of the node called ``name``; a clear error when absent or ambiguous."""
    positions = [i for i, node in enumerate(model.graph.node) if node.name == name]
    if len(positions) == 1:
        return positions[0]
    if positions:
        raise SplitError(f"node name {name!r} is used by {len(positions)} nodes (positions {positions}); "
                         "split by index instead (--at)")
    close = difflib.get_close_matches(name, [n.name for n in model.graph.node if n.name], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else "; list the names with `inspect`"
    raise SplitError(f"no node named {name!r} in the model{hint}")


class SplitPlanner:
    """Plans any number of cuts of one model, inferring tensor types once."""

    def __init__(self, source: ModelSource, types: dict[str, TensorType] | None = None) -> None:
        self.model = load_model(source)
        self.types = types if types is not None else infer_tensor_types(self.model)
        graph = self.model.graph
        self.nodes = list(graph.node)
        self.producers = index_producers(self.nodes)
        self.model_inputs = set(graph_input_names(self.model))
        self.outputs = [o.name for o in graph.output]
        self.reads = [node_inputs(node) for node in self.nodes]
        self.readers: dict[str, list[int]] = {}
        for position, reads in enumerate(self.reads):
            for name in reads:
                self.readers.setdefault(name, []).append(position)

    def plan(self, index: int | None = None, node: str | None = None, where: str = "before",
             pass_inputs: bool = False, hoist_shapes: bool = True) -> SplitPlan:
        """Plan the cut at node ``index`` or at the node called ``node``, ``where`` = before|after it."""
        count = len(self.nodes)
        if where not in WHERE:
            raise SplitError(f"where={where!r}: use 'before' or 'after'")
        if (index is None) == (node is None):
            raise SplitError("give exactly one of a node index or a node name")
        if node is not None:
            index = find_node(self.model, node)
        assert index is not None
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
            raise SplitError(f"node index {index!r} is out of range: this model has {count} nodes (0..{count - 1})")
        boundary = index if where == "before" else index + 1
        if not 0 < boundary < count:
            side = "part 1" if boundary == 0 else "part 2"
            raise SplitError(f"cutting {where} node {index} leaves {side} empty; pick an index in 1..{count - 1} "
                             f"(before) or 0..{count - 2} (after)")
        return self._plan_at(boundary, index, where, pass_inputs, hoist_shapes)

    def _hoistable(self, position: int, boundary: int) -> bool:
        """A Shape node after the boundary whose input comes from part 1 (or is a model input) and is read in
        part 2 by nothing but Shape nodes: running it in part 1 saves carrying the whole tensor."""
        node = self.nodes[position]
        if node.op_type != "Shape" or not node.input:
            return False
        source_name = node.input[0]
        source = self.producers.get(source_name)
        if not ((source is not None and source < boundary) or source_name in self.model_inputs):
            return False
        readers = self.readers.get(source_name, [])
        return all(self.nodes[r].op_type == "Shape" for r in readers if r >= boundary)

    def _plan_at(self, boundary: int, index: int, where: str, pass_inputs: bool, hoist_shapes: bool) -> SplitPlan:
        count = len(self.nodes)
        hoisted = {p for p in range(boundary, count) if hoist_shapes and self._hoistable(p, boundary)}
        in_part1 = set(range(boundary)) | hoisted
        cut: dict[str, int] = {}
        raw: list[str] = []
        constants: set[int] = set()
        consumed = [name for p in range(boundary, count) if p not in hoisted for name in self.reads[p]]
        # A model output produced in part 1 must also leave part 2: it crosses the cut.
        for name in consumed + self.outputs:
            position = self.producers.get(name)
            if position is not None and position in in_part1:
                if self.nodes[position].op_type == "Constant" and name not in self.outputs:
                    constants.add(position)  # a constant is a weight, not intermediate data: copy it
                else:
                    cut.setdefault(name, position)
            elif name in self.model_inputs and name not in raw:
                raw.append(name)
        if raw and not pass_inputs:
            raise SplitError(
                f"cutting {where} node {index} leaves part 2 reading the raw model input(s) {', '.join(raw)} "
                f"(first read by node {self._first_reader(raw, boundary)}); cut later, or accept feeding the input "
                "to part 2 as well (pass_inputs=True / --pass-inputs, as seed 001's RetinaNet split does)")
        missing = [name for name in cut if name not in self.types]
        if missing:
            raise SplitError(f"no type is known for cut tensor(s) {', '.join(missing)}; "
                             "run onnx shape inference on the model or cut elsewhere")
        ordered = sorted(cut.items(), key=lambda item: (item[1], list(self.nodes[item[1]].output).index(item[0])))
        node = self.nodes[index]
        return SplitPlan(
            boundary=boundary, node_index=index, node_name=node.name, op_type=node.op_type, where=where,
            node_count=len(self.nodes),
            cut=tuple(CutTensor(name, self.types[name], position) for name, position in ordered),
            raw_inputs=tuple(raw), shared_constants=tuple(sorted(constants)), hoisted_shapes=tuple(sorted(hoisted)),
        )

    def _first_reader(self, names: Sequence[str], boundary: int) -> str:
        for position in range(boundary, len(self.nodes)):
            if set(self.reads[position]) & set(names) and not self._hoistable(position, boundary):
                return f"{position} {self.nodes[position].name or self.nodes[position].op_type!r}"
        return "?"


def plan_split(model: ModelSource, index: int | None = None, node: str | None = None, where: str = "before",
               pass_inputs: bool = False, hoist_shapes: bool = True) -> SplitPlan:
    """Plan one cut; see the module docstring for the index convention."""
    return SplitPlanner(model).plan(index=index, node=node, where=where, pass_inputs=pass_inputs,
                                    hoist_shapes=hoist_shapes)
