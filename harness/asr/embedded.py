"""The embedded default of the ASR scenario: the small CTC model (harness/assets/asr_small.*) and its held-out
synthetic evaluation set (harness/assets/asr_small_eval, LibriSpeech layout), both made by scripts/ in this repo."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch

from harness.asr.small_model import SmallCtcConfig, SmallCtcModel

ASSETS = Path(__file__).resolve().parent.parent / "assets"
WEIGHTS = ASSETS / "asr_small.pt"
CHECKSUM = ASSETS / "asr_small.md5"
INFO = ASSETS / "asr_small.json"
EVAL_ROOT = ASSETS / "asr_small_eval"


def small_config() -> SmallCtcConfig:
    return SmallCtcConfig(**json.loads(INFO.read_text(encoding="utf-8"))["config"]) if INFO.exists() else SmallCtcConfig()


def missing_asset_reason() -> str | None:
    for path in (WEIGHTS, CHECKSUM, INFO):
        if not path.is_file():
            return f"embedded ASR asset {path} is missing: run scripts/train_asr_small.py (see its docstring)"
    return None


def load_small_model(pre_trained: bool = True) -> SmallCtcModel:
    model = SmallCtcModel(small_config())
    if not pre_trained:
        return model.eval()
    reason = missing_asset_reason()
    if reason:
        raise FileNotFoundError(reason)
    want = CHECKSUM.read_text(encoding="utf-8").split()[0]
    got = hashlib.md5(WEIGHTS.read_bytes()).hexdigest()
    if got != want:
        raise ValueError(f"{WEIGHTS} has md5 {got}, {CHECKSUM.name} says {want}: the file is damaged or was "
                         "replaced without updating its checksum")
    model.load_state_dict(torch.load(WEIGHTS, map_location="cpu", weights_only=True))
    return model.eval()
