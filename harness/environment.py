"""Description of the machine and software a run was made on, for results.json, reports and submissions.

``describe_environment()`` records what a cross-check needs to explain a difference between two companies'
numbers: CPU, GPU and driver (``nvidia-smi``; "none" when there is no NVIDIA GPU), whether onnxruntime can
create a CUDA session and which execution providers it offers, Python, platform, the versions of the
packages that produce numbers, the suite version (:func:`suite_version`) and the md5 of every asset of
references/assets.yaml (``assets verify`` states). Nothing here raises: an unreadable fact is recorded as
the reason it is unknown.
"""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from harness.files import REPO_ROOT

PACKAGES = ["ai4media-harness", "numpy", "scipy", "onnx", "onnxruntime-gpu", "onnxruntime", "nncodec", "torch",
            "torchvision", "torchaudio", "pycocotools", "jiwer", "matplotlib", "PyYAML", "pytest"]
# the facts a submission must carry (harness.submission checks them)
REQUIRED_KEYS = ("cpu", "gpu", "driver", "onnxruntime_providers", "packages", "suite")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _run(command: list[str], cwd: Path | None = None) -> str | None:
    """stdout of a short command, or None when it is absent or fails."""
    if shutil.which(command[0]) is None:
        return None
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def gpus() -> tuple[str, str]:
    """(GPU names with memory, driver version) from nvidia-smi; ("none", "none") without an NVIDIA GPU."""
    out = _run(["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"])
    if not out:
        return "none (nvidia-smi absent or failed)", "none"
    names, drivers = [], []
    for line in out.splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) >= 3:
            names.append(f"{parts[0]} ({parts[1]})")
            drivers.append(parts[2])
    return "; ".join(names) or out, ", ".join(sorted(set(drivers))) or "unknown"


def providers() -> list[str]:
    try:
        import onnxruntime

        return list(onnxruntime.get_available_providers())
    except Exception as exc:  # an unusable onnxruntime is a fact of the environment, not an error here
        return [f"onnxruntime unavailable: {exc}"]


def suite_version(root: Path = REPO_ROOT) -> dict[str, Any]:
    """The git commit of the checkout (and whether it has local changes), else the installed package version."""
    commit = _run(["git", "rev-parse", "HEAD"], cwd=root) if (root / ".git").exists() else None
    if commit:
        dirty = _run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=root)
        return {"git_commit": commit, "local_changes": bool(dirty)}
    try:
        return {"package_version": metadata.version("ai4media-harness")}
    except metadata.PackageNotFoundError:
        return {"package_version": "unknown"}


def asset_md5s(data_dir: Path | None = None) -> dict[str, dict[str, str]]:
    """``assets verify`` states as {name: {status, md5, detail}} (md5 empty when not computed)."""
    from harness.assetstore.manifest import load_manifest
    from harness.assetstore.verify import verify_assets

    try:
        statuses = verify_assets(load_manifest(), data_dir)
    except (OSError, ValueError) as exc:
        return {"_error": {"status": "unverified", "md5": "", "detail": str(exc)}}
    return {s.name: {"status": s.status, "md5": s.actual_md5 or "", "detail": "" if s.actual_md5 else s.message}
            for s in statuses}


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def describe_environment(data_dir: Path | None = None, with_assets: bool = True) -> dict[str, Any]:
    from harness.runtime import cuda_unavailable_reason

    cuda_reason = cuda_unavailable_reason()
    gpu, driver = gpus()
    described: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "gpu": gpu,
        "driver": driver,
        "cuda": "available" if cuda_reason is None else cuda_reason,
        "onnxruntime_providers": providers(),
        "packages": package_versions(),
        "suite": suite_version(),
    }
    if with_assets:
        described["assets"] = asset_md5s(data_dir)
    return described


def missing_facts(environment: dict[str, Any]) -> list[str]:
    """The REQUIRED_KEYS an environment lacks (or records empty)."""
    return [key for key in REQUIRED_KEYS if environment.get(key) in (None, "", [], {})]
