"""The shipped weights bundle of the learnt feature coders (``learnt``, ``learnt-scalable``, ``pca``).

One file, ``harness/assets/feature_codecs_ssd_small.pt`` (asset ``feature_codecs_ssd_small`` of
references/assets.yaml, md5 checked on load), written by ``scripts/train_feature_codecs.py``: the cut tensor it
was trained for (name and shape, so that a coder refuses any other tensor instead of coding it with weights
trained elsewhere), and per variant its state dict with the entropy models' integer CDF tables already built.

Each variant carries a **weights digest**: the md5 over its tensors' names, dtypes, shapes and bytes in sorted
order, independent of how torch serialises them. A bitstream records the digest of the weights that wrote
it; the decoder refuses a stream whose digest is not its own (other weights would decode other features).
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

BUNDLE_ASSET = "feature_codecs_ssd_small"
BUNDLE_PATH = Path(__file__).resolve().parents[1] / "assets" / "feature_codecs_ssd_small.pt"


def variant_key(kind: str, **values: Any) -> str:
    """``learnt:prior=hyper,nr=16,lambda=0.01``: the coder family of a variant, as its spec names it."""
    text = ",".join(f"{'lambda' if k == 'lam' else k}={format_value(v)}" for k, v in values.items())
    return f"{kind}:{text}" if text else kind


#: buffers of CompressAI's GaussianConditional that ``update_scale_table`` rebuilds from the fixed scale table
#: alone (about 1.3 MB per entropy model at 64 scales up to 256): left out of the bundle, rebuilt on load
REBUILT_BUFFERS = ("gaussian_conditional._quantized_cdf", "gaussian_conditional._offset",
                   "gaussian_conditional._cdf_length")


def strip_rebuilt(state: dict) -> dict:
    """The state dict without the buffers the loader rebuilds (:data:`REBUILT_BUFFERS`)."""
    return {k: v for k, v in state.items() if not k.endswith(REBUILT_BUFFERS)}


def format_value(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _arrays(variant: dict, prefix: str = "") -> list[tuple[str, np.ndarray]]:
    out = []
    for key in sorted(variant):
        value = variant[key]
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _arrays(value, name + ".")
        elif hasattr(value, "detach"):
            out.append((name, value.detach().cpu().numpy()))
        elif isinstance(value, np.ndarray):
            out.append((name, value))
    return out


def weights_digest(variant: dict) -> str:
    """md5 over the variant's tensors (names, dtypes, shapes, bytes; sorted): what a bitstream records."""
    digest = hashlib.md5()
    for name, array in _arrays({k: v for k, v in variant.items() if k not in ("training", "digest")}):
        array = np.ascontiguousarray(array)
        digest.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def pca_basis(features: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean (C,) and the ``count`` leading principal directions (count, C) of the channel vectors of
    (N, C, H, W) features, one vector per position (float64 eigendecomposition, signs fixed so that each
    direction's largest component is positive: the same basis on every machine up to rounding)."""
    vectors = features.transpose(0, 2, 3, 1).reshape(-1, features.shape[1]).astype(np.float64)
    mean = vectors.mean(axis=0)
    covariance = np.cov(vectors - mean, rowvar=False)
    values, vecs = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1][:count]
    basis = vecs[:, order].T
    signs = np.sign(basis[np.arange(count), np.abs(basis).argmax(axis=1)])
    return mean.astype(np.float32), (basis * signs[:, None]).astype(np.float32)


@lru_cache(maxsize=2)
def load_bundle(path: Path | None = None) -> dict:
    """The bundle (md5-verified when it is the shipped asset); AssetMissing names the training script."""
    import torch

    if path is None:
        from harness.assetstore.paths import verified_asset
        path = verified_asset(BUNDLE_ASSET)
    return torch.load(path, map_location="cpu", weights_only=False)


def variant(family: str, tensor: str | None, shape: tuple[int, ...], path: Path | None = None) -> dict:
    """The variant ``family`` trained for cut tensor ``tensor`` of ``shape`` (batch first), or ValueError
    naming what the bundle holds."""
    bundle = load_bundle(path)
    # the decoder has no tensor name (a container entry's name is not part of the coding): shape only there
    if (tensor is not None and tensor != bundle["tensor"]) or tuple(shape[1:]) != tuple(bundle["shape"]):
        raise ValueError(f"learnt coder {family!r}: no weights for tensor {tensor!r} of shape {tuple(shape)}; "
                         f"the bundle was trained for {bundle['tensor']!r} {tuple(bundle['shape'])} "
                         f"(split {bundle['split']} of {bundle['detector']}); train others with "
                         "scripts/train_feature_codecs.py")
    if family not in bundle["variants"]:
        raise ValueError(f"learnt coder {family!r}: not trained; the bundle holds {', '.join(sorted(bundle['variants']))}")
    return bundle["variants"][family]
