"""Shared steps of the torch-built models: seeded random normalisation statistics and the legacy ONNX export."""
from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO


def export_tag() -> str:
    """The exporter's version, part of every built model's cache name: the exported bytes (node names, constant
    folding) depend on it, so a warm cache never serves a graph another torch exported."""
    from importlib.metadata import version

    return f"torch{version('torch')}"


def randomize_norm_layers(module: Any, seed: int) -> None:
    """Give every (Frozen)BatchNorm2d distinct seeded statistics.

    Fresh layers all hold mean 0 / var 1 / weight 1 / bias 0, so after batch-norm folding many convolution biases
    would be identical; torch's exporter then de-duplicates them into Identity nodes that a trained model does
    not have, shifting every node index. Random statistics also make the folding non-trivial.
    """
    import torch
    from torchvision.ops.misc import FrozenBatchNorm2d

    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, (torch.nn.BatchNorm2d, FrozenBatchNorm2d)):
                n = layer.weight.numel()
                layer.weight.copy_(torch.rand(n, generator=generator) * 0.5 + 0.5)
                layer.bias.copy_(torch.randn(n, generator=generator) * 0.1)
                layer.running_mean.copy_(torch.randn(n, generator=generator) * 0.1)
                layer.running_var.copy_(torch.rand(n, generator=generator) * 0.5 + 0.5)


def seeded_frozen_resnet50(seed: int) -> Any:
    """torchvision's ResNet-50 as its pretrained detectors build it (FrozenBatchNorm2d), seeded weights and norm
    statistics (:func:`randomize_norm_layers` with ``seed + 1``): the backbone of the seeded detection models."""
    import torch
    from torchvision.models.resnet import resnet50
    from torchvision.ops.misc import FrozenBatchNorm2d

    torch.manual_seed(seed)
    backbone = resnet50(weights=None, norm_layer=FrozenBatchNorm2d)
    randomize_norm_layers(backbone, seed + 1)
    return backbone


def export_legacy(module: Any, args: tuple, path: Path | BinaryIO, **kwargs: Any) -> None:
    """``torch.onnx.export`` with the TorchScript exporter (``dynamo=False``), as the seed's scripts used.

    Eval mode folds batch norm into the convolutions and gives names like
    ``/feature_extractor/feature_extractor/feature_extractor.4/feature_extractor.4.0/relu_2/Relu``.
    """
    import warnings

    import torch

    torch.set_num_threads(1)  # shared machine; export is deterministic regardless
    module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, args, path if hasattr(path, "write") else str(path), dynamo=False, do_constant_folding=True, **kwargs)
