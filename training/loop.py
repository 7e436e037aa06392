"""Pieces every training loop here repeats: atomic checkpoints (a stopped run resumes from the last complete
one), the md5 sidecar shipped beside a weights file, and the warm-up + cosine learning-rate schedule."""
from __future__ import annotations

import hashlib
import math
from functools import partial
from pathlib import Path

import torch

from harness.files import atomic_write, atomic_write_text


def save_checkpoint(state: object, path: Path) -> None:
    """``torch.save`` through a temporary file and a rename: a crash never leaves half a checkpoint."""
    atomic_write(path, partial(torch.save, state))


def write_md5_sidecar(path: Path) -> str:
    """``<path>.md5`` style sidecar (``md5sum`` format) beside a shipped file; returns the digest."""
    digest = hashlib.md5(Path(path).read_bytes()).hexdigest()
    atomic_write_text(sidecar_path(path), f"{digest}  {Path(path).name}\n")
    return digest


def sidecar_path(path: Path) -> Path:
    """Where the md5 of a shipped file is kept: ``x.onnx.md5`` beside ``x.onnx``; ``x.md5`` for ``x.pt``
    (the names references/assets.yaml lists)."""
    path = Path(path)
    return path.with_suffix(".md5") if path.suffix == ".pt" else path.with_name(path.name + ".md5")


def warmup_cosine_lr(step: int, total: int, base_lr: float, warmup: int) -> float:
    """Linear warm-up then cosine decay to 2% of the base rate."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base_lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))
