#!/usr/bin/env python3
"""Synthesize the embedded ASR corpus offline with espeak-ng (apt-get install -y espeak-ng).

  train: clean utterances from the training voices -> one .npz (int16 audio, offsets, transcripts, voices);
         noise is added on the fly by scripts/train_asr_small.py.
  eval:  held-out utterances in LibriSpeech layout (<out>/LibriSpeech/test-clean/<spk>/<chapter>/...flac and
         <spk>-<chapter>.trans.txt), spoken by voice variants absent from training, with seeded
         white noise at 8-20 dB SNR, plus manifest.json describing each utterance.
Everything is seeded: the same espeak-ng version gives the same bytes.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.asr import grammar  # noqa: E402
from harness.asr.synthesis import SAMPLE_RATE, Voice, add_noise, synthesize  # noqa: E402

TRAIN_LANGUAGES = ("en-us", "en-gb", "en-gb-x-rp", "en-gb-x-gbclan")
TRAIN_VARIANTS = ("", "m1", "m3", "m5", "m7", "f1", "f3", "f5", "klatt", "klatt3")
# Held out: voice variants never heard in training, over the training accents (unseen accents such as
# en-gb-scotland gave ~70% WER with this 1 M-parameter model: a test set that only measures failure).
EVAL_LANGUAGES = TRAIN_LANGUAGES
EVAL_VARIANTS = ("m2", "m4", "m6", "f2", "f4", "klatt2")
TRAIN_SEED, EVAL_SEED = 1, 2
EVAL_SNR_DB = (8.0, 20.0)
TRAIN_COUNT = 4000
# The evaluation sentences exclude the first 8000 training-grammar sentences (a superset of TRAIN_COUNT), so a
# larger training run never overlaps the committed evaluation set.
EVAL_EXCLUDES_FIRST = 8000


def random_voice(rng: random.Random, languages: tuple[str, ...], variants: tuple[str, ...]) -> Voice:
    return Voice(rng.choice(languages), rng.choice(variants), rng.randint(125, 195), rng.randint(25, 75))


def build_train(out: Path, count: int) -> None:
    rng = random.Random(TRAIN_SEED)
    texts = grammar.sentences(count, TRAIN_SEED)
    chunks, voices = [], []
    for i, text in enumerate(texts):
        voice = random_voice(rng, TRAIN_LANGUAGES, TRAIN_VARIANTS)
        chunks.append(np.round(synthesize(text, voice) * 32767).astype(np.int16))
        voices.append(voice.name)
        if i % 500 == 0:
            print(f"train {i}/{count}", flush=True)
    offsets = np.cumsum([0] + [len(c) for c in chunks]).astype(np.int64)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=out.parent, suffix=".npz", delete=False) as tmp:
        np.savez(tmp, audio=np.concatenate(chunks), offsets=offsets, texts=np.array(texts), voices=np.array(voices))
    Path(tmp.name).replace(out)
    hours = offsets[-1] / SAMPLE_RATE / 3600
    print(f"wrote {out}: {count} utterances, {hours:.2f} h")


def build_eval(out: Path, count: int) -> None:
    import soundfile as sf

    train_texts = set(grammar.sentences(EVAL_EXCLUDES_FIRST, TRAIN_SEED))
    texts = grammar.sentences(count, EVAL_SEED, exclude=train_texts)
    rng = random.Random(EVAL_SEED)
    noise_rng = np.random.default_rng(EVAL_SEED)
    manifest = []
    per_voice: dict[tuple[int, int], list[str]] = {}
    for i, text in enumerate(texts):
        voice = random_voice(rng, EVAL_LANGUAGES, EVAL_VARIANTS)
        snr = round(rng.uniform(*EVAL_SNR_DB), 1)
        audio = add_noise(synthesize(text, voice), snr, noise_rng)
        speaker = 100 + EVAL_LANGUAGES.index(voice.language) * 10 + EVAL_VARIANTS.index(voice.variant)
        chapter = 1
        utt_id = f"{speaker}-{chapter}-{i:04d}"
        folder = out / "LibriSpeech" / "test-clean" / str(speaker) / str(chapter)
        folder.mkdir(parents=True, exist_ok=True)
        sf.write(folder / f"{utt_id}.flac", np.round(audio * 32767).astype(np.int16), SAMPLE_RATE, subtype="PCM_16")
        per_voice.setdefault((speaker, chapter), []).append(f"{utt_id} {text.upper()}")
        manifest.append({"id": utt_id, "voice": voice.name, "speed_wpm": voice.speed_wpm, "pitch": voice.pitch,
                         "snr_db": snr, "text": text.upper()})
    for (speaker, chapter), lines in per_voice.items():
        path = out / "LibriSpeech" / "test-clean" / str(speaker) / str(chapter) / f"{speaker}-{chapter}.trans.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    espeak = subprocess.run(["espeak-ng", "--version"], capture_output=True, text=True).stdout.strip()
    (out / "manifest.json").write_text(json.dumps({"espeak_ng": espeak, "utterances": manifest}, indent=1) + "\n")
    print(f"wrote {count} utterances to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("split", choices=["train", "eval"])
    parser.add_argument("--out", type=Path, required=True, help="train: .npz file; eval: dataset root folder")
    parser.add_argument("--count", type=int, default=None, help=f"utterances (train {TRAIN_COUNT}, eval 120)")
    args = parser.parse_args()
    if args.split == "train":
        build_train(args.out, args.count or TRAIN_COUNT)
    else:
        build_eval(args.out, args.count or 120)
