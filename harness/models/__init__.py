"""Architecture builders: each registered model is a function returning the path of a cached ONNX file.

A new model is one module here with ``@MODELS.register("<architecture>_seeded")`` on a ``() -> Path`` function
that builds (once, through :func:`harness.files.cached_path`) and returns its ONNX file. Weights are seeded
random where trained weights cannot be downloaded; the architecture, node names and tensor shapes are what the
builders vouch for.

Names follow references/assets.yaml: ``ssd_resnet_seeded`` is the built architecture (origin ``built``),
``ssd_resnet`` the user's trained file under --data-dir (origin ``user-provided``; a detector in
harness.detection.detectors). :func:`model_file` picks one of the two for an architecture.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from harness.registry import Registry, import_submodules

ModelBuilder = Callable[[], Path]

MODELS: Registry[ModelBuilder] = Registry("model")
SEEDED_SUFFIX = "_seeded"


def model_path(name: str) -> Path:
    """The cached ONNX file of a registered model (built on first use), e.g. ``model_path("ssd_resnet_seeded")``."""
    return MODELS.get(name)()


def model_file(architecture: str, source: str, data_dir: Path | None) -> Path:
    """The ONNX file of ``architecture`` (``ssd_resnet``, ``retinanet``) from ``source``: ``"built"`` is the
    registered ``<architecture>_seeded`` builder; ``"user"`` is the manifest asset ``<architecture>`` under
    --data-dir, or :class:`harness.assetstore.paths.AssetMissing` (a FileNotFoundError) saying where to put it."""
    if source == "built":
        return model_path(architecture + SEEDED_SUFFIX)
    if source != "user":
        raise ValueError(f"model source {source!r}: use 'built' or 'user'")
    from harness.assetstore.paths import require_asset

    return require_asset(architecture, data_dir)


import_submodules(__name__)
