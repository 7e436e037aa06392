"""Structured channel pruning with torch-pruning: the graph really shrinks (fewer channels, fewer parameters).

Channel pruning rebuilds layers, so it runs on the torch model a torch builder makes of the ONNX file
(harness.derive.torch_models; a bare ONNX file no builder accepts is refused with a message that says so).
torch-pruning's ``MagnitudePruner`` (L1 norm of each output channel's filter, one ratio for every prunable
layer, its dependency graph keeping residual additions and concatenations consistent) removes ``sparsity`` of
the channels of every layer but the detection heads, whose output channels are the model's output interface
(boxes x classes per default box). Fine-tuning after it: harness.derive.torch_models.finetune (seeded,
resumable).
"""
from __future__ import annotations

from pathlib import Path

from harness.derive import Derived
from harness.derive.torch_models import export_onnx, finetune, loss_summary, torch_model_for
from harness.torch_cpu import torch_threads


def prune_structured(model: Path, out: Path, sparsity: float, finetune_steps: int = 0,
                     checkpoint: Path | None = None) -> Derived:
    """Remove ``sparsity`` of the output channels of every prunable layer (L1 magnitude), fine-tune for
    ``finetune_steps`` steps (resuming from ``checkpoint`` where it exists), and export to ``out``."""
    import hashlib

    import torch_pruning as tp

    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity {sparsity!r}: give a fraction in [0, 1)")
    if finetune_steps < 0:
        raise ValueError(f"finetune_steps {finetune_steps}: give 0 (no re-training) or more")
    builder, built = torch_model_for(model)
    net = built.module
    before = sum(p.numel() for p in net.parameters())
    if sparsity > 0:
        with torch_threads(1):  # the L1 norms that rank the channels: the same sums in any process
            pruner = tp.pruner.MagnitudePruner(net, built.example, pruning_ratio=sparsity, ignored_layers=built.keep,
                                               importance=tp.importance.MagnitudeImportance(p=1))
            pruner.step()
    recipe = {"method": "prune-structured", "sparsity": sparsity, "builder": builder,
              "source_md5": hashlib.md5(Path(model).read_bytes()).hexdigest()}
    losses = finetune(built, finetune_steps, checkpoint=checkpoint, recipe=recipe) if finetune_steps else []
    export_onnx(built, out)
    after = sum(p.numel() for p in net.parameters())
    details = {"requested_sparsity": sparsity, "torch_builder": builder, "torch_parameters_before": before,
               "torch_parameters_after": after, "finetune_steps": finetune_steps}
    if losses:
        details["finetune_loss_first_last"] = loss_summary(losses)
    return Derived(Path(out), "prune-structured", details)
