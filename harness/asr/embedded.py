"""The embedded default of the ASR scenario: the small CTC model (manifest asset ``asr_small``: the weights, its
md5 sidecar and the model JSON beside it) and its held-out synthetic evaluation set (asset ``asr_small_eval``,
LibriSpeech layout), both made by scripts/ in this repo.

Where they are and which md5 the weights must have come from the manifest (references/assets.yaml through
:mod:`harness.assetstore`), as for every other asset, so that ``assets verify`` and this loader agree.
"""
from __future__ import annotations

import json
from pathlib import Path

import torch

from harness.asr.small_model import SmallCtcConfig, SmallCtcModel
from harness.assetstore import paths
from harness.models import model_path

WEIGHTS_ASSET = "asr_small"
EVAL_ASSET = "asr_small_eval"


def weights_path() -> Path:
    return paths.asset_path(WEIGHTS_ASSET)


def checksum_path() -> Path | None:
    """The md5 sidecar the manifest names for the weights (None if it names none)."""
    return paths.sidecar_path(paths.manifest_asset(WEIGHTS_ASSET))


def info_path() -> Path:
    """The model JSON (configuration, parameter count), written beside the weights by scripts/train_asr_small.py."""
    return weights_path().with_suffix(".json")


def eval_root() -> Path:
    return paths.asset_path(EVAL_ASSET)


def small_config() -> SmallCtcConfig:
    info = info_path()
    if not info.exists():
        return SmallCtcConfig()
    return SmallCtcConfig(**json.loads(info.read_text(encoding="utf-8"))["config"])


def missing_asset_reason() -> str | None:
    for path in (weights_path(), checksum_path(), info_path()):
        if path is not None and not path.is_file():
            return f"embedded ASR asset {path} is missing: run scripts/train_asr_small.py (see its docstring)"
    return None


def load_small_model(pre_trained: bool = True) -> SmallCtcModel:
    model = SmallCtcModel(small_config())
    if not pre_trained:
        return model.eval()
    reason = missing_asset_reason()
    if reason:
        raise FileNotFoundError(reason)
    weights = model_path(WEIGHTS_ASSET)  # the catalogue's one rule: a shipped file, md5-checked
    model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
    return model.eval()
