"""The torch side of a derivation: the model as torch modules, and its fine-tuning.

Channel pruning rebuilds layers and fine-tuning trains them, so both need the model as torch modules: a **torch
builder** turns an ONNX file into the torch model whose export it is (``TORCH_BUILDERS``: ``ssd_small``, the
architecture of the embedded detector and of every export of it, loaded weight for weight by ``ssd_from_onnx``,
which refuses a file of another architecture). A bare ONNX file no builder accepts is refused with a message
that says so. The derived model is exported as the original was (legacy exporter, eval mode, the same input and
output names and opset), so every command and the split engine run it unchanged.

Fine-tuning (seed 001 §5 allows re-training "accompanied by results without re-training", so the un-tuned model
is a cell of its own): the builder's own loss and training batches (for ssd_small, the multibox loss on the
generated training stream at a fixed offset past the batches the detector was trained on), Adam, seeded, in one
torch thread (harness.torch_cpu: the weights do not depend on the worker count or on what ran before in the
process): the same steps give the same weights on one machine. **Resumable**: with a checkpoint file, the state (weights,
optimizer, random generator, losses, step) is written atomically every ``every`` steps and at the end; a run
given an existing checkpoint of the same recipe continues from its step, and reaches the weights the run without
interruption reaches (the batches depend on the step index only). A checkpoint of another recipe is refused.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from harness.files import atomic_write_bytes
from harness.registry import Registry
from harness.torch_cpu import torch_threads


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
#: first batch (of 16) of the fine-tuning stream: image 153 600 on, past every image ssd_small's training read
#: (its model JSON: three stages, 4800 batches of 32 from the stream's start)
FINETUNE_OFFSET = 9600
#: the torch modules whose weights pruning and quantization touch (harness.derive.WEIGHT_OPS in the ONNX graph)
WEIGHT_MODULES = ("Conv2d", "ConvTranspose2d", "Linear")


def weight_modules(module: Any) -> list[Any]:
    """The submodules of ``module`` whose type is one of :data:`WEIGHT_MODULES`, in module order."""
    import torch

    types = tuple(getattr(torch.nn, name) for name in WEIGHT_MODULES)
    return [m for m in module.modules() if isinstance(m, types)]


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


def torch_model_for(path: Path, purpose: str = "--structured") -> tuple[str, TorchModel]:
    """(builder name, built model) of the first registered builder that accepts ``path``; ValueError naming
    every builder tried otherwise (``purpose``: the option that needs it, for the message)."""
    refusals = []
    for name in TORCH_BUILDERS.names():
        try:
            return name, TORCH_BUILDERS.get(name)(Path(path))
        except (ValueError, KeyError, RuntimeError) as exc:
            refusals.append(f"{name}: {str(exc).splitlines()[0][:160]}")
    raise ValueError(f"{purpose} needs the model's torch builder (it rebuilds or re-trains the layers); no "
                     f"registered builder accepts {path} ({'; '.join(refusals)}): derive it without {purpose}")


def finetune(model: TorchModel, steps: int, lr: float = 1e-3, seed: int = 0, checkpoint: Path | None = None,
             recipe: dict[str, Any] | None = None, every: int = 50) -> list[float]:
    """``steps`` of Adam on the builder's loss and batches (seeded); the losses of the steps. ``checkpoint``:
    resume from it if it exists (its ``recipe`` must equal this one), write it every ``every`` steps."""
    import torch

    if steps < 0:
        raise ValueError(f"fine-tuning steps {steps}: give 0 (no re-training) or more")
    recipe = {**(recipe or {}), "lr": lr, "seed": seed, "torch": str(torch.__version__)}
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam([p for p in model.module.parameters() if p.requires_grad], lr=lr)
    start, losses = 0, []
    if checkpoint is not None and Path(checkpoint).exists():
        try:
            state = torch.load(str(checkpoint), weights_only=True)
        except Exception as exc:  # a truncated or foreign file: say which, not an unpickling traceback
            raise ValueError(f"checkpoint {checkpoint} cannot be read as a fine-tuning checkpoint "
                             f"({type(exc).__name__}); delete it to re-train from the start") from None
        if state.get("recipe") != recipe:
            raise ValueError(f"checkpoint {checkpoint} was written by another fine-tuning ({state.get('recipe')}, "
                             f"this one: {recipe}); delete it or give another checkpoint file")
        if state["step"] > steps:
            raise ValueError(f"checkpoint {checkpoint} is at step {state['step']}, past the {steps} asked for")
        model.module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"])
        start, losses = int(state["step"]), list(state["losses"])

    def save(step: int) -> None:
        buffer = io.BytesIO()
        torch.save({"recipe": recipe, "step": step, "model": model.module.state_dict(),
                    "optimizer": optimizer.state_dict(), "rng": torch.get_rng_state(), "losses": losses}, buffer)
        atomic_write_bytes(Path(checkpoint), buffer.getvalue())

    model.module.train()
    with torch_threads(1):
        for step in range(start, steps):
            inputs, targets = model.batch(step)
            loss = model.loss(model.module(inputs), targets)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
            if checkpoint is not None and ((step + 1) % every == 0 or step + 1 == steps):
                save(step + 1)
    model.module.eval()
    return losses


def export_onnx(model: TorchModel, out: Path) -> None:
    """The torch model exported as the original was, written atomically to ``out``."""
    import torch

    model.module.eval()
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model.module, (model.example,), buffer, dynamo=False, do_constant_folding=True,
                          **model.export)
    atomic_write_bytes(Path(out), buffer.getvalue())


def loss_summary(losses: list[float]) -> list[float]:
    """[first step's loss, mean of the last 10]: what a fine-tuning did, for a derivation's details."""
    return [round(losses[0], 4), round(sum(losses[-10:]) / len(losses[-10:]), 4)]
