"""Unstructured global magnitude pruning of an ONNX model's weights with ``torch.nn.utils.prune``.

The weights of every Conv/Gemm/MatMul node are wrapped as parameters and pruned together by
``prune.global_unstructured`` (L1 magnitude): the smallest ``sparsity`` fraction of all of them become zero, so
layers lose different shares (seed 004's 30 % global sparsity of the Conv2d weights). The graph keeps its shape:
a sparse model only gets smaller when coded (zlib, NNCodec) or run by a sparse kernel.

Fine-tuned (``finetune_steps`` > 0): the same global L1 pruning of the Conv/Linear weights of the torch model a
torch builder makes of the file (harness.derive.torch_models), whose masks stay on during the re-training (a
pruned weight cannot grow back: the sparsity is the requested one after any number of steps), then made
permanent and exported.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from onnx import numpy_helper

from harness.derive import Derived, weight_names
from harness.models.prepare import prepare_model, save_prepared


def prune_global(model: Path, out: Path, sparsity: float, finetune_steps: int = 0,
                 checkpoint: Path | None = None) -> Derived:
    """Write ``model`` with the smallest ``sparsity`` fraction of its weights set to zero to ``out``; re-trained
    for ``finetune_steps`` steps with the zeros kept (resuming from ``checkpoint`` where it exists)."""
    import torch
    from torch.nn.utils import prune

    if not 0.0 <= sparsity < 1.0:
        raise ValueError(f"sparsity {sparsity!r}: give a fraction in [0, 1)")
    if finetune_steps:
        return _prune_global_finetuned(Path(model), Path(out), sparsity, finetune_steps, checkpoint)
    prepared, done = prepare_model(model, fold=True)
    names = weight_names(prepared)
    if not names:
        raise ValueError(f"{model}: no Conv/Gemm/MatMul weight initializers to prune")
    by_name = {init.name: init for init in prepared.graph.initializer}
    holders = []
    for name in names:
        holder = torch.nn.Module()
        holder.weight = torch.nn.Parameter(torch.from_numpy(numpy_helper.to_array(by_name[name]).copy()))
        holders.append(holder)
    if sparsity > 0:
        prune.global_unstructured([(h, "weight") for h in holders], pruning_method=prune.L1Unstructured,
                                  amount=sparsity)
    for name, holder in zip(names, holders):
        pruned = (holder.weight_orig * holder.weight_mask if sparsity > 0 else holder.weight).detach().numpy()
        dtype = numpy_helper.to_array(by_name[name]).dtype
        by_name[name].CopyFrom(numpy_helper.from_array(np.ascontiguousarray(pruned, dtype=dtype), name))
    save_prepared(prepared, Path(out))
    return Derived(Path(out), "prune-global", {"requested_sparsity": sparsity, "prepared": done})


def _prune_global_finetuned(model: Path, out: Path, sparsity: float, steps: int, checkpoint: Path | None) -> Derived:
    import hashlib

    from torch.nn.utils import prune

    from harness.derive.torch_models import export_onnx, finetune, loss_summary, torch_model_for, weight_modules

    builder, built = torch_model_for(model, "--finetune-steps")
    layers = [(m, "weight") for m in weight_modules(built.module)]
    if sparsity > 0:
        prune.global_unstructured(layers, pruning_method=prune.L1Unstructured, amount=sparsity)
    recipe = {"method": "prune-global", "sparsity": sparsity, "builder": builder,
              "source_md5": hashlib.md5(model.read_bytes()).hexdigest()}
    losses = finetune(built, steps, checkpoint=checkpoint, recipe=recipe)
    if sparsity > 0:
        for module, name in layers:
            prune.remove(module, name)  # weight = weight_orig * mask, as a plain parameter
    export_onnx(built, out)
    return Derived(out, "prune-global", {"requested_sparsity": sparsity, "torch_builder": builder,
                                         "finetune_steps": steps, "finetune_loss_first_last": loss_summary(losses)})
