"""Latency profiles (seed 001 §10.2.2: a low- and a high-capability inference node): how one part of a split
model runs, from ``matrix/latency_profiles.yaml``: providers in order of preference, threads, optimisation
level, declared slowdown."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import onnxruntime as ort

from harness.matrix import MATRIX_DIR
from harness.runtime import OPTIMIZATION_LEVELS, PROVIDERS, cuda_unavailable_reason, make_session

PROFILES_PATH = MATRIX_DIR / "latency_profiles.yaml"


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
