"""NVIDIA SSD300 v1.1 with a ResNet-50 backbone, as convert_ssd300_to_onnx.py of the 5G-MAG
rt-ai-ml-evaluation-framework exports it (seed 000; seed 001 §10.3.8.2), with seeded random weights.

Architecture (NVIDIA DeepLearningExamples ``SSD300``): torchvision ResNet-50 cut after layer3 (the first 7
children, ``feature_extractor``) with stride 1 in layer3's first block, five additional blocks, 3x3 loc/conf
heads with 4/6/6/6/4/4 default boxes and 81 classes; outputs ``locs`` 1x4x8732 and ``confs`` 1x81x8732.
"""
from __future__ import annotations

from pathlib import Path

from harness.files import cached_path
from harness.models import MODELS
from harness.models._torch_export import export_tag

RECIPE = "v1"  # bump when the architecture, weights or export settings change
SEED = 0
INPUT_SHAPE = (1, 3, 300, 300)
OPSET = 17


def build_module(seed: int = SEED):
    """The SSD300-ResNet50 ``torch.nn.Module`` with seeded random weights, in eval mode."""
    import torch
    from torch import nn
    from torchvision.models.resnet import resnet50

    from harness.models._torch_export import randomize_norm_layers

    class ResNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            backbone = resnet50(weights=None)
            self.out_channels = [1024, 512, 512, 256, 256, 256]
            self.feature_extractor = nn.Sequential(*list(backbone.children())[:7])
            block = self.feature_extractor[-1][0]  # keep layer3 at stride 8 (38x38 for a 300x300 input)
            block.conv1.stride = (1, 1)
            block.conv2.stride = (1, 1)
            block.downsample[0].stride = (1, 1)

        def forward(self, x):
            return self.feature_extractor(x)

    class SSD300(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.feature_extractor = ResNet()
            self.label_num = 81
            channels = self.feature_extractor.out_channels
            blocks = []
            for i, (c_in, c_out, mid) in enumerate(zip(channels[:-1], channels[1:], [256, 256, 128, 128, 128])):
                last_conv = dict(padding=1, stride=2) if i < 3 else {}
                blocks.append(nn.Sequential(
                    nn.Conv2d(c_in, mid, kernel_size=1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
                    nn.Conv2d(mid, c_out, kernel_size=3, bias=False, **last_conv), nn.BatchNorm2d(c_out),
                    nn.ReLU(inplace=True)))
            self.additional_blocks = nn.ModuleList(blocks)
            self.num_defaults = [4, 6, 6, 6, 4, 4]
            self.loc = nn.ModuleList(nn.Conv2d(c, n * 4, kernel_size=3, padding=1)
                                     for n, c in zip(self.num_defaults, channels))
            self.conf = nn.ModuleList(nn.Conv2d(c, n * self.label_num, kernel_size=3, padding=1)
                                      for n, c in zip(self.num_defaults, channels))
            for layer in [*self.additional_blocks, *self.loc, *self.conf]:
                for param in layer.parameters():
                    if param.dim() > 1:
                        nn.init.xavier_uniform_(param)

        def bbox_view(self, src, loc, conf):
            ret = [(l(s).view(s.size(0), 4, -1), c(s).view(s.size(0), self.label_num, -1))
                   for s, l, c in zip(src, loc, conf)]
            locs, confs = list(zip(*ret))
            return torch.cat(locs, 2).contiguous(), torch.cat(confs, 2).contiguous()

        def forward(self, x):
            x = self.feature_extractor(x)
            detection_feed = [x]
            for block in self.additional_blocks:
                x = block(x)
                detection_feed.append(x)
            return self.bbox_view(detection_feed, self.loc, self.conf)

    torch.manual_seed(seed)
    model = SSD300()
    randomize_norm_layers(model, seed + 1)
    return model.eval()


def export(path: Path, seed: int = SEED) -> None:
    """Export the seeded SSD300 to ``path`` (input ``input`` 1x3x300x300; outputs ``locs``, ``confs``)."""
    import torch

    from harness.models._torch_export import export_legacy

    torch.manual_seed(seed)
    example = torch.rand(*INPUT_SHAPE)
    export_legacy(build_module(seed), (example,), path, opset_version=OPSET,
                  input_names=["input"], output_names=["locs", "confs"])


@MODELS.register("ssd_resnet_seeded")
def ssd_resnet() -> Path:
    """Cached ONNX file of the seeded SSD300-ResNet50."""
    return cached_path(f"models/ssd_resnet-{RECIPE}-seed{SEED}-opset{OPSET}-{export_tag()}.onnx", export)
