"""Greedy CTC decoding exactly as seed 001 Fig. 10.1.8-1: argmax, collapse repeats, drop blank, "|" -> " "."""
from __future__ import annotations

from typing import Sequence

import torch


def greedy_decode(emissions: torch.Tensor, labels: Sequence[str], blank: int = 0) -> str:
    """Transcript of one utterance from its emissions ``[frames, num_labels]``."""
    if emissions.dim() != 2 or emissions.shape[-1] != len(labels):
        raise ValueError(f"emissions must be [frames, {len(labels)}], got {tuple(emissions.shape)}")
    idcs = torch.argmax(emissions, dim=-1)
    idcs = torch.unique_consecutive(idcs, dim=-1)
    idcs = [i for i in idcs.tolist() if i != blank]
    return "".join(labels[i] for i in idcs).replace("|", " ")
