"""The torch transforms of seed 003's learnt feature coders, on CompressAI's entropy models.

Seed 003 (Yao Wang, learnt compression for visual analytics on the edge), at a split point of a detector:

* **Task-side reduction and expansion.** A strided convolution reduces the cut feature map of C channels to
  N_r channels at half the resolution (``g_a``); a transposed convolution expands the decoded latent back to
  C channels for the task decoder (``g_s``). The cut features are ReLU outputs, so ``g_s`` ends in a ReLU.
* **Entropy model.** ``factorized``: CompressAI's ``EntropyBottleneck`` (Ballé 2016: a learnt, non-parametric
  density per channel); ``hyper``: a scale hyperprior (Ballé 2018: ``h_a`` of |y| gives side information z,
  coded by an entropy bottleneck, ``h_s`` of ẑ gives the Gaussian scales of y, coded by CompressAI's
  ``GaussianConditional``). The rate is R = -Σ log2 p(ŷ) with p a CDF difference, as both models compute it;
  CompressAI's range (rANS) coder writes the real bytes.
* **Scalable layers.** One task encoder for every rate: ``g_a`` gives L ordered layers of N_r channels; each
  layer has its own hyperprior and its own expansion; the server adds the expanded layers it has received and
  applies the final ReLU, so a stream cut after l layers decodes with the first l expansions.

Everything here is a plain ``nn.Module`` (training passes); the coders (``harness.coders.learnt``) own the
range coding, the weights, the bytes and determinism.
"""
from __future__ import annotations


import torch
from torch import nn

#: hidden width of the reduction / expansion transforms and of the hyperprior
HIDDEN = 64
HYPER = 32
#: CompressAI's default scale table bounds (compressai.models.google.get_scale_table)
SCALES_MIN, SCALES_MAX, SCALES_LEVELS = 0.11, 256, 64


def scale_table() -> torch.Tensor:
    return torch.exp(torch.linspace(torch.log(torch.tensor(SCALES_MIN)), torch.log(torch.tensor(float(SCALES_MAX))),
                                    SCALES_LEVELS))


class _Abs(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.abs(x)


def reduction(channels: int, nr: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(channels, HIDDEN, 3, padding=1), nn.ReLU(inplace=True),
                         nn.Conv2d(HIDDEN, nr, 3, stride=2, padding=1))


def expansion(nr: int, channels: int, final_relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ConvTranspose2d(nr, HIDDEN, 3, stride=2, padding=1, output_padding=1),
                               nn.ReLU(inplace=True), nn.Conv2d(HIDDEN, channels, 3, padding=1)]
    if final_relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def latent_codec(nr: int, prior: str) -> nn.Module:
    """CompressAI latent codec of the N_r-channel latent: factorized prior or scale hyperprior."""
    from compressai.entropy_models import EntropyBottleneck
    from compressai.latent_codecs import (
        EntropyBottleneckLatentCodec, GaussianConditionalLatentCodec, HyperLatentCodec, HyperpriorLatentCodec,
    )

    if prior == "factorized":
        return EntropyBottleneckLatentCodec(channels=nr)
    if prior != "hyper":
        raise ValueError(f"unknown prior {prior!r}; allowed: factorized, hyper")
    h_a = nn.Sequential(_Abs(), nn.Conv2d(nr, HYPER, 3, padding=1), nn.ReLU(inplace=True),
                        nn.Conv2d(HYPER, HYPER, 3, stride=2, padding=1))
    h_s = nn.Sequential(nn.ConvTranspose2d(HYPER, HYPER, 3, stride=2, padding=1, output_padding=1),
                        nn.ReLU(inplace=True), nn.Conv2d(HYPER, nr, 3, padding=1), nn.ReLU())
    return HyperpriorLatentCodec(latent_codec={
        "y": GaussianConditionalLatentCodec(scale_table=scale_table().tolist(), chunks=("scales",)),
        "hyper": HyperLatentCodec(entropy_bottleneck=EntropyBottleneck(HYPER), h_a=h_a, h_s=h_s),
    })


class FeatureCodecNet(nn.Module):
    """Reduction + entropy model + expansion of one feature map (seed 003's single-rate model)."""

    def __init__(self, channels: int, nr: int, prior: str) -> None:
        super().__init__()
        self.g_a, self.latent, self.g_s = reduction(channels, nr), latent_codec(nr, prior), expansion(nr, channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """Training pass: (reconstruction, likelihoods of every coded symbol)."""
        out = self.latent(self.g_a(x))
        return self.g_s(out["y_hat"]), list(out["likelihoods"].values())


class ScalableFeatureCodecNet(nn.Module):
    """Seed 003's scalable model: one task encoder, ``layers`` latents with a hyperprior and expansion each."""

    def __init__(self, channels: int, nr: int, layers: int) -> None:
        super().__init__()
        self.nr, self.layers = nr, layers
        self.g_a = reduction(channels, nr * layers)
        self.latents = nn.ModuleList(latent_codec(nr, "hyper") for _ in range(layers))
        self.g_s = nn.ModuleList(expansion(nr, channels, final_relu=False) for _ in range(layers))

    def split_layers(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        return torch.split(self.g_a(x), self.nr, dim=1)

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[list[torch.Tensor]]]:
        """Training pass: the reconstruction from the first l layers for l = 1..layers, and per-layer likelihoods."""
        recon, likelihoods, total = [], [], 0
        for y, codec, g_s in zip(self.split_layers(x), self.latents, self.g_s):
            out = codec(y)
            total = total + g_s(out["y_hat"])
            recon.append(torch.relu(total))
            likelihoods.append(list(out["likelihoods"].values()))
        return recon, likelihoods



def rate_bits(likelihoods: list[torch.Tensor]) -> torch.Tensor:
    """R = -Σ log2 p over every coded symbol (the entropy models' own estimate of the bits written)."""
    return sum(-torch.log2(lik).sum() for lik in likelihoods)
