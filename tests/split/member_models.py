"""A corpus of exported models with the traits of members' real exports, built by the tests themselves.

Each entry is (name, builder); a builder writes an ONNX file and returns its path. The traits:
* ``ts_opset11`` / ``ts_opset13``: torch's TorchScript exporter at old opsets, symbolic batch/height/width,
  a data-dependent number of boxes (NonZero on the scores), float boxes/scores and int64 labels;
* ``constants``: the opset-13 export with every weight moved from the initializers into Constant nodes at the
  head of the graph (as converters from other frameworks write them);
* ``dynamo``: torch's dynamo exporter at its default opset (static shapes, a backbone and two heads).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import onnx
import torch
from torch import nn

INPUT_SHAPE = (1, 3, 64, 64)
SCORE_GAIN, SCORE_BIAS = 30.0, -2.0  # the photograph keeps 36 of 256 positions, seeded noise 88


class TinyDetector(nn.Module):
    """Two strided convolutions, a score head and a box head; keeps the positions whose score exceeds 0.5."""

    def __init__(self, data_dependent: bool = True) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU(),
                                      nn.Conv2d(16, 16, 3, 1, 1), nn.ReLU())
        self.score_head = nn.Conv2d(16, 1, 1)
        self.box_head = nn.Conv2d(16, 4, 1)
        self.data_dependent = data_dependent

    def forward(self, image: torch.Tensor):
        features = self.backbone(image)
        scores = torch.sigmoid(self.score_head(features)).flatten(1)  # N x HW
        boxes = self.box_head(features).flatten(2)  # N x 4 x HW
        if not self.data_dependent:
            return boxes, scores
        keep = torch.nonzero(scores[0] > 0.5).squeeze(1)  # a data-dependent number of positions
        return boxes[0][:, keep].transpose(0, 1), scores[0][keep], keep % 3


def _module(data_dependent: bool = True) -> TinyDetector:
    torch.manual_seed(2024)
    module = TinyDetector(data_dependent).eval()
    with torch.no_grad():
        module.score_head.weight.mul_(SCORE_GAIN)  # scores spread over (0, 1): how many pass depends on the image
        module.score_head.bias.fill_(SCORE_BIAS)
    return module


def torchscript(path: Path, opset: int) -> Path:
    torch.onnx.export(_module(), (torch.rand(*INPUT_SHAPE),), str(path), dynamo=False, opset_version=opset,
                      input_names=["image"], output_names=["boxes", "scores", "labels"],
                      dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}})
    return path


def constants(path: Path) -> Path:
    """The opset-13 export with its initializers turned into Constant nodes in front of the graph."""
    model = onnx.load(str(torchscript(path, 13)))
    nodes = [onnx.helper.make_node("Constant", [], [init.name], name=f"const_{i}", value=init)
             for i, init in enumerate(model.graph.initializer)]
    del model.graph.initializer[:]
    for position, node in enumerate(nodes):
        model.graph.node.insert(position, node)
    onnx.save(model, str(path))
    return path


def dynamo(path: Path) -> Path:
    program = torch.onnx.export(_module(data_dependent=False), (torch.rand(*INPUT_SHAPE),), dynamo=True,
                                input_names=["image"], output_names=["boxes", "scores"])
    program.save(str(path))
    return path


CORPUS: dict[str, Callable[[Path], Path]] = {
    "ts_opset11": lambda p: torchscript(p, 11),
    "ts_opset13": lambda p: torchscript(p, 13),
    "constants": constants,
    "dynamo": dynamo,
}
SYMBOLIC = {"ts_opset11", "ts_opset13", "constants"}  # batch/height/width left symbolic
