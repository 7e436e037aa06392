"""Offline speech synthesis with espeak-ng (Debian package ``espeak-ng``) plus seeded noise.

espeak-ng writes 22.05 kHz 16-bit WAV to stdout; we resample to 16 kHz (the LibriSpeech/wav2vec2 rate).
Voices are "<language>+<variant>" (``espeak-ng --voices=en``; variants in espeak-ng-data/voices/!v).
"""
from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass

import numpy as np
import torch
import torchaudio.functional as AF

SAMPLE_RATE = 16_000


@dataclass(frozen=True)
class Voice:
    language: str  # e.g. "en-us"
    variant: str  # e.g. "m3"; "" for the language's default voice
    speed_wpm: int  # espeak-ng -s
    pitch: int  # espeak-ng -p, 0..99

    @property
    def name(self) -> str:
        return f"{self.language}+{self.variant}" if self.variant else self.language


def espeak_unavailable_reason() -> str | None:
    if shutil.which("espeak-ng") is None:
        return "espeak-ng is not installed (Debian/Ubuntu: apt-get install -y espeak-ng)"
    return None


def synthesize(text: str, voice: Voice) -> np.ndarray:
    """Float32 waveform in [-1, 1] at 16 kHz of ``text`` spoken by ``voice``."""
    reason = espeak_unavailable_reason()
    if reason:
        raise RuntimeError(reason)
    cmd = ["espeak-ng", "-v", voice.name, "-s", str(voice.speed_wpm), "-p", str(voice.pitch), "--stdout", text]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"espeak-ng failed for voice {voice.name!r}: {proc.stderr.decode(errors='replace').strip()}")
    # espeak-ng streams WAV with a placeholder length in its header; read frames up to the end of the data.
    with wave.open(io.BytesIO(proc.stdout)) as wav:
        rate = wav.getframerate()
        raw = wav.readframes(len(proc.stdout))
    samples = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    audio = AF.resample(torch.from_numpy(samples), rate, SAMPLE_RATE).numpy()
    return np.clip(audio, -1.0, 1.0).astype(np.float32)


def add_noise(audio: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """``audio`` plus white Gaussian noise at ``snr_db`` relative to the speech power (non-silent part)."""
    active = audio[np.abs(audio) > 1e-3]
    power = float(np.mean(active**2)) if active.size else 1e-6
    noise = rng.standard_normal(audio.shape).astype(np.float32) * np.float32(np.sqrt(power / 10 ** (snr_db / 10)))
    return np.clip(audio + noise, -1.0, 1.0).astype(np.float32)
