"""onnxruntime sessions, execution-provider availability, and latency profiles.

Latency profiles (:class:`LatencyProfile`, data in ``matrix/latency_profiles.yaml``) say how a part of a split
model runs: providers in order of preference, threads, optimisation level, declared slowdown. The peak
resident set of a session (:func:`reset_peak_rss`, :func:`peak_rss_since_reset`) is read in-process.

``onnxruntime.get_available_providers()`` lists CUDA wherever the GPU wheel is installed, even without CUDA
libraries or a GPU; availability is therefore decided by creating a session and reading its providers.
"""
from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# --- latency profiles (seed 001 §10.2.2: a low- and a high-capability inference node) ---------------------
PROFILES_PATH = Path(__file__).resolve().parent.parent / "matrix" / "latency_profiles.yaml"


class ProfileError(ValueError):
    """A latency-profile file or name that cannot be used: one readable line."""


@dataclass(frozen=True)
class LatencyProfile:
    """Where one part of a split model runs: onnxruntime providers in order of preference (the first one a
    session can be created for is used), intra-op threads (0 = onnxruntime's default, all cores), graph
    optimisation level, and a declared ``slowdown`` factor that multiplies the measured times (to emulate a
    phone-class CPU; 1.0 = as measured). Profiles are data: ``matrix/latency_profiles.yaml``."""

    name: str
    providers: tuple[str, ...] = ("cpu",)
    threads: int = 1
    optimization: str = "all"
    slowdown: float = 1.0
    description: str = ""

    @property
    def device(self) -> str:
        """The first provider of the list that works here (``cuda`` only where a CUDA session can be created)."""
        for provider in self.providers:
            if provider == "cpu" or cuda_unavailable_reason() is None:
                return provider
        raise ProfileError(f"profile {self.name!r}: none of {', '.join(self.providers)} works here "
                           f"({cuda_unavailable_reason()})")

    def label(self) -> str:
        threads = "all cores" if self.threads == 0 else f"{self.threads} thread(s)"
        return f"{self.name}: {self.device} {threads}, slowdown x{self.slowdown:g}"


def _profile(name: str, entry: Any, source: Path) -> LatencyProfile:
    if not isinstance(entry, dict):
        raise ProfileError(f"{source}: profile {name!r} must be a mapping")
    unknown = set(entry) - {"providers", "threads", "optimization", "slowdown", "description"}
    if unknown:
        raise ProfileError(f"{source}: profile {name!r} has unknown key(s) {', '.join(sorted(unknown))}")
    providers = tuple(entry.get("providers", ["cpu"]))
    bad = [p for p in providers if p not in PROVIDERS]
    if bad or not providers:
        raise ProfileError(f"{source}: profile {name!r}: providers must be among {', '.join(PROVIDERS)}")
    threads, slowdown = entry.get("threads", 1), entry.get("slowdown", 1.0)
    if not isinstance(threads, int) or threads < 0:
        raise ProfileError(f"{source}: profile {name!r}: threads must be an integer >= 0 (0 = all cores)")
    if not isinstance(slowdown, (int, float)) or slowdown <= 0:
        raise ProfileError(f"{source}: profile {name!r}: slowdown must be a number > 0")
    optimization = entry.get("optimization", "all")
    if optimization not in OPTIMIZATION_LEVELS:
        raise ProfileError(f"{source}: profile {name!r}: optimization must be one of {', '.join(OPTIMIZATION_LEVELS)}")
    return LatencyProfile(name, providers, threads, optimization, float(slowdown), str(entry.get("description", "")))


def load_profile_file(path: Path | None = None) -> dict[str, Any]:
    """The whole profiles file: ``profiles`` (name -> :class:`LatencyProfile`) and ``delivery`` (defaults of the
    delivery model: uplink bandwidths, downlink bandwidth, round-trip time)."""
    import yaml

    source = Path(path) if path is not None else PROFILES_PATH
    if not source.is_file():
        raise ProfileError(f"{source}: no latency-profile file; give a YAML like {PROFILES_PATH}")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ProfileError(f"{source}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("profiles"), dict):
        raise ProfileError(f"{source}: expected a mapping with a 'profiles' mapping")
    profiles = {name: _profile(name, entry, source) for name, entry in data["profiles"].items()}
    return {"profiles": profiles, "delivery": dict(data.get("delivery") or {}), "path": source}


def load_profile(name: str, path: Path | None = None) -> LatencyProfile:
    """Profile ``name`` of the profiles file; a clear error naming the known ones."""
    profiles = load_profile_file(path)["profiles"]
    if name not in profiles:
        raise ProfileError(f"unknown latency profile {name!r}; known: {', '.join(sorted(profiles))}")
    return profiles[name]


def profile_session(model: "str | bytes | os.PathLike[str]", profile: LatencyProfile) -> ort.InferenceSession:
    """A session of ``model`` as ``profile`` runs it."""
    return make_session(model, device=profile.device, threads=profile.threads, optimization=profile.optimization)


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def _trim_heap() -> None:
    import ctypes
    import ctypes.util

    try:
        ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the measurement may under-count, it is still a peak above a baseline


def reset_peak_rss() -> int | None:
    """Reset the kernel's resident-set high-water mark of this process (``/proc/self/clear_refs`` <- 5, Linux
    >= 4.0) and return the current resident set in bytes; None where that cannot be done.

    Why this and not tracemalloc: onnxruntime allocates weights and its arena in C++, which tracemalloc does
    not see. The peak resident set is what the seed's KPI "memory usage" means; measuring it in this process
    avoids one child process per part (import costs would dwarf the measurement). Memory freed earlier is
    first handed back to the kernel (glibc ``malloc_trim``), or a new session would reuse resident pages
    unseen."""
    _trim_heap()
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
            handle.write("5")
    except OSError:
        return None
    rss = _status_kib("VmRSS")
    return None if rss is None else rss * 1024


def peak_rss_since_reset(baseline: int | None) -> int | None:
    """Peak resident set (bytes) above ``baseline`` since :func:`reset_peak_rss`; None where not readable."""
    peak = _status_kib("VmHWM")
    return None if baseline is None or peak is None else max(0, peak * 1024 - baseline)
