"""torchaudio's ASR bundles (WAV2VEC2_ASR_BASE_960H, HUBERT_ASR_LARGE) without any download.

The weight file a bundle needs (e.g. ``wav2vec2_fairseq_base_ls960_asr_ls960.pth``) is looked up in
``--data-dir`` and in the torch hub cache (``<torch.hub.get_dir()>/checkpoints``); only when it is there is
``bundle.get_model(dl_kwargs={"model_dir": ...})`` called, which then loads the local file.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torchaudio


def bundle(name: str):
    try:
        return getattr(torchaudio.pipelines, name)
    except AttributeError:
        raise ValueError(f"torchaudio.pipelines has no bundle {name!r}") from None


def weight_file_name(bundle_name: str) -> str:
    return Path(bundle(bundle_name)._path).name


def weight_search_dirs(data_dir: Path | None) -> list[Path]:
    dirs = [Path(data_dir)] if data_dir else []
    return dirs + [Path(torch.hub.get_dir()) / "checkpoints"]


def find_weights(bundle_name: str, data_dir: Path | None) -> Path | None:
    for folder in weight_search_dirs(data_dir):
        candidate = folder / weight_file_name(bundle_name)
        if candidate.is_file():
            return candidate
    return None


def missing_weights_reason(bundle_name: str, data_dir: Path | None) -> str | None:
    if find_weights(bundle_name, data_dir):
        return None
    where = " or ".join(str(d) for d in weight_search_dirs(data_dir))
    hint = "" if data_dir else " (or pass --data-dir DIR holding it)"
    return (f"{bundle_name} weights not found: provide {weight_file_name(bundle_name)} "
            f"(from https://download.pytorch.org/torchaudio/models/) in {where}{hint}")


def untrained_model(bundle_name: str) -> torch.nn.Module:
    """The bundle's architecture with random weights (no file needed)."""
    return torchaudio.models.wav2vec2_model(**bundle(bundle_name)._params)


def pretrained_model(bundle_name: str, data_dir: Path | None) -> torch.nn.Module:
    path = find_weights(bundle_name, data_dir)
    if path is None:
        raise FileNotFoundError(missing_weights_reason(bundle_name, data_dir))
    # The file exists in model_dir, so torch.hub loads it and never touches the network.
    return bundle(bundle_name).get_model(dl_kwargs={"model_dir": str(path.parent), "progress": False}).eval()
