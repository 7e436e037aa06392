"""Description of the machine a run was made on, for results.json and cross-check reports."""
from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

PACKAGES = ["numpy", "onnx", "onnxruntime-gpu", "onnxruntime", "nncodec", "torch", "torchvision",
            "torchaudio", "pycocotools", "jiwer"]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def describe_environment() -> dict[str, Any]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    from harness.runtime import cuda_unavailable_reason

    cuda_reason = cuda_unavailable_reason()
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cuda": "available" if cuda_reason is None else cuda_reason,
        "packages": versions,
    }
