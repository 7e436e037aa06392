"""SSD-small: NVIDIA ssd_resnet's architecture scaled down (narrow ResNet bottlenecks, 128x128 input).

Module names follow NVIDIA's SSD300 so ONNX node names read the same, e.g.
``/feature_extractor/feature_extractor/feature_extractor.4/feature_extractor.4.0/relu_2/Relu``:
``SSD.feature_extractor`` is a ``ResNetLike`` whose ``feature_extractor`` is
``Sequential(conv1, bn1, relu, maxpool, layer1, layer2, layer3)`` with (3, 4, 6) bottlenecks as in ResNet-50,
then ``additional_blocks``, ``loc`` and ``conf``. Like NVIDIA (which sets layer3's stride to 1), layer2 and
layer3 keep stride 1 here so the first detection map is 32x32 (stride 4) and covers 10-20 px objects.
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.models.resnet import Bottleneck

from harness.detection.ssd.default_boxes import DefaultBoxesConfig


def _make_layer(inplanes: int, planes: int, blocks: int) -> nn.Sequential:
    out = planes * Bottleneck.expansion
    downsample = None
    if inplanes != out:
        downsample = nn.Sequential(nn.Conv2d(inplanes, out, 1, bias=False), nn.BatchNorm2d(out))
    layers = [Bottleneck(inplanes, planes, downsample=downsample)]
    layers += [Bottleneck(out, planes) for _ in range(blocks - 1)]
    return nn.Sequential(*layers)


class ResNetLike(nn.Module):
    """Backbone; ``self.feature_extractor`` is indexed 0..6 like NVIDIA's truncated ResNet."""

    def __init__(self, stem: int = 16, planes: tuple[int, int, int] = (8, 16, 24), blocks: tuple[int, int, int] = (3, 4, 6)) -> None:
        super().__init__()
        conv1 = nn.Conv2d(3, stem, kernel_size=7, stride=2, padding=3, bias=False)
        layer1 = _make_layer(stem, planes[0], blocks[0])
        layer2 = _make_layer(planes[0] * 4, planes[1], blocks[1])
        layer3 = _make_layer(planes[1] * 4, planes[2], blocks[2])
        self.out_channels = planes[2] * 4
        self.feature_extractor = nn.Sequential(
            conv1, nn.BatchNorm2d(stem), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1), layer1, layer2, layer3
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.feature_extractor(x)


class SSD(nn.Module):
    """Returns (bboxes, scores): (B, N, 4) encoded offsets and (B, N, classes+1) logits (class 0 = background).

    NVIDIA returns (B, 4, N) and (B, C, N); the transposed layout here is the exported ONNX contract. Box
    decoding, softmax and NMS stay outside the graph (``harness.detection.ssd.postprocess``) so that a split
    engine cuts only the network.
    """

    def __init__(self, num_classes: int, config: DefaultBoxesConfig = DefaultBoxesConfig(),
                 extra_channels: tuple[int, ...] = (96, 96, 64, 64), extra_mid: tuple[int, ...] = (48, 48, 32, 32)) -> None:
        super().__init__()
        self.label_num = num_classes + 1  # + background
        self.feature_extractor = ResNetLike()
        channels = [self.feature_extractor.out_channels, *extra_channels]
        if len(channels) != len(config.feat_size):
            raise ValueError("one output channel count per feature map is needed")
        self.additional_blocks = nn.ModuleList()
        for i, (cin, cout, mid) in enumerate(zip(channels[:-1], channels[1:], extra_mid)):
            self.additional_blocks.append(nn.Sequential(
                nn.Conv2d(cin, mid, kernel_size=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
                nn.Conv2d(mid, cout, kernel_size=3, padding=1, stride=2, bias=False), nn.BatchNorm2d(cout),
                nn.ReLU(inplace=True),
            ))
        self.num_defaults = config.boxes_per_location()
        self.loc = nn.ModuleList(nn.Conv2d(c, nd * 4, 3, padding=1) for nd, c in zip(self.num_defaults, channels))
        self.conf = nn.ModuleList(nn.Conv2d(c, nd * self.label_num, 3, padding=1) for nd, c in zip(self.num_defaults, channels))
        self._init_weights()

    def _init_weights(self) -> None:
        for module in [*self.additional_blocks.modules(), *self.loc, *self.conf]:
            if isinstance(module, nn.Conv2d):
                nn.init.xavier_uniform_(module.weight)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.feature_extractor(x)
        sources = [x]
        for block in self.additional_blocks:
            x = block(x)
            sources.append(x)
        locs, confs = [], []
        for s, l, c in zip(sources, self.loc, self.conf):
            locs.append(l(s).view(s.size(0), 4, -1))
            confs.append(c(s).view(s.size(0), self.label_num, -1))
        return torch.cat(locs, 2).permute(0, 2, 1).contiguous(), torch.cat(confs, 2).permute(0, 2, 1).contiguous()
