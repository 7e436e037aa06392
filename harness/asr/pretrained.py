"""torchaudio's ASR bundles (WAV2VEC2_ASR_BASE_960H, HUBERT_ASR_LARGE) without any download.

The weight file a bundle needs (e.g. ``wav2vec2_fairseq_base_ls960_asr_ls960.pth``) is looked up where
references/assets.yaml places it under ``--data-dir`` (``models/<file>``, the entry whose path ends in that
file name) and in the torch hub cache (``<torch.hub.get_dir()>/checkpoints``); only when it is there is
``bundle.get_model(dl_kwargs={"model_dir": ...})`` called, which then loads the local file.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torchaudio

from harness.assetstore.paths import MANIFEST_NAME, asset_path, asset_with_file_name


def bundle(name: str):
    try:
        return getattr(torchaudio.pipelines, name)
    except AttributeError:
        raise ValueError(f"torchaudio.pipelines has no bundle {name!r}") from None


def weight_file_name(bundle_name: str) -> str:
    return Path(bundle(bundle_name)._path).name


def weight_candidates(bundle_name: str, data_dir: Path | None) -> list[Path]:
    """Where the weights may be: the manifest's place under --data-dir, then the torch hub cache."""
    file_name = weight_file_name(bundle_name)
    found = [asset_path(asset_with_file_name(file_name).name, data_dir)] if data_dir else []
    return found + [Path(torch.hub.get_dir()) / "checkpoints" / file_name]


def find_weights(bundle_name: str, data_dir: Path | None) -> Path | None:
    return next((path for path in weight_candidates(bundle_name, data_dir) if path.is_file()), None)


def missing_weights_reason(bundle_name: str, data_dir: Path | None) -> str | None:
    if find_weights(bundle_name, data_dir):
        return None
    asset = asset_with_file_name(weight_file_name(bundle_name))
    where = " or ".join(str(p) for p in weight_candidates(bundle_name, data_dir))
    hint = "" if data_dir else f" (or pass --data-dir DIR holding DIR/{asset.path})"
    return (f"{bundle_name} weights not found: asset {asset.name!r} ({asset.path} under --data-dir, "
            f"{MANIFEST_NAME}; {asset.obtain}) expected at {where}{hint}")


def untrained_model(bundle_name: str) -> torch.nn.Module:
    """The bundle's architecture with random weights (no file needed)."""
    return torchaudio.models.wav2vec2_model(**bundle(bundle_name)._params)


def pretrained_model(bundle_name: str, data_dir: Path | None) -> torch.nn.Module:
    path = find_weights(bundle_name, data_dir)
    if path is None:
        raise FileNotFoundError(missing_weights_reason(bundle_name, data_dir))
    # The file exists in model_dir, so torch.hub loads it and never touches the network.
    return bundle(bundle_name).get_model(dl_kwargs={"model_dir": str(path.parent), "progress": False}).eval()
