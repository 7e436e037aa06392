"""The 29 character labels of torchaudio's wav2vec2/HuBERT ASR bundles, shared by the embedded model.

Index 0 is the CTC blank ("-"), index 1 the word separator ("|"); using the same set lets one greedy decoder
(seed 001 Fig. 10.1.8-1) serve every model of the scenario.
"""
from __future__ import annotations

LABELS: tuple[str, ...] = (
    "-", "|", "E", "T", "A", "O", "N", "I", "H", "S", "R", "D", "L", "U", "M",
    "W", "C", "F", "G", "Y", "P", "B", "V", "K", "'", "X", "J", "Q", "Z",
)
_INDEX = {label: i for i, label in enumerate(LABELS)}


def encode_transcript(text: str) -> list[int]:
    """Label indices of an upper-case transcript (spaces become "|")."""
    out = []
    for ch in text.strip().upper().replace(" ", "|"):
        if ch not in _INDEX or ch == "-":
            raise ValueError(f"character {ch!r} of transcript {text!r} is not in the 28 output labels "
                             "(A-Z, apostrophe, space)")
        out.append(_INDEX[ch])
    return out
