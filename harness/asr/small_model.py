"""The embedded default ASR model: log-mel front end + 2 conv layers + 2-layer BiGRU + linear CTC head.

About 1 M parameters (4 MB as float32), output at 33 frames/s over the 29 wav2vec2 labels, so the scenario
treats it exactly like the torchaudio bundles: ``emissions, lengths = model(waveform)``.
The front end's window and mel filterbank are non-persistent buffers: the state_dict (what model coding
compresses) holds only the learned parameters.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torchaudio.functional as AF
from torch import nn

from harness.asr.labels import LABELS


@dataclass(frozen=True)
class SmallCtcConfig:
    sample_rate: int = 16_000
    n_fft: int = 400
    hop_length: int = 160
    n_mels: int = 64
    conv_channels: int = 192
    gru_hidden: int = 160
    gru_layers: int = 2
    conv_stride: int = 3  # 100 frames/s -> 33.3 output frames/s, enough for ~17 characters/s of fast speech
    num_labels: int = len(LABELS)

    def to_dict(self) -> dict:
        return asdict(self)


class LogMel(nn.Module):
    """Per-utterance normalised log-mel spectrogram ``[B, n_mels, frames]`` (gain-invariant)."""

    def __init__(self, cfg: SmallCtcConfig) -> None:
        super().__init__()
        self.n_fft, self.hop = cfg.n_fft, cfg.hop_length
        self.register_buffer("window", torch.hann_window(cfg.n_fft), persistent=False)
        fb = AF.melscale_fbanks(cfg.n_fft // 2 + 1, 20.0, cfg.sample_rate / 2, cfg.n_mels, cfg.sample_rate)
        self.register_buffer("fb", fb, persistent=False)

    def forward(self, waveform: torch.Tensor, frames: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(waveform, self.n_fft, self.hop, window=self.window, return_complex=True).abs().pow(2)
        mel = torch.log(torch.matmul(spec.transpose(1, 2), self.fb) + 1e-6).transpose(1, 2)
        # Statistics over the valid frames only, so that padding in a batch does not change an utterance.
        valid = (torch.arange(mel.shape[2], device=mel.device)[None, :] < frames[:, None].to(mel.device))[:, None, :]
        count = valid.sum(dim=2, keepdim=True) * mel.shape[1]
        mean = (mel * valid).sum(dim=(1, 2), keepdim=True) / count
        var = (((mel - mean) * valid) ** 2).sum(dim=(1, 2), keepdim=True) / count
        return ((mel - mean) / (var.sqrt() + 1e-5)) * valid


class SmallCtcModel(nn.Module):
    def __init__(self, cfg: SmallCtcConfig = SmallCtcConfig()) -> None:
        super().__init__()
        self.cfg = cfg
        self.frontend = LogMel(cfg)
        c = cfg.conv_channels
        self.conv = nn.Sequential(
            nn.Conv1d(cfg.n_mels, c, kernel_size=5, stride=cfg.conv_stride, padding=2), nn.GELU(),
            nn.Conv1d(c, c, kernel_size=3, padding=1), nn.GELU(),
        )
        self.gru = nn.GRU(c, cfg.gru_hidden, num_layers=cfg.gru_layers, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * cfg.gru_hidden, cfg.num_labels)

    def frame_lengths(self, num_samples: torch.Tensor) -> torch.Tensor:
        return num_samples // self.cfg.hop_length + 1  # torch.stft with center=True

    def output_lengths(self, num_samples: torch.Tensor) -> torch.Tensor:
        return (self.frame_lengths(num_samples) - 1) // self.cfg.conv_stride + 1  # conv: kernel 5, padding 2

    def forward(self, waveform: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Emissions ``[B, frames, 29]`` (log-probabilities) and valid frame counts ``[B]``."""
        if waveform.dim() != 2:
            raise ValueError(f"waveform must be [batch, samples], got {tuple(waveform.shape)}")
        if lengths is None:
            lengths = torch.full((waveform.shape[0],), waveform.shape[1], dtype=torch.long)
        out_lengths = self.output_lengths(lengths)
        x = self.conv(self.frontend(waveform, self.frame_lengths(lengths))).transpose(1, 2)
        packed = nn.utils.rnn.pack_padded_sequence(x, out_lengths.cpu(), batch_first=True, enforce_sorted=False)
        y, _ = self.gru(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return torch.log_softmax(self.head(y), dim=-1), out_lengths
