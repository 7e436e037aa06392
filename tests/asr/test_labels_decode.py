"""Label set and greedy CTC decoding (seed 001 Fig. 10.1.8-1)."""
from __future__ import annotations

import pytest
import torch
import torchaudio
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.asr.ctc_decode import greedy_decode
from harness.asr.labels import LABELS, encode_transcript

pytestmark = pytest.mark.asr


@pytest.mark.parametrize("bundle", ["WAV2VEC2_ASR_BASE_960H", "HUBERT_ASR_LARGE"])
def test_labels_are_the_bundles_labels(bundle: str) -> None:
    assert LABELS == getattr(torchaudio.pipelines, bundle).get_labels()


def one_hot(indices: list[int]) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(indices), len(LABELS)).float()


def test_greedy_decode_known_answer() -> None:
    # frames: H H - E L L - L O | | W - O R L D  -> "HELLO WORLD" (blank separates the double L)
    path = [LABELS.index(c) for c in "HH-ELL-LO||W-ORLD"]
    assert greedy_decode(one_hot(path), LABELS) == "HELLO WORLD"


def test_greedy_decode_matches_seed_script() -> None:
    # The seed's loop, verbatim, on random emissions.
    emissions = torch.randn(200, len(LABELS), generator=torch.Generator().manual_seed(0))
    idcs = torch.argmax(emissions, dim=-1)
    idcs = torch.unique_consecutive(idcs, dim=-1)
    idcs = [i for i in idcs if i != 0]
    expected = "".join([LABELS[i] for i in idcs]).replace("|", " ")
    assert greedy_decode(emissions, LABELS) == expected


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ'", min_size=1, max_size=8), min_size=1, max_size=6),
       st.integers(1, 3))
def test_decode_inverts_a_ctc_path(words: list[str], repeat: int) -> None:
    text = " ".join(words)
    path: list[int] = []
    for index in encode_transcript(text):
        if path and path[-1] == index:
            path.append(0)  # CTC needs a blank between repeated labels
        path += [index] * repeat
    assert greedy_decode(one_hot(path), LABELS) == text


def test_bad_emissions_and_transcripts_are_named() -> None:
    with pytest.raises(ValueError, match=r"emissions must be \[frames, 29\]"):
        greedy_decode(torch.zeros(3, 10), LABELS)
    with pytest.raises(ValueError, match="'1'.*not in the 28 output labels"):
        encode_transcript("HELLO 1")
