"""Loading a checked ONNX model and reading what a split needs from its graph: who produces and who consumes
each tensor (outer-scope names used inside If/Loop/Scan bodies included), and each tensor's type and shape."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Union

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper, shape_inference

ModelSource = Union[str, "os.PathLike[str]", onnx.ModelProto]


class SplitError(ValueError):
    """Bad input to the split engine (unreadable model, bad index or name, impossible cut): one readable line."""


def load_model(source: ModelSource) -> onnx.ModelProto:
    """The model at ``source`` (a path or a ModelProto), after ``onnx.checker`` has accepted it."""
    if isinstance(source, onnx.ModelProto):
        model, label = source, "the given model"
        check_target: object = model
    else:
        path = Path(os.fspath(source))
        label = str(path)
        if not path.is_file():
            raise SplitError(f"{path}: no such ONNX file; give the path of an exported .onnx model")
        try:
            model = onnx.load(str(path))
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise SplitError(f"{path} is not a readable ONNX model ({type(exc).__name__}: {exc}); "
                             "give an .onnx file exported by torch.onnx or another ONNX exporter") from None
        # The path form of the checker also handles models above the 2 GB protobuf limit.
        check_target = str(path)
    try:
        onnx.checker.check_model(check_target)  # type: ignore[arg-type]
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise SplitError(f"{label} fails onnx.checker: {first}; re-export the model or repair it") from None
    if not model.graph.node:
        raise SplitError(f"{label} has an empty graph: nothing to split")
    return model


def subgraph_outer_names(node: onnx.NodeProto) -> set[str]:
    """Names a node's subgraphs (If/Loop/Scan bodies) read from the enclosing scope.

    ``onnx.utils.Extractor`` follows ``node.input`` only, so a cut through a model with control flow would miss
    these; they count as inputs of the node here.
    """
    outer: set[str] = set()
    for attribute in node.attribute:
        graphs = list(attribute.graphs) + ([attribute.g] if attribute.HasField("g") else [])
        for graph in graphs:
            defined = {i.name for i in graph.input} | {t.name for t in graph.initializer}
            for inner in graph.node:
                for name in list(inner.input) + sorted(subgraph_outer_names(inner)):
                    if name and name not in defined:
                        outer.add(name)
                defined.update(o for o in inner.output if o)
    return outer


def node_inputs(node: onnx.NodeProto) -> list[str]:
    """Every tensor name a node reads: its inputs then its subgraphs' outer-scope names, no empty names."""
    names = [name for name in node.input if name]
    names += sorted(subgraph_outer_names(node) - set(names))
    return names


def graph_input_names(model: onnx.ModelProto) -> list[str]:
    """Real model inputs (the exporter may also list initializers as inputs: those are not data)."""
    initializers = {t.name for t in model.graph.initializer}
    return [i.name for i in model.graph.input if i.name not in initializers]


@dataclass(frozen=True)
class TensorType:
    """Element type and (possibly partly symbolic) shape of a tensor, from the model or shape inference."""

    elem_type: int
    shape: tuple[int | str | None, ...] | None  # None: rank unknown; str/None items: symbolic/unknown dims

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(helper.tensor_dtype_to_np_dtype(self.elem_type))

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def static_shape(self) -> tuple[int, ...] | None:
        if self.shape is None or not all(isinstance(d, int) for d in self.shape):
            return None
        return tuple(int(d) for d in self.shape)  # type: ignore[arg-type]

    @property
    def nbytes(self) -> int | None:
        shape = self.static_shape
        return None if shape is None else int(np.prod(shape, dtype=np.int64)) * self.itemsize

    def value_info(self, name: str) -> onnx.ValueInfoProto:
        return helper.make_tensor_value_info(name, self.elem_type, None if self.shape is None else list(self.shape))


def _type_of(value: onnx.ValueInfoProto) -> TensorType | None:
    tensor = value.type.tensor_type
    if not value.type.HasField("tensor_type") or tensor.elem_type == 0:
        return None
    if not tensor.HasField("shape"):
        return TensorType(tensor.elem_type, None)
    dims: list[int | str | None] = []
    for dim in tensor.shape.dim:
        if dim.HasField("dim_value"):
            dims.append(int(dim.dim_value))
        else:
            dims.append(dim.dim_param or None)
    return TensorType(tensor.elem_type, tuple(dims))


def _infer(model: onnx.ModelProto) -> onnx.ModelProto:
    try:
        return shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception:  # noqa: BLE001 - inference is a help, not a requirement: fall back to declared types
        return model


def _collect_types(graph: onnx.GraphProto) -> dict[str, TensorType]:
    types: dict[str, TensorType] = {}
    for value in list(graph.value_info) + list(graph.input) + list(graph.output):
        found = _type_of(value)
        if found is not None:
            types[value.name] = found
    for tensor in graph.initializer:
        types[tensor.name] = TensorType(tensor.data_type, tuple(int(d) for d in tensor.dims))
    return types


def infer_tensor_types(model: onnx.ModelProto, rounds: int = 8) -> dict[str, TensorType]:
    """Types of every tensor that ONNX shape inference (with data propagation) can type.

    ONNX leaves the rank of ``Reshape(x, shape)`` unknown when ``shape`` is computed (torchvision's detection
    heads), and a graph input or output without a rank fails ``onnx.checker``. The rank is the static length
    of ``shape``: it is declared and inference is re-run, so that it propagates downstream.
    """
    work = onnx.ModelProto()
    work.CopyFrom(model)
    types = _collect_types(_infer(work).graph)
    for _ in range(rounds):
        added = 0
        for node in work.graph.node:
            if node.op_type != "Reshape" or len(node.input) < 2 or not node.output[0]:
                continue
            out, shape_of_shape = types.get(node.output[0]), types.get(node.input[1])
            data = types.get(node.input[0])
            if (out is None or out.shape is None) and data is not None and shape_of_shape is not None \
                    and shape_of_shape.static_shape is not None and len(shape_of_shape.static_shape) == 1:
                rank = shape_of_shape.static_shape[0]
                work.graph.value_info.append(TensorType(data.elem_type, (None,) * rank).value_info(node.output[0]))
                added += 1
        if not added:
            break
        types = _collect_types(_infer(work).graph)
    return types


def index_producers(nodes: Iterable[onnx.NodeProto]) -> dict[str, int]:
    """Tensor name -> position of the node that produces it."""
    producers: dict[str, int] = {}
    for position, node in enumerate(nodes):
        for name in node.output:
            if name:
                producers[name] = position
    return producers
