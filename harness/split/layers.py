"""Layers and split configurations of a model (seed 001 §10.2.6): configuration ``k`` runs the first ``k`` layers
on the device and the rest in the network.

Definition. A *layer* starts at a Conv, ConvTranspose, Gemm or MatMul node (its *anchor*) and holds every node
after it, in ``graph.node`` order, up to the next anchor: the normalisation, activation and elementwise nodes
that follow a convolution (Clip for ReLU6, Sigmoid, Add, Relu, BatchNormalization when not folded), and also
the pooling, reshape and concatenation nodes met on the way. ``graph.node`` is a topological order
(``onnx.checker`` refuses a model whose nodes are not sorted), so "the first k layers" is well defined. Nodes
before the first anchor (input pre-processing) run on the device as soon as one layer does.

A model of N layers has N+1 configurations: ``k = 0`` sends the model input (everything in the network),
``0 < k < N`` cuts before the anchor of layer k+1 (the index convention of harness.split.plan: cut BEFORE the
node), ``k = N`` runs everything on the device and sends the model outputs. What crosses a cut is everything
the split engine says crosses it (several tensors at a branch, a model output made in part 1, a Shape hoisted
into part 1), plus any raw model input that part 2 still reads: it must be sent too, so it is counted.

Evidence: PoseNet with a MobileNetV1 backbone (seed table 10.2.4-1) has 31 layers and 32 configurations,
"0:31, 1:30, ..., 31:0" (§10.2.6). Its ONNX graph has exactly 31 such anchors: the first 3x3 convolution,
13 depthwise + 13 pointwise convolutions (27: posenet_split_test.py accepts split layers 0..26) and the four
1x1 heads (heatmaps, offsets, forward and backward displacements); each is followed only by its ReLU6 (Clip)
or Sigmoid. Counting the anchors therefore reproduces the seed's layer count, where counting every computing node
would give 59 (each Clip a "layer") and counting only the backbone's convolutions 27.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import onnx

from harness.split.cut import split_model
from harness.split.graph import SplitError
from harness.split.plan import CutTensor, SplitPlan, SplitPlanner

LAYER_OPS = frozenset({"Conv", "ConvTranspose", "Gemm", "MatMul"})


@dataclass(frozen=True)
class Layer:
    """Layer ``number`` (1-based) = ``graph.node[start:stop]``, ``start`` being its anchor."""

    number: int
    start: int
    stop: int
    node_name: str
    op_type: str


def find_layers(model: onnx.ModelProto) -> list[Layer]:
    """The layers of ``model`` in topological order; a clear error when it has none."""
    nodes = list(model.graph.node)
    starts = [position for position, node in enumerate(nodes) if node.op_type in LAYER_OPS]
    if not starts:
        ops = sorted({node.op_type for node in nodes})
        raise SplitError(f"the model has no {', '.join(sorted(LAYER_OPS))} node, so no layer to split at "
                         f"(its operators: {', '.join(ops[:12])}{', ...' if len(ops) > 12 else ''})")
    stops = starts[1:] + [len(nodes)]
    return [Layer(i + 1, start, stop, nodes[start].name, nodes[start].op_type)
            for i, (start, stop) in enumerate(zip(starts, stops))]


@dataclass(frozen=True)
class SplitConfig:
    """One configuration: part 1 = ``graph.node[:boundary]`` on the device, the rest in the network.

    ``k``: layers whose anchor runs on the device; ``label``: ``str(k)`` for a layer configuration, ``n<index>``
    for a cut before an arbitrary node index (seed 000's split points), which may fall inside a layer.
    ``cut``: what is sent, in order (model inputs for k = 0, model outputs for k = N).
    """

    k: int
    layers: int
    boundary: int
    node_count: int
    cut: tuple[CutTensor, ...]
    plan: SplitPlan | None = None
    label: str = ""

    @property
    def all_in_network(self) -> bool:
        return self.boundary == 0

    @property
    def all_on_device(self) -> bool:
        return self.boundary == self.node_count

    @property
    def cut_names(self) -> list[str]:
        return [t.name for t in self.cut]


class LayerSplitter:
    """Layers, configurations and part models of one model (types inferred once)."""

    def __init__(self, planner: SplitPlanner) -> None:
        self.planner = planner
        self.model = planner.model
        self.layers = find_layers(self.model)
        self.node_count = len(planner.nodes)

    @property
    def count(self) -> int:
        return len(self.layers)

    def _tensor(self, name: str, producer: int) -> CutTensor:
        if name not in self.planner.types:
            raise SplitError(f"no type is known for tensor {name!r}; run onnx shape inference on the model")
        return CutTensor(name, self.planner.types[name], producer)

    def _at_boundary(self, boundary: int, k: int, label: str) -> SplitConfig:
        if boundary <= 0:
            cut = tuple(self._tensor(name, -1) for name in sorted(self.planner.model_inputs,
                        key=[i.name for i in self.model.graph.input].index))
            return SplitConfig(k, self.count, 0, self.node_count, cut, None, label)
        if boundary >= self.node_count:
            cut = tuple(self._tensor(name, self.planner.producers.get(name, -1)) for name in self.planner.outputs)
            return SplitConfig(k, self.count, self.node_count, self.node_count, cut, None, label)
        # pass_inputs: a raw input that part 2 still reads is sent as well (and counted), not refused
        plan = self.planner.plan(index=boundary, where="before", pass_inputs=True)
        raw = tuple(self._tensor(name, -1) for name in plan.raw_inputs)
        return SplitConfig(k, self.count, boundary, self.node_count, plan.cut + raw, plan, label)

    def config(self, k: int) -> SplitConfig:
        """Configuration ``k`` (0..N)."""
        if isinstance(k, bool) or not isinstance(k, int) or not 0 <= k <= self.count:
            raise SplitError(f"configuration {k!r} is out of range: this model has {self.count} layers, "
                             f"so configurations 0..{self.count}")
        boundary = 0 if k == 0 else (self.node_count if k == self.count else self.layers[k].start)
        return self._at_boundary(boundary, k, str(k))

    def configs(self, ks: Sequence[int] | None = None) -> list[SplitConfig]:
        """Configurations ``ks`` (default: all N+1)."""
        return [self.config(k) for k in (range(self.count + 1) if ks is None else ks)]

    def node_config(self, index: int) -> SplitConfig:
        """The cut before ``graph.node[index]`` (seed 000's split points), with ``k`` = anchors before it."""
        if isinstance(index, bool) or not isinstance(index, int) or not 0 < index < self.node_count:
            raise SplitError(f"node index {index!r} is out of range 1..{self.node_count - 1}")
        k = sum(1 for layer in self.layers if layer.start < index)
        return self._at_boundary(index, k, f"n{index}")

    def parts(self, config: SplitConfig) -> tuple[bytes, bytes]:
        """Serialized part 1 and part 2 (``b""`` for the empty side of k = 0 and k = N)."""
        if config.all_in_network:
            return b"", self.model.SerializeToString()
        if config.all_on_device:
            return self.model.SerializeToString(), b""
        assert config.plan is not None
        part1, part2 = split_model(self.model, config.plan)
        return part1.SerializeToString(), part2.SerializeToString()
