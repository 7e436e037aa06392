"""Compression-augmented training (seed 002 §3.3) of part 2 of a torch detector at one ONNX split point.

Seed 002: "at each forward pass through the network, the feature data at the split point is tiled and
compressed using a randomly chosen QP value [...] After compression, the decompressed data is passed further
down the network." Here only part 2 learns (the issue asks for a fine-tuned part 2 beside the shipped one, so
the device keeps its part 1 bit for bit): part-1 parameters are frozen and its layers stay in eval mode.

Where the features are coded is decided by the ONNX split engine, not by hand: the plan of split ``k`` names
the tensor(s) crossing the cut; the torch module whose output IS that tensor is found by running both on one
probe input (same values, module called once per forward). A module called several times per forward (a ReLU
reused inside a bottleneck) is never a candidate, since replacing its output would code more than the cut.

The coding is the suite's own coder (same spec strings as the matrix), so training sees exactly the noise the
``ssd`` cells measure. Draws are seeded per (seed, step, sample): a resumed run codes the same way.
"""
from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import torch
from torch import nn

from harness.coders import make_coder
from harness.detection.ssd.ssd_small import call_trace

#: seed 002 §3.3: "QP in the range [Lossless, 22, 27, 32, 37]" (Q-layer 8 bits, channel tiling, HEVC intra)
SEED_002_CODERS = ("hevc:lossless=1,bits=8", "hevc:qp=22,bits=8", "hevc:qp=27,bits=8", "hevc:qp=32,bits=8",
                   "hevc:qp=37,bits=8")


@dataclass(frozen=True)
class CutModule:
    """The torch module whose output is the one tensor crossing ONNX split ``split``."""

    split: int
    tensor_name: str  # the ONNX cut tensor (what the coder's container names)
    module_name: str  # dotted torch path
    part1: tuple[str, ...]  # parametrised leaf modules run before the cut (frozen)
    part2: tuple[str, ...]  # parametrised leaf modules run after it (trained)


def find_cut_module(model: nn.Module, onnx_path: Path, split: int, probe: torch.Tensor,
                    input_name: str = "image", atol: float = 1e-4) -> CutModule:
    """Resolve ONNX split ``split`` (cut before graph.node[split]) to a module of ``model`` (eval mode)."""
    from harness.split import FeatureExtractor

    extractor = FeatureExtractor(onnx_path, [split])
    plan = extractor.plans[split]
    if len(plan.cut) != 1 or plan.raw_inputs:
        raise ValueError(f"split {split} of {onnx_path.name} cuts {len(plan.cut)} tensors "
                         f"({', '.join(plan.cut_names)}); compression-augmented training codes one tensor: "
                         "choose a split that cuts a single feature map (e.g. 90 on ssd_small)")
    (tensor_name,) = plan.cut_names
    target = torch.from_numpy(extractor.run({input_name: probe.numpy()})[split][tensor_name])
    model.eval()
    trace, calls = call_trace(model, probe)
    matches = [name for name, out in trace if calls[name] == 1 and isinstance(out, torch.Tensor)
               and out.shape == target.shape and torch.allclose(out, target, atol=atol, rtol=1e-4)]
    if not matches:
        raise ValueError(f"no module of {type(model).__name__} outputs {tensor_name} (split {split}): the cut "
                         "falls inside a module's forward, or the ONNX file is not an export of this architecture; "
                         "choose a split at a block boundary (e.g. 90 on ssd_small)")
    # a container and its last child give the same tensor: take the innermost (most specific) name
    module_name = max(matches, key=lambda n: (n.count("."), n))
    cut_at = next(i for i, (name, _) in enumerate(trace) if name == module_name)
    leaves = {name for name, m in model.named_modules() if name and not list(m.children())
              and any(True for _ in m.parameters(recurse=False))}
    before = {name for name, _ in trace[:cut_at + 1] if name in leaves}
    after = {name for name, _ in trace[cut_at + 1:] if name in leaves}
    if before & after:
        raise ValueError(f"modules {sorted(before & after)} run on both sides of split {split}")
    return CutModule(split, tensor_name, module_name, tuple(sorted(before)), tuple(sorted(after)))


def draw_coders(specs: Sequence[str], seed: int, step: int, count: int) -> list[str]:
    """The coder spec of each sample of training step ``step`` (uniform over ``specs``, seeded by step)."""
    rng = np.random.default_rng([seed, step])
    return [specs[i] for i in rng.integers(0, len(specs), size=count)]


def code_sample(spec: str, tensor_name: str, feature: np.ndarray) -> tuple[np.ndarray, int]:
    """Encode one sample's feature map with ``spec`` and decode it: (decoded array, coded bytes)."""
    coder = make_coder(spec)
    stream = coder.encode({tensor_name: feature})
    return coder.decode(stream)[tensor_name], len(stream)


class CompressionAugmentation:
    """Codes the cut tensor of every training sample at a randomly drawn rate point (forward hook).

    Set ``step`` before each forward pass; ``coded_bytes`` and ``drawn`` describe the last one.
    """

    def __init__(self, cut: CutModule, specs: Sequence[str], seed: int, pool: Executor | None = None) -> None:
        if not specs:
            raise ValueError("compression augmentation needs at least one coder spec")
        self.cut, self.specs, self.seed, self.pool = cut, [make_coder(s).spec for s in specs], seed, pool
        self.step = 0
        self.drawn: list[str] = []
        self.coded_bytes: list[int] = []
        self._hook: torch.utils.hooks.RemovableHandle | None = None

    def attach(self, model: nn.Module) -> None:
        """Freeze part 1 and hook the coding onto the cut module of ``model``."""
        modules = dict(model.named_modules())
        for name in self.cut.part1:
            for parameter in modules[name].parameters():
                parameter.requires_grad_(False)
        self._hook = modules[self.cut.module_name].register_forward_hook(self._code)

    def detach(self) -> None:
        """Remove the coding hook (before export: the exported part 2 must read the features it is given)."""
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    def part1_eval(self, model: nn.Module) -> None:
        """Keep part 1 in eval mode after ``model.train()`` (its batch norms, if any, must not move)."""
        modules = dict(model.named_modules())
        for name in self.cut.part1:
            modules[name].eval()

    def _code(self, module: nn.Module, inputs: tuple, output: torch.Tensor) -> torch.Tensor:
        features = output.detach().cpu().numpy()
        self.drawn = draw_coders(self.specs, self.seed, self.step, len(features))
        jobs = [(spec, self.cut.tensor_name, np.ascontiguousarray(features[i:i + 1]))
                for i, spec in enumerate(self.drawn)]
        mapper = self.pool.map if self.pool is not None else map
        results = list(mapper(code_sample, *zip(*jobs)))  # ordered: same result with or without a pool
        self.coded_bytes = [size for _, size in results]
        decoded = np.concatenate([array for array, _ in results])
        return torch.from_numpy(decoded).to(output.device)

    def describe(self) -> dict:
        """What the model JSON records about the augmentation."""
        return {"split": self.cut.split, "cut_tensor": self.cut.tensor_name, "torch_module": self.cut.module_name,
                "coders": self.specs, "draw": "uniform per sample, numpy default_rng([seed, step])",
                "seed": self.seed, "frozen_part1_modules": len(self.cut.part1),
                "trained_part2_modules": len(self.cut.part2)}
