"""onnxruntime sessions and execution-provider availability.

How a part of a split model runs on a device or network node (latency profiles) is harness.split.profiles';
the peak resident set of a run is harness.memory's.

``onnxruntime.get_available_providers()`` lists CUDA wherever the GPU wheel is installed, even without CUDA
libraries or a GPU; availability is therefore decided by creating a session and reading its providers.

A CUDA session also refuses to run compute nodes on the CPU without saying so. onnxruntime places a node on
its CPU provider when the CUDA provider has no kernel for it, logging one warning; the results would then
be labelled ``cuda`` while part of the graph ran on the CPU. The session records its provider assignment
(``session.record_ep_graph_assignment_info``, read with ``get_provider_graph_assignment_info()``) and
:func:`cpu_fallback_nodes` lists the CPU-placed nodes whose outputs are not integer tensors: onnxruntime
puts shape arithmetic (Shape, Gather/Concat/Unsqueeze on int64 shapes) on the CPU on purpose, so those are
allowed; any float-producing node on the CPU is a fallback and :func:`make_session` raises, naming the nodes.

The execution configuration of a run (``HARNESS_ORT_THREADS``, ``HARNESS_ORT_OPTIMIZATION``; the plugin's
``--ort-threads``/``--ort-optimization`` set them) is part of its platform (:func:`platform_label`): a run on
another configuration is gated against the reference platform's results under the cross-platform
tolerances, as a CUDA run is.
"""
from __future__ import annotations

import functools
import os
from typing import Any, Iterable

import onnxruntime as ort

PROVIDERS = {"cpu": ["CPUExecutionProvider"], "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"]}

# "extended" keeps split and unsplit inference bit-exact on CPU: the x86 layout transforms of "all" (NCHWc)
# reorder arithmetic differently on each side of a cut.
OPTIMIZATION_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def _tiny_model_bytes() -> bytes:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "probe",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model.SerializeToString()


@functools.lru_cache(maxsize=None)
def cuda_unavailable_reason() -> str | None:
    """``None`` when a CUDA execution provider can actually be created, else why not."""
    if "CUDAExecutionProvider" not in ort.get_available_providers():
        return f"onnxruntime {ort.__version__} has no CUDAExecutionProvider (install onnxruntime-gpu)"
    options = ort.SessionOptions()
    options.log_severity_level = 4
    # The failed CUDA library load is expected on CPU hosts and is logged by the default logger.
    ort.set_default_logger_severity(4)
    try:
        session = ort.InferenceSession(_tiny_model_bytes(), options, providers=PROVIDERS["cuda"])
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable here"
        return f"CUDAExecutionProvider cannot be created: {str(exc).splitlines()[0]}"
    finally:
        ort.set_default_logger_severity(2)
    if "CUDAExecutionProvider" not in session.get_providers():
        return "CUDAExecutionProvider is listed but a session falls back to CPU (no GPU or CUDA/cuDNN libraries)"
    return None


THREADS_VARIABLE = "HARNESS_ORT_THREADS"
OPTIMIZATION_VARIABLE = "HARNESS_ORT_OPTIMIZATION"
INTEGER_TYPES = ("tensor(int64)", "tensor(int32)", "tensor(int16)", "tensor(int8)", "tensor(uint8)", "tensor(bool)")


def execution_overrides() -> dict[str, Any]:
    """The run's execution configuration beyond the device: ``threads`` and ``optimization`` where set in the
    environment (each checked, so a typo is an error, not a silently different platform)."""
    overrides: dict[str, Any] = {}
    if (threads := os.environ.get(THREADS_VARIABLE)) is not None:
        if not threads.isdigit() or int(threads) < 1:
            raise ValueError(f"{THREADS_VARIABLE}={threads!r}: give a positive number of threads")
        if int(threads) != 1:
            overrides["threads"] = int(threads)
    if (level := os.environ.get(OPTIMIZATION_VARIABLE)) is not None:
        if level not in OPTIMIZATION_LEVELS:
            raise ValueError(f"{OPTIMIZATION_VARIABLE}={level!r}: use one of {', '.join(OPTIMIZATION_LEVELS)}")
        overrides["optimization"] = level
    return overrides


def platform_label(device: str) -> str:
    """The platform a result was measured on: the device plus any execution override, e.g. ``cpu`` or
    ``cpu[optimization=disable,threads=2]``. Results of one label are comparable bit for bit."""
    overrides = execution_overrides()
    if not overrides:
        return device
    return f"{device}[{','.join(f'{k}={v}' for k, v in sorted(overrides.items()))}]"


