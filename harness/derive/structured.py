"""Structured channel pruning with torch-pruning: the graph really shrinks (fewer channels, fewer parameters).

Channel pruning rebuilds layers, so it needs the model as torch modules: a **torch builder** turns an ONNX file
into the torch model whose export it is (``TORCH_BUILDERS``: ``ssd_small``, the architecture of the embedded
detector and of every export of it, loaded weight for weight by ``ssd_from_onnx``, which refuses a file of
another architecture). A bare ONNX file no builder accepts is refused with a message that says so.

torch-pruning's ``MagnitudePruner`` (L1 norm of each output channel's filter, one ratio for every prunable
layer, its dependency graph keeping residual additions and concatenations consistent) removes
``sparsity`` of the channels of every layer but the detection heads, whose output channels are the model's
output interface (boxes x classes per default box). The pruned model is exported as the original was
(legacy exporter, eval mode, the same input and output names and opset), so every command and the split engine
run it unchanged.

Fine-tuning (``finetune_steps`` > 0; seed 001 §5 allows re-training "accompanied by results without
re-training", so the un-tuned model is a cell of its own): the builder's own loss and training batches (for
ssd_small, the multibox loss on the generated training stream at a fixed offset past the batches the detector
was trained on), Adam, seeded: the same steps give the same weights on one machine.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.derive import Derived
from harness.files import atomic_write_bytes
from harness.registry import Registry

@dataclass
class TorchModel:
    """What channel pruning and fine-tuning need of a model: the torch modules (eval mode), an example input,
    the modules whose output channels are the model's interface, the export settings, and for fine-tuning
    the training batch of a step (inputs, targets) and the loss of the outputs against the targets."""

    module: Any
    example: Any
    keep: list[Any]
    export: dict[str, Any]
    batch: Callable[[int], tuple[Any, Any]]
    loss: Callable[[Any, Any], Any]


#: name -> (onnx path -> TorchModel); a builder raises ValueError when the file is not an export of its architecture
TORCH_BUILDERS: Registry[Callable[[Path], TorchModel]] = Registry("torch builder")
#: first training batch of the fine-tuning stream: past the 1500 x 32 images ssd_small was trained on
FINETUNE_OFFSET = 2000


@TORCH_BUILDERS.register("ssd_small")
def _ssd_small(path: Path) -> TorchModel:
    import torch

    from harness.datasets.synthetic_shapes import IMAGE_SIZE, NUM_CLASSES, TRAIN_SEED
    from harness.detection.ssd.default_boxes import DefaultBoxesConfig, default_boxes_xywh
    from harness.detection.ssd.loss import multibox_loss, shapes_batch
    from harness.detection.ssd.ssd_small import ssd_from_onnx

    config = DefaultBoxesConfig()
    anchors = default_boxes_xywh(config)
    model = ssd_from_onnx(str(path), NUM_CLASSES, config)

    def batch(step: int) -> tuple[Any, Any]:
        images, locs, labels = shapes_batch(FINETUNE_OFFSET + step, 16, anchors, config, TRAIN_SEED)
        return images, (locs, labels)

    return TorchModel(model, torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE), [*model.loc, *model.conf],
                      {"input_names": ["image"], "output_names": ["bboxes", "scores"], "opset_version": 13},
                      batch, lambda outputs, targets: multibox_loss(*outputs, *targets))


def finetune(model: TorchModel, steps: int, lr: float = 1e-3, seed: int = 0) -> list[float]:
    """``steps`` of Adam on the builder's loss and batches (seeded); the losses of the steps."""
    import torch

    torch.manual_seed(seed)
    optimizer = torch.optim.Adam([p for p in model.module.parameters() if p.requires_grad], lr=lr)
    model.module.train()
    losses = []
    for step in range(steps):
        inputs, targets = model.batch(step)
        loss = model.loss(model.module(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    model.module.eval()
    return losses


def torch_model_for(path: Path) -> tuple[str, TorchModel]:
    """(builder name, built model) of the first registered builder that accepts ``path``; ValueError naming
    every builder tried otherwise."""
    refusals = []
    for name in TORCH_BUILDERS.names():
        try:
            return name, TORCH_BUILDERS.get(name)(Path(path))
        except (ValueError, KeyError, RuntimeError) as exc:
            refusals.append(f"{name}: {str(exc).splitlines()[0][:160]}")
    raise ValueError(f"--structured needs the model's torch builder (channel pruning rebuilds the layers); no "
                     f"registered builder accepts {path} ({'; '.join(refusals)}): prune it unstructured "
                     "(without --structured)")


def prune_structured(model: Path, out: Path, sparsity: float, finetune_steps: int = 0) -> Derived:
    """Remove ``sparsity`` of the output channels of every prunable layer (L1 magnitude), fine-tune for
    ``finetune_steps`` steps, and export to ``out``."""
    import torch
    import torch_pruning as tp

    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity {sparsity!r}: give a fraction in [0, 1)")
    if finetune_steps < 0:
        raise ValueError(f"finetune_steps {finetune_steps}: give 0 (no re-training) or more")
    builder, built = torch_model_for(model)
    net = built.module
    before = sum(p.numel() for p in net.parameters())
    if sparsity > 0:
        pruner = tp.pruner.MagnitudePruner(net, built.example, importance=tp.importance.MagnitudeImportance(p=1),
                                           pruning_ratio=sparsity, ignored_layers=built.keep)
        pruner.step()
    losses = finetune(built, finetune_steps) if finetune_steps else []
    net.eval()
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(net, (built.example,), buffer, dynamo=False, do_constant_folding=True, **built.export)
    atomic_write_bytes(Path(out), buffer.getvalue())
    after = sum(p.numel() for p in net.parameters())
    details = {"requested_sparsity": sparsity, "torch_builder": builder, "torch_parameters_before": before,
               "torch_parameters_after": after, "finetune_steps": finetune_steps}
    if losses:
        details["finetune_loss_first_last"] = [round(losses[0], 4), round(sum(losses[-10:]) / len(losses[-10:]), 4)]
    return Derived(Path(out), "prune-structured", details)
