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


def fold_batch_norms(model: nn.Module) -> nn.Module:
    """Fuse every Conv2d followed by a BatchNorm2d (in registration order, as in ``Sequential``, torchvision's
    ``Bottleneck`` and the stem) into one biased Conv2d and put an ``Identity`` in the norm's place, in place.

    This is the graph the exporter writes in eval mode (batch norm folded), so the weights of a shipped ONNX
    file load one to one (:func:`load_onnx_weights`) and a re-export has the same nodes in the same order.
    """
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    for parent in list(model.modules()):
        children = list(parent.named_children())
        for (conv_name, conv), (norm_name, norm) in zip(children, children[1:]):
            if isinstance(conv, nn.Conv2d) and isinstance(norm, nn.BatchNorm2d):
                setattr(parent, conv_name, fuse_conv_bn_eval(conv.eval(), norm.eval()))
                setattr(parent, norm_name, nn.Identity())
    for parameter in model.parameters():  # fuse_conv_bn_eval leaves a fused bias frozen: every weight can learn
        parameter.requires_grad_(True)
    return model


def call_trace(model: nn.Module, probe: torch.Tensor) -> tuple[list[tuple[str, torch.Tensor]], dict[str, int]]:
    """(name, output) of every module in completion order, and how often each was called, for one forward."""
    trace: list[tuple[str, torch.Tensor]] = []
    calls: dict[str, int] = {}

    def hook(name: str):
        def record(module: nn.Module, inputs: tuple, output: object) -> None:
            calls[name] = calls.get(name, 0) + 1
            # a copy: in-place ops (``out += identity``, ReLU(inplace=True)) rewrite outputs after the hook
            trace.append((name, output.clone() if isinstance(output, torch.Tensor) else output))
        return record

    handles = [module.register_forward_hook(hook(name)) for name, module in model.named_modules() if name]
    try:
        with torch.no_grad():
            model(probe)
    finally:
        for handle in handles:
            handle.remove()
    return trace, calls


def conv_call_order(model: nn.Module, probe: torch.Tensor) -> list[nn.Conv2d]:
    """The Conv2d modules in the order a forward pass calls them (the order of the exported Conv nodes)."""
    modules = dict(model.named_modules())
    return [modules[name] for name, _ in call_trace(model, probe)[0] if isinstance(modules[name], nn.Conv2d)]


def load_onnx_weights(model: nn.Module, onnx_path: str, input_size: int) -> nn.Module:
    """Copy the weights and biases of the ONNX file's Conv nodes, in graph order, into the folded ``model``'s
    convolutions in call order; refuses a file whose convolutions do not match the architecture one to one."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(onnx_path).graph
    values = {init.name: numpy_helper.to_array(init) for init in graph.initializer}
    nodes = [node for node in graph.node if node.op_type == "Conv"]
    convs = conv_call_order(model.eval(), torch.zeros(1, 3, input_size, input_size))
    if len(nodes) != len(convs) or any(m.bias is None for m in convs):
        raise ValueError(f"{onnx_path}: {len(nodes)} Conv nodes for {len(convs)} convolutions of a folded "
                         f"{type(model).__name__}; fold_batch_norms first, and check the file is this architecture")
    with torch.no_grad():
        for node, conv in zip(nodes, convs):
            weight, bias = values[node.input[1]], values[node.input[2]]
            if tuple(weight.shape) != tuple(conv.weight.shape):
                raise ValueError(f"{onnx_path}: node {node.name} has weight {weight.shape}, "
                                 f"the architecture {tuple(conv.weight.shape)}")
            conv.weight.copy_(torch.from_numpy(weight.copy()))
            conv.bias.copy_(torch.from_numpy(bias.copy()))
    return model


def ssd_from_onnx(onnx_path: str, num_classes: int, config: DefaultBoxesConfig = DefaultBoxesConfig()) -> SSD:
    """The folded SSD holding a shipped ssd_small ONNX file's weights (eval mode): what fine-tuning starts from."""
    return load_onnx_weights(fold_batch_norms(SSD(num_classes, config)), onnx_path, config.fig_size).eval()
