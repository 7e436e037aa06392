"""Deriving the device anchor from the network's model (seed 001 §5, §9.4; seed 004): post-training INT8
quantization with onnxruntime's quantizer and magnitude pruning of the weights, on maintained libraries.

Every derivation first prepares the model (harness.models.prepare: Constant weights to initializers, opset 13 or
later for per-channel QDQ, BatchNormalization folded), then writes the derived ONNX file and returns what it did
(:class:`Derived`). The figures a derived model is judged by (file and coded sizes, sparsity counted from the
weights, parameters, nodes) come from :func:`model_figures`, from the file itself.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

WEIGHT_OPS = ("Conv", "ConvTranspose", "Gemm", "MatMul")  # the operators whose weights pruning and quantization touch


@dataclass(frozen=True)
class Derived:
    path: Path
    method: str
    details: dict[str, Any] = field(default_factory=dict)


def weight_names(model: onnx.ModelProto) -> list[str]:
    """Initializers used as the weight (second input) of a Conv/Gemm/MatMul node, in graph order."""
    initializers = {init.name for init in model.graph.initializer}
    names: list[str] = []
    for node in model.graph.node:
        if node.op_type in WEIGHT_OPS and len(node.input) > 1 and node.input[1] in initializers \
                and node.input[1] not in names:
            names.append(node.input[1])
    return names


def model_figures(path: Path) -> dict[str, Any]:
    """Sizes and counts of an ONNX file: ``file_bytes``, ``zlib_bytes`` (level 9: a sparse model only gets
    smaller when coded), ``parameters`` (float initializer values), ``sparsity`` (zeros among the weights of
    Conv/Gemm/MatMul, counted in the float or the dequantized int8 weights), ``nodes``, ``quantized_nodes``."""
    data = Path(path).read_bytes()
    model = onnx.load_from_string(data)
    arrays = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    weights = [arrays[name] for name in weight_names(model)]
    # a QDQ model holds its weights as int8 initializers behind DequantizeLinear nodes
    dequantized = [arrays[n.input[0]] for n in model.graph.node
                   if n.op_type == "DequantizeLinear" and n.input[0] in arrays and arrays[n.input[0]].ndim >= 2]
    counted = weights or dequantized
    total = sum(int(w.size) for w in counted)
    zeros = sum(int(np.count_nonzero(w == 0)) for w in counted)
    return {"file_bytes": len(data), "zlib_bytes": len(zlib.compress(data, 9)),
            "parameters": sum(int(a.size) for a in arrays.values() if a.dtype.kind == "f"),
            "weights": total, "sparsity": zeros / total if total else 0.0, "nodes": len(model.graph.node),
            "quantized_nodes": sum(n.op_type in ("QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear",
                                                 "MatMulInteger", "ConvInteger", "QLinearConv") for n in model.graph.node)}
