"""Post-training INT8 quantization with onnxruntime's quantizer (``onnxruntime.quantization``).

``static``: QDQ format, per-channel int8 weights and uint8 activations, scales calibrated on N input feeds (min-max
or percentile calibration; the same feeds give the same scales and bytes); ``dynamic``: int8 weights, activation
scales computed at run time (no calibration data). The model is prepared first (harness.models.prepare, opset 13
at least: per-channel QDQ needs it).
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import onnx

from harness.derive import WEIGHT_OPS, Derived
from harness.files import atomic_write
from harness.models.prepare import prepare_model, save_prepared

MODES = ("static", "dynamic")


def feed_reader(feeds: Sequence[dict[str, np.ndarray]]) -> Any:
    """onnxruntime's CalibrationDataReader over ``feeds`` (a fresh reader each call: each pass reads all)."""
    from onnxruntime.quantization import CalibrationDataReader

    class Feeds(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(list(feeds))

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.items, None)

    return Feeds()
CALIBRATIONS = ("minmax", "percentile")


def quantize(model: Path, out: Path, mode: str = "static", calibration: Sequence[dict[str, np.ndarray]] = (),
             calibrate: str = "minmax", per_channel: bool = True, op_types: Sequence[str] | None = None,
             finetune_steps: int = 0, checkpoint: Path | None = None, retrained_out: Path | None = None) -> Derived:
    """Write the INT8 model of ``model`` to ``out``; ``calibration``: the feeds of static quantization.

    ``finetune_steps``: quantization-aware re-training of the float weights first (harness.derive.qat; static
    mode, a torch builder for the model), resuming from ``checkpoint`` where it exists; ``retrained_out`` keeps
    the re-trained float model, the one the integer model approximates.

    ``op_types``: the operator types quantized (onnxruntime's ``op_types_to_quantize``; default: every type the
    quantizer knows). A graph with its post-processing inside (box decoding, top-k, NMS in an ``If``) keeps that
    in float with ``("Conv",)``: the integer engine runs the network, and uint8 box coordinates and scores before
    the NMS lose every detection (measured on retinanet_small: calc_map 0 with every type, 87.9 of 88.6 with
    Conv only)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_dynamic, quantize_static

    if mode not in MODES:
        raise ValueError(f"quantization mode {mode!r}: use one of {', '.join(MODES)}")
    if calibrate not in CALIBRATIONS:
        raise ValueError(f"calibration {calibrate!r}: use one of {', '.join(CALIBRATIONS)}")
    if op_types is not None and not op_types:
        raise ValueError("op_types: give at least one operator type to quantize (e.g. Conv), or leave it out")
    if mode == "static" and not calibration:
        raise ValueError("static quantization needs calibration data: give --calibration DIR (.npz files of the "
                         "model's inputs by input name) or use --mode dynamic")
    if finetune_steps and mode != "static":
        raise ValueError("quantization-aware fine-tuning simulates static QDQ's rounding: use --mode static")
    if finetune_steps and (calibrate != "minmax" or not per_channel or (op_types and "Conv" not in op_types)):
        raise ValueError("quantization-aware fine-tuning simulates per-channel weights, min-max calibrated inputs and "
                         "quantized convolutions: leave --calibrate, per-channel and --op-types at that")
    with tempfile.TemporaryDirectory(prefix="quantize-") as folder:
        retrained = {}
        if finetune_steps:
            from harness.derive.qat import quantization_aware_finetune

            float_out = Path(retrained_out or Path(folder) / "retrained.onnx")
            retrained = quantization_aware_finetune(Path(model), float_out, calibration, finetune_steps, checkpoint)
            model = float_out
        prepared, done = prepare_model(model, opset=None)
        opset = done["opset"] or 13
        if opset < 13:
            prepared, done = prepare_model(prepared, opset=13)
        source = Path(folder) / "prepared.onnx"
        save_prepared(prepared, source)
        target = Path(folder) / "quantized.onnx"
        if mode == "dynamic":
            quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=per_channel,
                             op_types_to_quantize=list(op_types) if op_types else None)
        else:
            method = CalibrationMethod.Percentile if calibrate == "percentile" else CalibrationMethod.MinMax
            quantize_static(str(source), str(target), feed_reader(calibration), quant_format=QuantFormat.QDQ, per_channel=per_channel,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=method,
                            op_types_to_quantize=list(op_types) if op_types else None)
        out = Path(out)
        data = target.read_bytes()
        atomic_write(out, lambda handle: handle.write(data))  # a complete file or none
    return Derived(out, f"qdq-{mode}" if mode == "static" else "dynamic",
                   {"calibration_feeds": len(calibration), "calibrate": calibrate if mode == "static" else None,
                    "prepared": done, "op_types": list(op_types) if op_types else None, **retrained})


def network_outputs(model: Path) -> list[str]:
    """The outputs of the network's last weight layers: each Conv/Gemm/MatMul output from which no other weight
    layer is reachable, in graph order. Where a graph has its post-processing inside, these are the tensors it
    starts from (RetinaNet's per-level class and box convolutions): the float distance of a derived model is
    measured there, since top-k and NMS lists reorder and change length with any perturbation of a score."""
    graph = onnx.load(str(model)).graph
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    # nodes in topological order: walk backwards so each node's "reaches a weight layer" is known from below
    feeds_weight: dict[int, bool] = {}
    for node in reversed(graph.node):
        feeds_weight[id(node)] = any(consumer.op_type in WEIGHT_OPS or feeds_weight.get(id(consumer), False)
                                     for name in node.output for consumer in consumers.get(name, []))
    return [node.output[0] for node in graph.node if node.op_type in WEIGHT_OPS and not feeds_weight[id(node)]]


def with_float_outputs(model: Path, tensors: Sequence[str], out: Path) -> Path:
    """``model`` with ``tensors`` (float32 tensors it computes) as its only outputs, written to ``out``."""
    loaded = onnx.load(str(model))
    produced = {name for node in loaded.graph.node for name in node.output}
    missing = [name for name in tensors if name not in produced]
    if missing:
        raise ValueError(f"{model}: no tensor {missing[0]!r} (of {len(missing)} missing) to compare; the "
                         "derivation renamed it")
    del loaded.graph.output[:]
    loaded.graph.output.extend(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None)
                               for name in tensors)
    onnx.save(loaded, str(out))
    return out


def outputs_nmse(float_model: Path, derived: Path, feeds: Sequence[dict[str, np.ndarray]],
                 tensors: Sequence[str] | None = None) -> list[float]:
    """Per model output, the NMSE of ``derived``'s outputs to ``float_model``'s summed over ``feeds``;
    ``tensors``: these float tensors of both graphs instead of the outputs (:func:`network_outputs`)."""
    from harness.runtime import make_session

    if tensors:
        with tempfile.TemporaryDirectory(prefix="outputs-nmse-") as folder:
            return outputs_nmse(with_float_outputs(float_model, tensors, Path(folder) / "float.onnx"),
                                with_float_outputs(derived, tensors, Path(folder) / "derived.onnx"), feeds)
    reference, test = make_session(str(float_model)), make_session(str(derived))
    errors: list[float] = []
    norms: list[float] = []
    for feed in feeds:
        want, got = reference.run(None, feed), test.run(None, feed)
        if not errors:
            errors, norms = [0.0] * len(want), [0.0] * len(want)
        for k, (w, g) in enumerate(zip(want, got)):
            errors[k] += float(np.sum((np.float64(g) - w) ** 2))
            norms[k] += float(np.sum(np.float64(w) ** 2))
    return [e / n if n else 0.0 for e, n in zip(errors, norms)]


def output_nmse(float_model: Path, derived: Path, feeds: Sequence[dict[str, np.ndarray]]) -> float:
    """The largest, over the model's outputs, of :func:`outputs_nmse`."""
    return max(outputs_nmse(float_model, derived, feeds))


def sensitivity_order(source: Path, quantized: Path, feeds: Sequence[dict[str, np.ndarray]]) -> list[str]:
    """The quantized nodes, most sensitive first: onnxruntime's QDQ debugging tools (qdq_loss_debug) run the float
    and the QDQ model on the feeds and give each activation's signal-to-quantization-noise ratio against the float
    model's (``xmodel_err``, dB); a node ranks by the dB its stage loses (SQNR of its inputs minus that of its
    output: the noise it adds itself, not what it inherits), the largest loss first."""
    from onnxruntime.quantization.qdq_loss_debug import (
        collect_activations, compute_activation_error, create_activation_matching,
        modify_model_output_intermediate_tensors,
    )

    with tempfile.TemporaryDirectory(prefix="sensitivity-") as folder:
        augmented = {}
        for name, path in (("float", source), ("qdq", quantized)):
            augmented[name] = Path(folder) / f"{name}.onnx"
            modify_model_output_intermediate_tensors(str(path), str(augmented[name]))
        float_acts = collect_activations(str(augmented["float"]), feed_reader(feeds))
        qdq_acts = collect_activations(str(augmented["qdq"]), feed_reader(feeds))
    errors = compute_activation_error(create_activation_matching(qdq_acts, float_acts))
    graph = onnx.load(str(source)).graph
    producer = {output: node for node in graph.node for output in node.output}
    sqnr = {name: err["xmodel_err"] for name, err in errors.items() if "xmodel_err" in err}
    sqnr.update({i.name: math.inf for i in graph.input})  # the model's input: exact in both models

    def upstream(tensor: str) -> float:
        """The SQNR of the nearest matched tensor at or above ``tensor`` (through unmatched nodes)."""
        seen = set()
        while tensor not in sqnr and tensor in producer and tensor not in seen:
            seen.add(tensor)
            node = producer[tensor]
            tensor = node.input[0] if node.input else tensor
        return sqnr.get(tensor, math.inf)

    # each matched activation: the dB of SQNR lost from its producer's inputs to it, i.e. the noise this stage
    # adds to what it was given; the stages that add most go first
    losses = []
    for tensor, value in sqnr.items():
        if tensor in producer:
            node = producer[tensor]
            given = min([upstream(i) for i in node.input if i] or [math.inf])
            losses.append((-(min(given, 200.0) - value), tensor))
    order: list[str] = []
    for _, tensor in sorted(losses):
        node = producer[tensor]
        # QDQ sits after a fused activation (Conv -> Relu): keeping the Relu in float keeps its Conv too
        group = [node]
        if node.op_type not in WEIGHT_OPS and node.input and node.input[0] in producer:
            group.insert(0, producer[node.input[0]])
        order += [n.name for n in group if n.name not in order]
    return order


def quantize_accuracy_aware(model: Path, out: Path, calibration: Sequence[dict[str, np.ndarray]],
                            max_output_nmse: float, calibrate: str = "percentile",
                            op_types: Sequence[str] | None = None) -> Derived:
    """Static QDQ quantization that keeps the most sensitive nodes in float until the outputs' NMSE to FP32 on
    the calibration feeds is at most ``max_output_nmse``: 0, 1, 2, 4, ... nodes of :func:`sensitivity_order`
    excluded (``nodes_to_exclude`` of onnxruntime's quantizer) until one count meets the bound, then bisection to
    the fewest that do (the outputs' NMSE need not fall monotonically with the count; the search trusts it to).
    ``op_types``: as :func:`quantize`."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    if not calibration:
        raise ValueError("accuracy-aware quantization needs calibration data: give --calibration DIR")
    if not max_output_nmse > 0:
        raise ValueError(f"--accuracy-aware {max_output_nmse}: give the largest output NMSE to FP32 allowed (> 0)")
    prepared, done = prepare_model(model, opset=None)
    if (done["opset"] or 13) < 13:
        prepared, done = prepare_model(prepared, opset=13)
    method = CalibrationMethod.Percentile if calibrate == "percentile" else CalibrationMethod.MinMax
    with tempfile.TemporaryDirectory(prefix="quantize-aware-") as folder:
        source = Path(folder) / "prepared.onnx"
        save_prepared(prepared, source)

        def attempt(excluded: list[str]) -> tuple[Path, float]:
            target = Path(folder) / f"quantized-{len(excluded)}.onnx"
            quantize_static(str(source), str(target), feed_reader(calibration), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, calibrate_method=method,
                            nodes_to_exclude=excluded, op_types_to_quantize=list(op_types) if op_types else None)
            return target, output_nmse(source, target, calibration)

        target, nmse = attempt([])
        trail = [(0, nmse)]
        order = sensitivity_order(source, target, calibration) if nmse > max_output_nmse else []
        best, failed, count = (0, target, nmse) if nmse <= max_output_nmse else None, 0, 1
        while best is None and order:  # doubling: 1, 2, 4, ... nodes in float
            count = min(count, len(order))
            target, nmse = attempt(order[:count])
            trail.append((count, nmse))
            if nmse <= max_output_nmse:
                best = (count, target, nmse)
            elif count == len(order):
                break
            else:
                failed, count = count, count * 2
        if best is None:
            raise ValueError(f"{model}: even with every quantized node kept in float the outputs' NMSE is {nmse:.3g} "
                             f"> {max_output_nmse}; the bound cannot be met by quantization")
        while best[0] - failed > 1:  # bisection: the fewest float nodes of the order that meet the bound
            middle = (best[0] + failed) // 2
            target, nmse = attempt(order[:middle])
            trail.append((middle, nmse))
            if nmse <= max_output_nmse:
                best = (middle, target, nmse)
            else:
                failed = middle
        count, target, nmse = best
        data = target.read_bytes()
        atomic_write(Path(out), lambda handle: handle.write(data))
    excluded = order[:count]
    return Derived(Path(out), "qdq-aware", {"calibration_feeds": len(calibration), "calibrate": calibrate,
                                            "max_output_nmse": max_output_nmse, "output_nmse": nmse,
                                            "float_nodes": excluded, "trail": trail, "prepared": done})
