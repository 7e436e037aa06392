"""The one catalogue of models: every model the suite runs is an entry of references/assets.yaml, found by
:func:`model_path` with one rule, whatever its origin.

* ``built`` (``ssd_resnet_seeded``, ``retinanet_seeded``, ``posenet_seeded``): an architecture with seeded
  weights, exported once into the cache by the builder registered here under the entry's name
  (``@MODELS.register("<architecture>_seeded")`` on a ``(**options) -> Path`` function in one module of this
  package). Weights are seeded random where trained weights cannot be downloaded; the architecture, node names
  and tensor shapes are what the builders vouch for.
* ``shipped`` (``ssd_small``, ``ssd_small_cat90``, ``asr_small``): the repository file, its md5 checked against
  the sidecar the manifest names, so that nothing runs on a damaged or swapped file.
* ``user-provided`` / ``url`` (``ssd_resnet``, ``retinanet``, ``posenet``, the torchaudio weights): the file at
  the manifest's place under ``--data-dir``, or :class:`harness.assetstore.paths.AssetMissing` saying where to
  put it and how to obtain it (a FileNotFoundError, so a cell skips with that reason).

What a task adds to a model (pre- and post-processing of a detector, the evaluation of a bit-incremental
subject) lives with the task (harness.detection.detectors, harness.bitinc.subjects) and gets the file here. A
new model is one manifest entry, plus one builder module when the suite builds it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from harness.assetstore.manifest import MANIFEST_PATH
from harness.assetstore.paths import manifest_asset, verified_asset
from harness.registry import Registry, import_submodules

ModelBuilder = Callable[..., Path]

MODELS: Registry[ModelBuilder] = Registry("model")  # the builders of the built entries
SEEDED_SUFFIX = "_seeded"
MODEL_KINDS = ("model", "weights")


def model_path(name: str, data_dir: Path | None = None, manifest: Path = MANIFEST_PATH, **build_options: Any) -> Path:
    """The file of model ``name`` (a manifest entry of kind model or weights); ``build_options`` go to the
    builder of a built model (e.g. ``size=129`` for PoseNet) and are refused for any other origin."""
    asset = manifest_asset(name, manifest)
    if asset.kind not in MODEL_KINDS:
        raise ValueError(f"{name!r} is a {asset.kind} in references/assets.yaml, not a model")
    if asset.origin == "built":
        return MODELS.get(name)(**build_options)
    if build_options:
        raise ValueError(f"model {name!r} is {asset.origin}, not built: options {sorted(build_options)} do not apply")
    return verified_asset(name, data_dir, manifest)


def model_input_shapes(name: str, manifest: Path = MANIFEST_PATH) -> dict[str, tuple[int, ...]]:
    """The input shapes the catalogue declares for model ``name`` (``input_shape`` in references/assets.yaml;
    ``""`` names a single input), for a graph whose dimensions are symbolic; empty when it declares none."""
    shape = manifest_asset(name, manifest).input_shape
    if shape is None:
        return {}
    return {key: tuple(dims) for key, dims in (shape.items() if isinstance(shape, dict) else [("", shape)])}


def model_name(architecture: str, source: str) -> str:
    """The catalogue name of an architecture from a matrix's ``source``: ``built`` is the seeded build
    ``<architecture>_seeded``; ``user`` (under --data-dir) and ``asset`` (shipped) are the architecture's own
    entry."""
    if source == "built":
        return architecture + SEEDED_SUFFIX
    if source in ("user", "asset"):
        return architecture
    raise ValueError(f"model source {source!r}: use 'built', 'user' or 'asset'")


def model_file(architecture: str, source: str, data_dir: Path | None, **build_options: Any) -> Path:
    """:func:`model_path` of the architecture's entry for a matrix ``source``."""
    return model_path(model_name(architecture, source), data_dir, **build_options)


import_submodules(__name__)
