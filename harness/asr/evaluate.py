"""Transcribe a LibriSpeech-layout set with a CTC model and score it: WER = sum(S+D+I) / sum(N) (seed 001 §10.1.7)."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Sequence

import jiwer
import torch
import torchaudio.functional as AF

from harness.asr.ctc_decode import greedy_decode
from harness.datasets.librispeech import LibriSpeechSet, load_audio


@dataclass(frozen=True)
class WerResult:
    wer: float
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    def to_dict(self) -> dict:
        return asdict(self)


def word_error_rate(references: Sequence[str], hypotheses: Sequence[str]) -> WerResult:
    """Corpus WER over all pairs (totals, not a mean of per-utterance rates), counted by jiwer."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    if not references:
        raise ValueError("no utterances to score")
    out = jiwer.process_words(list(references), list(hypotheses))
    n = out.hits + out.substitutions + out.deletions
    return WerResult((out.substitutions + out.deletions + out.insertions) / n,
                     out.substitutions, out.deletions, out.insertions, n)


@torch.inference_mode()
def transcribe_set(model: torch.nn.Module, dataset: LibriSpeechSet, labels: Sequence[str], device: str = "cpu",
                   sample_rate: int = 16_000) -> tuple[list[str], list[str]]:
    """(references, hypotheses) for every utterance, one at a time as in seed Fig. 10.1.8-1."""
    model.eval().to(device)
    refs, hyps = [], []
    for utt in dataset:
        audio, rate = load_audio(utt.audio_path)
        wave = torch.from_numpy(audio).reshape(1, -1)
        if rate != sample_rate:
            wave = AF.resample(wave, rate, sample_rate)
        emissions, _ = model(wave.to(device))
        hyps.append(greedy_decode(emissions[0].cpu(), labels))
        refs.append(utt.transcript)
    return refs, hyps


def timed_wer(model: torch.nn.Module, dataset: LibriSpeechSet, labels: Sequence[str], device: str = "cpu",
              sample_rate: int = 16_000) -> tuple[WerResult, float]:
    """WER of ``model`` on ``dataset`` and the wall time of the evaluation in seconds."""
    start = time.perf_counter()
    refs, hyps = transcribe_set(model, dataset, labels, device, sample_rate)
    return word_error_rate(refs, hyps), time.perf_counter() - start
