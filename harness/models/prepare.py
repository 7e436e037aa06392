"""Model preparation: the one home of the graph rewrites a member's export may need before it is split, swept or
derived for the device (quantisation and pruning build on it).

* :func:`constants_to_initializers`: weights held in ``Constant`` nodes (converters from other frameworks write
  them so) become initializers, so that node indices count computing nodes and quantisers see the weights;
* :func:`convert_opset`: onnx's own version converter to a target opset;
* :func:`fold_batch_norm`: onnxruntime's basic graph optimisations (which fold BatchNormalization into the
  preceding Conv and constant-fold) written back as a model, rather than rewriting kernels by hand.

:func:`prepare_model` applies them in that order; ``python -m harness prepare-model`` is its command.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import onnx

from harness.split.graph import ModelSource, load_model


def constants_to_initializers(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """A copy of ``model`` whose main-graph ``Constant`` nodes holding a tensor (``value``) are initializers of
    the same name; returns (model, nodes moved). Constants of other forms (``value_float``, ...) stay."""
    prepared = onnx.ModelProto()
    prepared.CopyFrom(model)
    graph = prepared.graph
    kept, moved = [], 0
    for node in graph.node:
        tensor = next((a.t for a in node.attribute if a.name == "value" and a.type == onnx.AttributeProto.TENSOR),
                      None)
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx") and tensor is not None:
            initializer = onnx.TensorProto()
            initializer.CopyFrom(tensor)
            initializer.name = node.output[0]
            graph.initializer.append(initializer)
            moved += 1
        else:
            kept.append(node)
    del graph.node[:]
    graph.node.extend(kept)
    return prepared, moved


def convert_opset(model: onnx.ModelProto, opset: int) -> onnx.ModelProto:
    """``model`` at default-domain opset ``opset`` (onnx.version_converter); a clear error when it cannot."""
    current = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if current == opset:
        return model
    try:
        return onnx.version_converter.convert_version(model, opset)
    except Exception as exc:  # the converter raises RuntimeError or ConvertError by case
        raise ValueError(f"cannot convert the model from opset {current} to {opset}: {str(exc).splitlines()[0]}") \
            from None


def fold_batch_norm(model: onnx.ModelProto) -> onnx.ModelProto:
    """``model`` after onnxruntime's basic optimisations (BatchNormalization folded into Conv, constants
    folded), as onnxruntime writes the optimised graph."""
    import onnxruntime as ort

    with tempfile.TemporaryDirectory(prefix="prepare-") as folder:
        out = os.path.join(folder, "optimised.onnx")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = out
        ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
        return onnx.load(out)


def prepare_model(source: ModelSource, *, opset: int | None = None, fold: bool = True) -> tuple[onnx.ModelProto, dict]:
    """The prepared model and what was done (``constants_moved``, ``opset``, ``batch_norm_folded``)."""
    model = load_model(source)
    model, moved = constants_to_initializers(model)
    if opset is not None:
        model = convert_opset(model, opset)
    before = sum(node.op_type == "BatchNormalization" for node in model.graph.node)
    if fold:
        model = fold_batch_norm(model)
    after = sum(node.op_type == "BatchNormalization" for node in model.graph.node)
    onnx.checker.check_model(model)
    opset_now = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    return model, {"constants_moved": moved, "opset": opset_now, "batch_norm_folded": before - after,
                   "nodes": len(model.graph.node)}


def save_prepared(model: onnx.ModelProto, path: Path) -> None:
    from harness.split import save_model_atomic

    save_model_atomic(model, Path(path))
