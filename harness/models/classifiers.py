"""The image classifiers of seed 001 §10.6.4 as torchvision architectures with seeded weights (no download).

* ``vgg16``: torchvision VGG16 as loaded from the model zoo; the seed's figures: "more than 138M parameters
  and its file size is 527.8 MB" (138,357,544 float32 parameters = 553,430,176 bytes = 527.8 MiB).
* ``vgg16_chest``: the seed's binary Chest X-ray model: VGG16's five-block feature extractor and a new
  classifier of two fully connected layers, the last with two outputs. The seed's text does not give the
  hidden width (its figure is lost); 64 is what its table 10.6.14 implies: the 16-bit minus the 8-bit
  bitstream (31.70 - 14.66 MB) is 8.35 bits per parameter with 64 hidden units, as for ResNet18 (8.1) and
  MobileNet_v2 (8.3), where the extra 8 bits of every code are incompressible; 128 units would give 7.6.
* ``resnet18_voc`` / ``mobilenet_v2_voc``: torchvision ResNet18 and MobileNet_v2 with 20 outputs (PASCAL VOC).

These are torch modules for model coding (state_dicts), not ONNX files for split inference, so they are
not in :data:`harness.models.MODELS` (whose builders return ONNX paths); harness.bitinc.subjects registers
them. Weights are torchvision's own initialisation under ``torch.manual_seed(seed)``, so the same seed gives
the same state_dict bit for bit; accuracy needs trained weights, which the suite does not ship.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

SEED = 0
VGG16_CHEST_HIDDEN = 64


@dataclass(frozen=True)
class SeedFigures:
    """What seed 001 §10.6.4 / table 10.6.14 says of a classifier (None where it says nothing)."""

    min_parameters: int | None = None  # "more than 138M parameters"
    file_mib: float | None = None  # "527.8 MB", float32 parameters in MiB
    outputs: int | None = None
    table_mb: dict[int, float] | None = None  # table 10.6.14 bitstream sizes: bits -> MB (high, low)


def _vgg16():
    from torchvision.models import vgg16

    return vgg16(weights=None)


def _vgg16_chest():
    from torch import nn
    from torchvision.models import vgg16

    model = vgg16(weights=None)
    model.classifier = nn.Sequential(nn.Linear(512 * 7 * 7, VGG16_CHEST_HIDDEN), nn.ReLU(inplace=True),
                                     nn.Dropout(p=0.5), nn.Linear(VGG16_CHEST_HIDDEN, 2))
    return model


def _resnet18_voc():
    from torchvision.models import resnet18

    return resnet18(weights=None, num_classes=20)


def _mobilenet_v2_voc():
    from torchvision.models import mobilenet_v2

    return mobilenet_v2(weights=None, num_classes=20)


CLASSIFIERS: dict[str, tuple[Callable, SeedFigures]] = {
    "vgg16": (_vgg16, SeedFigures(min_parameters=138_000_000, file_mib=527.8, outputs=1000)),
    "vgg16_chest": (_vgg16_chest, SeedFigures(outputs=2, table_mb={16: 31.70, 8: 14.66})),
    "resnet18_voc": (_resnet18_voc, SeedFigures(outputs=20, table_mb={16: 20.47, 8: 9.11})),
    "mobilenet_v2_voc": (_mobilenet_v2_voc, SeedFigures(outputs=20, table_mb={16: 4.43, 8: 2.10})),
}


def build_classifier(name: str, seed: int = SEED, device: str = "cpu"):
    """The classifier ``name`` in eval mode with torchvision's initialisation under ``seed``. ``device="meta"``
    builds the structure without allocating or initialising weights (parameter counts in no time)."""
    import torch

    if name not in CLASSIFIERS:
        raise ValueError(f"unknown classifier {name!r}; known: {', '.join(CLASSIFIERS)}")
    build = CLASSIFIERS[name][0]
    if device == "meta":
        with torch.device("meta"):
            return build().eval()
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(seed)
        return build().eval()


def structure(name: str) -> dict[str, int | float]:
    """Parameter count, state_dict size (bytes, MiB at each tensor's own width) and output count."""
    model = build_classifier(name, device="meta")
    state = model.state_dict()
    nbytes = sum(t.numel() * t.element_size() for t in state.values())
    last = [m for m in model.modules() if hasattr(m, "out_features")][-1]
    return {"parameters": sum(p.numel() for p in model.parameters()), "state_bytes": nbytes,
            "state_mib": nbytes / 2 ** 20, "outputs": int(last.out_features), "tensors": len(state)}
