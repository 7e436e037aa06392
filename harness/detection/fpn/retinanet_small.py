"""RetinaNet-small: torchvision's RetinaNet (FPN P3-P7, focal loss, its own anchor matching and NMS) on a narrow
ResNet backbone, sized for the generated 128x128 shapes images.

Module names follow torchvision's ``retinanet_resnet50_fpn`` (``backbone.body.layer2``, ``backbone.fpn.
layer_blocks.0``, ``backbone.fpn.extra_blocks.p6``, ``head.classification_head``) so that the exported graph's
node names read as those of the 5G-MAG RetinaNet and the FPN cut of seed 001 §10.3.8.1 is found by the same
patterns (harness.scenarios.retinanet.FPN_PRODUCER). Only the sizes differ: BasicBlock stages of
(32, 64, 96, 128) channels instead of ResNet-50's bottlenecks, 64 FPN channels instead of 256, anchor sizes
12-128 px for 12-84 px objects instead of 32-512 px, and ``min_size``/``max_size`` 128 so a 128x128 image is
not resized.
"""
from __future__ import annotations

import torch
from torch import nn
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.retinanet import RetinaNet
from torchvision.models.resnet import BasicBlock
from torchvision.ops.feature_pyramid_network import LastLevelP6P7

STAGES = (32, 64, 96, 128)  # output channels of layer1..layer4 (strides 4, 8, 16, 32)
FPN_CHANNELS = 64
ANCHOR_SIZES = (12, 24, 48, 96, 128)  # one base size per FPN level P3..P7
MIN_SIZE, MAX_SIZE = 128, 1333
DETECTIONS_PER_IMAGE = 100
#: score threshold inside the exported graph. torchvision's 0.05 leaves a pyramid level without candidates on
#: some images, and the exported box decoding then reshapes a (0, 2, 2) tensor to (0, -1), which onnxruntime
#: refuses; at 0 every level keeps its top-k candidates, so the graph runs on any image and every tensor
#: before the NMS has a data-independent shape. The detector applies 0.05 after the graph (InGraphHead).
EXPORT_SCORE_THRESHOLD = 0.0


def _stage(inplanes: int, planes: int, stride: int) -> nn.Sequential:
    downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))
    return nn.Sequential(BasicBlock(inplanes, planes, stride, downsample), BasicBlock(planes, planes))


class NarrowResNet(nn.Module):
    """ResNet layout (conv1, bn1, relu, maxpool, layer1..layer4) with one downsampling BasicBlock pair per stage."""

    def __init__(self, stages: tuple[int, int, int, int] = STAGES) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, stages[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(stages[0])
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = _stage(stages[0], stages[0], 1)
        self.layer2 = _stage(stages[0], stages[1], 2)
        self.layer3 = _stage(stages[1], stages[2], 2)
        self.layer4 = _stage(stages[2], stages[3], 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # only used through BackboneWithFPN's layer getter
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def build(num_classes: int, seed: int = 0) -> RetinaNet:
    """RetinaNet-small with seeded initial weights. ``num_classes`` counts label 0, which torchvision's
    RetinaNet never assigns to an object: labels 1..num_classes-1 are the data set's category ids."""
    torch.manual_seed(seed)
    backbone = BackboneWithFPN(NarrowResNet(), {"layer2": "0", "layer3": "1", "layer4": "2"}, list(STAGES[1:]),
                               FPN_CHANNELS, extra_blocks=LastLevelP6P7(FPN_CHANNELS, FPN_CHANNELS))
    sizes = tuple((s, int(s * 2 ** (1 / 3)), int(s * 2 ** (2 / 3))) for s in ANCHOR_SIZES)
    anchors = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * len(sizes))
    return RetinaNet(backbone, num_classes, min_size=MIN_SIZE, max_size=MAX_SIZE, anchor_generator=anchors,
                     detections_per_img=DETECTIONS_PER_IMAGE)
