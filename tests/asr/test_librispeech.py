"""LibriSpeech layout reader: pairing of audio and transcripts, unreadable audio, clear errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from harness.datasets.librispeech import DatasetError, LibriSpeechSet, load_audio

pytestmark = pytest.mark.asr
import soundfile as sf  # a declared dependency: absent, the run fails here


def make_set(root: Path, utterances: dict[str, str], audio_ids: list[str] | None = None) -> Path:
    rng = np.random.default_rng(0)
    for utt_id in audio_ids if audio_ids is not None else list(utterances):
        spk, chapter, _ = utt_id.split("-")
        folder = root / "LibriSpeech" / "test-clean" / spk / chapter
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{utt_id}.flac", (rng.standard_normal(1600) * 1000).astype(np.int16), 16000)
    for utt_id, text in utterances.items():
        spk, chapter, _ = utt_id.split("-")
        folder = root / "LibriSpeech" / "test-clean" / spk / chapter
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{spk}-{chapter}.trans.txt", "a", encoding="utf-8") as handle:
            handle.write(f"{utt_id} {text}\n")
    return root


def test_reads_standard_layout_sorted(tmp_path: Path) -> None:
    make_set(tmp_path, {"2-5-0001": "B", "1-3-0002": "HELLO WORLD", "1-3-0001": "A"})
    dataset = LibriSpeechSet(tmp_path, "test-clean")
    assert [(u.utt_id, u.transcript) for u in dataset] == [("1-3-0001", "A"), ("1-3-0002", "HELLO WORLD"),
                                                             ("2-5-0001", "B")]
    audio, rate = load_audio(dataset.utterances[0].audio_path)
    assert rate == 16000 and audio.dtype == np.float32 and audio.shape == (1600,)


def test_transcript_without_audio(tmp_path: Path) -> None:
    make_set(tmp_path, {"1-3-0001": "A", "1-3-0002": "B"}, audio_ids=["1-3-0001"])
    with pytest.raises(DatasetError, match=r"1-3\.trans\.txt: transcript of 1-3-0002 has no audio file .*1-3-0002\.flac"):
        LibriSpeechSet(tmp_path, "test-clean")


def test_audio_without_transcript(tmp_path: Path) -> None:
    make_set(tmp_path, {"1-3-0001": "A"}, audio_ids=["1-3-0001", "1-3-0007"])
    with pytest.raises(DatasetError, match=r"1-3-0007\.flac: audio without a transcript line"):
        LibriSpeechSet(tmp_path, "test-clean")


def test_unreadable_audio_names_the_file(tmp_path: Path) -> None:
    make_set(tmp_path, {"1-3-0001": "A"})
    bad = tmp_path / "LibriSpeech" / "test-clean" / "1" / "3" / "1-3-0001.flac"
    bad.write_bytes(b"not a flac file at all")
    with pytest.raises(DatasetError, match=r"cannot read audio file .*1-3-0001\.flac"):
        load_audio(bad)


def test_missing_subset_says_what_to_provide(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"LibriSpeech dev-clean not found .*LibriSpeech/dev-clean"):
        LibriSpeechSet(tmp_path, "dev-clean")


def test_duplicate_transcript_id(tmp_path: Path) -> None:
    make_set(tmp_path, {"1-3-0001": "A"})
    trans = tmp_path / "LibriSpeech" / "test-clean" / "1" / "3" / "1-3.trans.txt"
    trans.write_text("1-3-0001 A\n1-3-0001 B\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"1-3\.trans\.txt:2: utterance id 1-3-0001 appears twice"):
        LibriSpeechSet(tmp_path, "test-clean")
