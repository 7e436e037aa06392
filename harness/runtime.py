"""onnxruntime sessions and execution-provider availability.

How a part of a split model runs on a device or network node (latency profiles) is harness.split.profiles';
the peak resident set of a run is harness.memory's.

``onnxruntime.get_available_providers()`` lists CUDA wherever the GPU wheel is installed, even without CUDA
libraries or a GPU; availability is therefore decided by creating a session and reading its providers.
"""
from __future__ import annotations

import functools
import os

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


def make_session(model: "str | bytes | os.PathLike[str]", device: str = "cpu", threads: int | None = None,
                 optimization: str = "all") -> ort.InferenceSession:
    """An inference session on ``cpu`` or ``cuda`` at a graph optimisation level; one thread by default."""
    if device not in PROVIDERS:
        raise ValueError(f"unknown device {device!r}; use cpu or cuda")
    if optimization not in OPTIMIZATION_LEVELS:
        raise ValueError(f"unknown optimization level {optimization!r}; use one of {', '.join(OPTIMIZATION_LEVELS)}")
    if device == "cuda" and (reason := cuda_unavailable_reason()):
        raise RuntimeError(reason)
    options = ort.SessionOptions()
    options.log_severity_level = 3
    threads = threads if threads is not None else int(os.environ.get("HARNESS_ORT_THREADS", "1"))
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = OPTIMIZATION_LEVELS[optimization]
    if isinstance(model, os.PathLike):
        model = os.fspath(model)
    return ort.InferenceSession(model, options, providers=PROVIDERS[device])
