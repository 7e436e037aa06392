"""torchvision RetinaNet ResNet-50 FPN as seed 001 §10.3.8.1's convert_model.py exports it, seeded random weights.

The pretrained torchvision model uses FrozenBatchNorm2d in its backbone (``retinanet_resnet50_fpn`` picks it
whenever weights are loaded), so the model is assembled the same way here rather than with ``weights=None``,
which would switch to foldable BatchNorm2d and change the graph. The export includes torchvision's
GeneralizedRCNNTransform (normalise, resize to min 800 / max 1333, pad to a multiple of 32) and the
post-processing (decode, NMS), like the seed's retinanet.onnx whose part 2 needs the image-shape side inputs.

Input ``images``: 3 x height x width float32 in [0, 1] (height/width dynamic; traced on a 2560x1600 SFU-HW-Objects
class A frame). Outputs ``boxes`` (N x 4), ``scores`` (N), ``labels`` (N).
"""
from __future__ import annotations

from pathlib import Path

from harness.files import cached_path
from harness.models import MODELS
from harness.models._torch_export import export_tag

RECIPE = "v1"  # bump when the architecture, weights or export settings change
SEED = 0
TRACE_SHAPE = (3, 1600, 2560)  # SFU-HW-Objects class A frame, channels first
OPSET = 11
NUM_CLASSES = 91


def build_module(seed: int = SEED):
    """The RetinaNet ``torch.nn.Module`` with seeded random weights, in eval mode."""
    import torch
    from torchvision.models.detection.retinanet import LastLevelP6P7, RetinaNet, _resnet_fpn_extractor

    from harness.models._torch_export import seeded_frozen_resnet50

    backbone = _resnet_fpn_extractor(seeded_frozen_resnet50(seed), 3, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(256, 256))
    model = RetinaNet(backbone, NUM_CLASSES)
    # torchvision initialises head/FPN biases to one constant (identical initializers become Identity nodes in the
    # export, unlike a trained model's graph) and the class bias to a 1 % prior (random weights would then
    # detect nothing). Seeded random biases give a trained-like graph and real detections to compare.
    generator = torch.Generator().manual_seed(seed + 2)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, torch.nn.Conv2d) and layer.bias is not None:
                layer.bias.copy_(torch.randn(layer.bias.shape, generator=generator) * 0.1)
    return model.eval()


def export(path: Path, seed: int = SEED) -> None:
    """Export the seeded RetinaNet to ``path``, traced on a 2560x1600 frame with dynamic height and width."""
    import torch

    from harness.models._torch_export import export_legacy

    torch.manual_seed(seed)
    frame = torch.rand(*TRACE_SHAPE)
    export_legacy(build_module(seed), ([frame],), path, opset_version=OPSET, input_names=["images"],
                  output_names=["boxes", "scores", "labels"],
                  dynamic_axes={"images": {1: "height", 2: "width"}})


@MODELS.register("retinanet_seeded")
def retinanet() -> Path:
    """Cached ONNX file of the seeded RetinaNet ResNet-50 FPN (about 136 MB)."""
    return cached_path(f"models/retinanet-{RECIPE}-seed{SEED}-opset{OPSET}-{export_tag()}.onnx", export)
