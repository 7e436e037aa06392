"""LibriSpeech in its standard layout: <root>/LibriSpeech/<subset>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac
with one <spk>-<chapter>.trans.txt per chapter (lines ``<utterance-id> <TRANSCRIPT>``).

The reader checks the pairing up front (a transcript line without audio or audio without a transcript line
is an error naming the file), so a WER is never computed over a silently partial set.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.datasets import DATASETS

SUBSETS = ("test-clean", "dev-clean", "test-other", "dev-other")


class DatasetError(ValueError):
    """A data set on disk that cannot be used as it is."""


@dataclass(frozen=True)
class Utterance:
    utt_id: str
    audio_path: Path
    transcript: str


def read_transcripts(path: Path) -> dict[str, str]:
    """``{utterance-id: TEXT}`` of a trans.txt file; malformed or duplicate lines are errors."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"cannot read transcript file {path}: {exc}") from exc
    out: dict[str, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=1)
        utt_id, text = parts[0], parts[1] if len(parts) > 1 else ""
        if utt_id in out:
            raise DatasetError(f"{path}:{number}: utterance id {utt_id} appears twice")
        out[utt_id] = text
    return out


def librispeech_root(data_dir: Path | None) -> Path:
    """The folder holding ``LibriSpeech/<subset>`` under ``--data-dir``, as references/assets.yaml lays it out
    (``librispeech_test_clean`` provides ``librispeech/LibriSpeech/test-clean``)."""
    from harness.assetstore.paths import asset_path

    return asset_path("librispeech_test_clean", data_dir).parent.parent


def subset_dir(root: Path, subset: str) -> Path:
    """The folder of ``subset`` under ``root`` (``root`` may hold LibriSpeech/ or be LibriSpeech/ itself)."""
    if subset not in SUBSETS:
        raise DatasetError(f"unknown LibriSpeech subset {subset!r}; known: {', '.join(SUBSETS)}")
    for candidate in (Path(root) / "LibriSpeech" / subset, Path(root) / subset):
        if candidate.is_dir():
            return candidate
    raise DatasetError(f"LibriSpeech {subset} not found under {root}: provide {Path(root) / 'LibriSpeech' / subset} "
                       f"(unpack {subset}.tar.gz from https://www.openslr.org/12 into {root})")


class LibriSpeechSet:
    """The utterances of one subset, sorted by id (deterministic order on any file system)."""

    def __init__(self, root: Path, subset: str = "test-clean") -> None:
        self.root, self.subset = Path(root), subset
        folder = subset_dir(self.root, subset)
        audio = {p.stem: p for p in folder.glob("*/*/*.flac")}
        transcripts: dict[str, tuple[str, Path]] = {}
        for trans in sorted(folder.glob("*/*/*.trans.txt")):
            for utt_id, text in read_transcripts(trans).items():
                transcripts[utt_id] = (text, trans)
        for utt_id, (_, trans) in sorted(transcripts.items()):
            if utt_id not in audio:
                raise DatasetError(f"{trans}: transcript of {utt_id} has no audio file "
                                   f"{trans.parent / (utt_id + '.flac')}")
        for utt_id, path in sorted(audio.items()):
            if utt_id not in transcripts:
                raise DatasetError(f"{path}: audio without a transcript line in "
                                   f"{path.parent / ('-'.join(utt_id.split('-')[:2]) + '.trans.txt')}")
        if not audio:
            raise DatasetError(f"{folder} holds no .flac files")
        self.utterances = [Utterance(u, audio[u], transcripts[u][0]) for u in sorted(audio)]

    def __len__(self) -> int:
        return len(self.utterances)

    def __iter__(self):
        return iter(self.utterances)


def load_audio(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 waveform and its sample rate; an unreadable file is an error naming it."""
    import soundfile as sf

    try:
        data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError, RuntimeError or OSError by case
        raise DatasetError(f"cannot read audio file {path}: {exc}") from exc
    if data.shape[0] == 0:
        raise DatasetError(f"audio file {path} is empty")
    return data.mean(axis=1).astype(np.float32), int(rate)


@DATASETS.register("librispeech-test-clean")
def librispeech_test_clean(data_dir: Path | None) -> LibriSpeechSet:
    """LibriSpeech test-clean under ``--data-dir`` (manifest asset ``librispeech_test_clean``)."""
    return LibriSpeechSet(librispeech_root(data_dir), "test-clean")


@DATASETS.register("librispeech-dev-clean")
def librispeech_dev_clean(data_dir: Path | None) -> LibriSpeechSet:
    """LibriSpeech dev-clean under ``--data-dir``: the validation partition of data-dependent optimisation."""
    return LibriSpeechSet(librispeech_root(data_dir), "dev-clean")


@DATASETS.register("embedded")
def embedded_speech(data_dir: Path | None = None) -> LibriSpeechSet:
    """The embedded ASR evaluation set (manifest asset ``asr_small_eval``: synthetic speech of held-out voices in
    LibriSpeech layout, made by scripts/synthesize_speech.py); ``data_dir`` is not read. Its name is the one the
    ASR results have always carried."""
    from harness.assetstore.paths import asset_path

    return LibriSpeechSet(asset_path("asr_small_eval"), "test-clean")
