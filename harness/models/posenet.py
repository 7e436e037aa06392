"""PoseNet with a MobileNetV1 backbone (seed 001 §10.2.4: depth multiplier 1.0, FP32), output stride 16, with
seeded random weights: the architecture of the TensorFlow.js PoseNet ``mobilenet_v1_100`` that the seed's
``model-mobilenet_v1_100.pb`` was converted from.

Backbone: a 3x3 stride-2 convolution and 13 depthwise-separable blocks (3x3 depthwise + 1x1 pointwise), each
convolution with a bias and ReLU6; channels 32, 64, 128, 128, 256, 256, 512 x 6, 1024, 1024. At output stride 16
the stride that would reach 32 (block 12) becomes 1 and the last two depthwise convolutions are dilated by 2, as
PoseNet's ``toOutputStride`` does. Heads: four 1x1 convolutions on the 1024-channel features, ``heatmaps`` (17
keypoints, sigmoid applied in the model), ``offsets`` (34: y then x offsets), ``displacement_fwd`` and
``displacement_bwd`` (32 each: the 16 edges of the pose tree, y then x).

Input ``image`` 1x3xSxS in [-1, 1] (TF.js pre-processing ``x / 127.5 - 1``), S = 16 n + 1 so that the outputs
are (S - 1) / 16 + 1 square (257 -> 17). The model has 3,313,907 parameters, 13.26 MB as FP32, and 31 layers
in the sense of harness.split.layers (27 backbone convolutions + 4 heads): seed table 10.2.4-1 gives 13.3 MB
and 31 layers.
"""
from __future__ import annotations

from pathlib import Path

from harness.files import cached_path
from harness.models import MODELS
from harness.models._torch_export import export_tag

RECIPE = "v1"  # bump when the architecture, weights or export settings change
SEED = 0
OPSET = 17
DEFAULT_SIZE = 257
OUTPUT_STRIDE = 16
KEYPOINTS = 17
# (output channels, stride) of the 13 separable blocks of MobileNetV1 (depth multiplier 1.0)
BLOCKS = ((64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1), (512, 1), (512, 1), (512, 1),
          (512, 1), (1024, 2), (1024, 1))
OUTPUT_NAMES = ["heatmaps", "offsets", "displacement_fwd", "displacement_bwd"]


def build_module(seed: int = SEED, output_stride: int = OUTPUT_STRIDE):
    """The PoseNet ``torch.nn.Module`` with seeded random weights, in eval mode."""
    import torch
    from torch import nn

    def conv(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1, dilation: int = 1):
        padding = dilation * (kernel // 2)
        return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, stride, padding, dilation, groups, bias=True),
                             nn.ReLU6())

    layers, stride, rate, channels = [conv(3, 32, 3, 2)], 2, 1, 32
    for c_out, block_stride in BLOCKS:
        if stride * block_stride > output_stride:  # toOutputStride: keep the resolution, dilate instead
            layer_stride, layer_rate, rate = 1, rate, rate * block_stride
        else:
            layer_stride, layer_rate, stride = block_stride, 1, stride * block_stride
        layers.append(conv(channels, channels, 3, layer_stride, groups=channels, dilation=layer_rate))
        layers.append(conv(channels, c_out, 1))
        channels = c_out

    class PoseNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.backbone = nn.Sequential(*layers)
            self.heatmap = nn.Conv2d(channels, KEYPOINTS, 1)
            self.offset = nn.Conv2d(channels, 2 * KEYPOINTS, 1)
            self.displacement_fwd = nn.Conv2d(channels, 32, 1)
            self.displacement_bwd = nn.Conv2d(channels, 32, 1)

        def forward(self, x):
            features = self.backbone(x)
            return (torch.sigmoid(self.heatmap(features)), self.offset(features),
                    self.displacement_fwd(features), self.displacement_bwd(features))

    torch.manual_seed(seed)
    model = PoseNet()
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.Conv2d):
                # He initialisation over the fan-in keeps ReLU6 activations away from 0 and 6 through 27 layers
                fan_in = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
                module.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                module.bias.uniform_(-0.1, 0.1)
    return model.eval()


def export(path: Path, size: int = DEFAULT_SIZE, seed: int = SEED) -> None:
    """Export the seeded PoseNet for a ``size`` x ``size`` input to ``path``."""
    import torch

    from harness.models._torch_export import export_legacy

    torch.manual_seed(seed)
    example = torch.rand(1, 3, size, size) * 2 - 1
    export_legacy(build_module(seed), (example,), path, opset_version=OPSET, input_names=["image"],
                  output_names=OUTPUT_NAMES)


def posenet_path(size: int = DEFAULT_SIZE) -> Path:
    """Cached ONNX file of the seeded PoseNet for a ``size`` x ``size`` input (``size`` = 16 n + 1)."""
    if size < 17 or (size - 1) % OUTPUT_STRIDE:
        raise ValueError(f"PoseNet input size {size}: use 16 n + 1 (e.g. 257, 129) so the outputs align")
    return cached_path(f"models/posenet-{RECIPE}-seed{SEED}-opset{OPSET}-{size}-{export_tag()}.onnx",
                       lambda p: export(p, size))


@MODELS.register("posenet_seeded")
def posenet_seeded(size: int = DEFAULT_SIZE) -> Path:
    """Cached ONNX file of the seeded PoseNet MobileNetV1 1.0 (``size`` x ``size`` input, default 257; output
    stride 16)."""
    return posenet_path(size)
