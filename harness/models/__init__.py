"""Architecture builders: each registered model is a function returning the path of a cached ONNX file.

A new model is one module here with ``@MODELS.register("name")`` on a ``() -> Path`` function that builds (once,
through :func:`harness.cache.cached_path`) and returns its ONNX file. Weights are seeded random where trained
weights cannot be downloaded; the architecture, node names and tensor shapes are what the builders vouch for.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from harness.registry import Registry, import_submodules

ModelBuilder = Callable[[], Path]

MODELS: Registry[ModelBuilder] = Registry("model")


def model_path(name: str) -> Path:
    """The cached ONNX file of a registered model (built on first use)."""
    return MODELS.get(name)()


def model_file(name: str, source: str, data_dir: Path | None) -> Path:
    """``source="built"``: the registered model; ``"user"``: the user's own ``<name>.onnx`` under the data
    directory, or FileNotFoundError saying what to provide."""
    if source == "built":
        return model_path(name)
    if source != "user":
        raise ValueError(f"model source {source!r}: use 'built' or 'user'")
    if data_dir is None:
        raise FileNotFoundError(f"user model: pass --data-dir DIR containing {name}.onnx")
    path = Path(data_dir) / f"{name}.onnx"
    if not path.is_file():
        raise FileNotFoundError(f"user model: put your exported {name} model at {path}")
    return path


import_submodules(__name__)
