"""torchvision Faster R-CNN ResNet-50 FPN with seeded random weights: seed 001 §9.4's model for its size figures.

§9.4 derives the device model from Faster R-CNN ResNet-50 (about 173 MB and 50 M parameters in float, about 40 MB
after pruning and INT8 quantization). Built as torchvision's pretrained model is (FrozenBatchNorm2d backbone,
91 COCO classes, GeneralizedRCNNTransform and the post-processing in the graph; see harness.models.retinanet for
why), with seeded weights: no accuracy is claimed, only the sizes and parameter counts of the float and the
derived files (the ``derive`` scenario's ``size`` task).

Input ``images``: 3 x height x width float32 in [0, 1] (dynamic; traced on 800 x 800); outputs ``boxes``,
``labels``, ``scores``.
"""
from __future__ import annotations

from pathlib import Path

from harness.files import cached_path
from harness.models import MODELS
from harness.models._torch_export import export_tag

RECIPE = "v1"
SEED = 0
TRACE_SHAPE = (3, 800, 800)
OPSET = 11
NUM_CLASSES = 91


def build_module(seed: int = SEED):
    """The Faster R-CNN ``torch.nn.Module`` with seeded random weights, in eval mode."""
    from torchvision.models.detection.backbone_utils import _resnet_fpn_extractor
    from torchvision.models.detection.faster_rcnn import FasterRCNN

    from harness.models._torch_export import seeded_frozen_resnet50

    return FasterRCNN(_resnet_fpn_extractor(seeded_frozen_resnet50(seed), 3), NUM_CLASSES).eval()


def export(path: Path, seed: int = SEED) -> None:
    import torch

    from harness.models._torch_export import export_legacy

    torch.manual_seed(seed)
    export_legacy(build_module(seed), ([torch.rand(*TRACE_SHAPE)],), path, opset_version=OPSET,
                  input_names=["images"], output_names=["boxes", "labels", "scores"],
                  dynamic_axes={"images": {1: "height", 2: "width"}})


@MODELS.register("faster_rcnn_seeded")
def faster_rcnn() -> Path:
    """Cached ONNX file of the seeded Faster R-CNN ResNet-50 FPN (about 167 MB)."""
    return cached_path(f"models/faster_rcnn-{RECIPE}-seed{SEED}-opset{OPSET}-{export_tag()}.onnx", export)