def on_reference_platform(device: str) -> bool:
    """Whether results on ``device`` are measured where references are recorded (CPU, no execution override):
    only there are split and unsplit inference asserted bit-exact (elsewhere the seed's NMSE bound holds)."""
    return device == "cpu" and not execution_overrides()


def execution_fingerprint(device: str) -> str:
    """What inference results depend on beyond the model and inputs: onnxruntime's version and the platform;
    part of every cache key of inferred tensors."""
    return f"ort{ort.__version__}-{platform_label(device)}"


def cpu_fallback_nodes(assignment: Iterable[Any], output_types: dict[str, list[str]]) -> list[str]:
    """``op_type name`` of each node that ``assignment`` (``get_provider_graph_assignment_info()``) places on
    the CPU provider and that is not shape arithmetic: a node whose outputs are all integer tensors (types from
    ``output_types``, node name -> ONNX output types) is onnxruntime's deliberate CPU placement; any other,
    including a node of the optimised graph that the model does not name, is a fallback."""
    fallback = []
    for subgraph in assignment:
        if subgraph.ep_name != "CPUExecutionProvider":
            continue
        for node in subgraph.get_nodes():
            types = output_types.get(node.name)
            if not types or any(t not in INTEGER_TYPES for t in types):
                fallback.append(f"{node.op_type} {node.name}")
    return fallback


def node_output_types(model: "str | bytes | os.PathLike[str]") -> dict[str, list[str]]:
    """Node name -> the ONNX types of its outputs (``tensor(int64)``, ``tensor(float)``; ``?`` where shape
    inference cannot tell)."""
    import onnx

    proto = onnx.load_from_string(model) if isinstance(model, bytes) else onnx.load(os.fspath(model))
    try:
        proto = onnx.shape_inference.infer_shapes(proto)
    except Exception:  # noqa: BLE001 - a graph shape inference cannot handle leaves its types unknown
        pass
    graph = proto.graph
    elem_types = {v.name: v.type.tensor_type.elem_type for v in (*graph.value_info, *graph.output, *graph.input)
                  if v.type.HasField("tensor_type")}
    elem_types.update({init.name: init.data_type for init in graph.initializer})

    def type_name(output: str) -> str:
        elem = elem_types.get(output, 0)
        return f"tensor({onnx.TensorProto.DataType.Name(elem).lower()})" if elem else "?"

    return {node.name: [type_name(out) for out in node.output] for node in graph.node}


def make_session(model: "str | bytes | os.PathLike[str]", device: str = "cpu", threads: int | None = None,
                 optimization: str = "all") -> ort.InferenceSession:
    """An inference session on ``cpu`` or ``cuda`` at a graph optimisation level; one thread by default.

    The run's execution overrides (:func:`execution_overrides`) replace ``threads`` and ``optimization``. A
    ``cuda`` session that would run compute nodes on the CPU raises RuntimeError naming them."""
    if device not in PROVIDERS:
        raise ValueError(f"unknown device {device!r}; use cpu or cuda")
    if optimization not in OPTIMIZATION_LEVELS:
        raise ValueError(f"unknown optimization level {optimization!r}; use one of {', '.join(OPTIMIZATION_LEVELS)}")
    if device == "cuda" and (reason := cuda_unavailable_reason()):
        raise RuntimeError(reason)
    overrides = execution_overrides()
    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = overrides.get("threads", threads if threads is not None else 1)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = OPTIMIZATION_LEVELS[overrides.get("optimization", optimization)]
    if device != "cpu":
        options.add_session_config_entry("session.record_ep_graph_assignment_info", "1")
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    session = ort.InferenceSession(model, options, providers=PROVIDERS[device])
    if device != "cpu":
        refuse_cpu_fallback(session, model, device)
    return session


def refuse_cpu_fallback(session: ort.InferenceSession, model: "str | bytes", device: str) -> None:
    """RuntimeError when ``session`` (created with assignment recording) runs compute nodes on the CPU."""
    fallback = cpu_fallback_nodes(session.get_provider_graph_assignment_info(), node_output_types(model))
    if fallback:
        shown = "; ".join(fallback[:8]) + (f"; ... ({len(fallback)} in all)" if len(fallback) > 8 else "")
        raise RuntimeError(f"the {device} session would run {len(fallback)} compute node(s) on the CPU provider "
                           f"(no {device} kernel): {shown}. Results labelled {device} would be partly CPU results; "
                           "run this model on --device cpu, or export it with operators the provider supports")
