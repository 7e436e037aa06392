"""Quantization-aware fine-tuning before static QDQ quantization (seed 001 §5's "re-training allowed").

The torch model a builder makes of the file (harness.derive.torch_models) is re-trained with the rounding that
onnxruntime's static QDQ quantization applies afterwards simulated in its forward pass, so the weights learn to
live with it; the gradients pass the rounding unchanged (straight-through, torch's fake-quantize kernels):

* every Conv/Linear weight: per output channel, symmetric int8 with scale max|w| / 127, what onnxruntime's
  per-channel QInt8 weights are (``torch.fake_quantize_per_channel_affine``);
* every Conv/Linear input: uint8 with a min-max range, onnxruntime's QUInt8 activations under min-max
  calibration; the range starts at the calibration feeds' minimum and maximum on the float model (as the
  calibration sets them) and follows the training batches as a moving average (``torch.ao.quantization``'s
  ``FakeQuantize`` with ``MovingAverageMinMaxObserver``).

Then the simulation is taken off, the float weights are exported as the original was, and onnxruntime
quantizes that file with the same calibration feeds (harness.derive.quantize): the integer model is onnxruntime's
own, only its float weights are re-trained.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from harness.torch_cpu import torch_threads

#: Adam's step size of the re-training, far below a pruned model's 1e-3 (harness.derive.torch_models.finetune):
#: the weights only need to move within a quantization step or two. ssd_small, 50 steps, calc_map of the QDQ
#: model (plain static QDQ: 81.15): 1e-4 -> 82.20, 3e-5 -> 82.64, 1e-5 -> 80.50 (an earlier trial that also
#: simulated the rounding of the heads' outputs did worse at each of these step sizes)
QAT_LR = 3e-5


def _weight_fake_quant() -> Any:
    import torch

    class PerChannelInt8(torch.nn.Module):
        def forward(self, weight: torch.Tensor) -> torch.Tensor:
            flat = weight.detach().abs().reshape(weight.shape[0], -1).amax(dim=1)
            scale = torch.clamp(flat / 127.0, min=1e-12).to(torch.float32)
            zero = torch.zeros(weight.shape[0], dtype=torch.int32)
            return torch.fake_quantize_per_channel_affine(weight, scale, zero, 0, -127, 127)

    return PerChannelInt8()


def calibrated_ranges(module: Any, layers: Sequence[Any], calibration: Sequence[dict[str, np.ndarray]]) -> list[Any]:
    """Each layer's input range over the calibration feeds, min to max (onnxruntime's MinMax calibration), on the
    float model: a ``MinMaxObserver`` per layer."""
    import torch
    from torch.ao.quantization import MinMaxObserver

    observers = [MinMaxObserver(dtype=torch.quint8) for _ in layers]
    hooks = [layer.register_forward_pre_hook(lambda m, args, seen=seen: (seen(args[0]), *args[1:]))
             for layer, seen in zip(layers, observers)]
    try:
        module.eval()
        with torch.no_grad():
            for feed in calibration:
                if len(feed) != 1:
                    raise ValueError(f"quantization-aware fine-tuning feeds a model of one input; a calibration "
                                     f"feed holds {', '.join(sorted(feed))}")
                module(torch.from_numpy(np.asarray(next(iter(feed.values())), np.float32)))
    finally:
        for hook in hooks:
            hook.remove()
    return observers


@contextmanager
def simulated_quantization(module: Any, calibration: Sequence[dict[str, np.ndarray]]) -> Iterator[list[Any]]:
    """``module`` with int8 weights and uint8 layer inputs simulated (see the module docstring), each input's
    range starting at the calibration feeds' min and max; everything taken off again on exit (the float weights
    stay as trained). Yields the simulated layers (harness.derive.torch_models.weight_modules)."""
    import torch
    from torch.ao.quantization import FakeQuantize, MovingAverageMinMaxObserver
    from torch.nn.utils import parametrize

    from harness.derive.torch_models import weight_modules

    layers = weight_modules(module)
    transposed = [type(layer).__name__ for layer in layers if isinstance(layer, torch.nn.ConvTranspose2d)]
    if transposed:  # its weight's output channels are axis 1, which the per-channel rounding here does not take
        raise ValueError("quantization-aware fine-tuning simulates Conv2d and Linear weights; the model has "
                         f"{len(transposed)} ConvTranspose2d layer(s): quantize it without --finetune-steps")
    ranges = calibrated_ranges(module, layers, calibration)
    hooks = []
    for layer, seen in zip(layers, ranges):
        parametrize.register_parametrization(layer, "weight", _weight_fake_quant())
        layer.input_fake_quant = FakeQuantize(observer=MovingAverageMinMaxObserver, quant_min=0, quant_max=255,
                                              dtype=torch.quint8, qscheme=torch.per_tensor_affine)
        layer.input_fake_quant.activation_post_process.min_val.copy_(seen.min_val)
        layer.input_fake_quant.activation_post_process.max_val.copy_(seen.max_val)
        hooks.append(layer.register_forward_pre_hook(lambda m, args: (m.input_fake_quant(args[0]), *args[1:])))
    try:
        yield layers
    finally:
        for hook in hooks:
            hook.remove()
        for layer in layers:
            del layer.input_fake_quant
            parametrize.remove_parametrizations(layer, "weight", leave_parametrized=False)


def quantization_aware_finetune(model: Path, out: Path, calibration: Sequence[dict[str, np.ndarray]], steps: int,
                                checkpoint: Path | None = None) -> dict[str, Any]:
    """Re-train ``model``'s float weights for ``steps`` steps under :func:`simulated_quantization` and export
    them to ``out`` (a float ONNX file for onnxruntime to quantize); what the re-training did."""
    import hashlib

    from harness.derive.torch_models import export_onnx, finetune, loss_summary, torch_model_for

    if not calibration:
        raise ValueError("quantization-aware fine-tuning starts from the calibration ranges: give calibration data")
    builder, built = torch_model_for(model, "--finetune-steps")
    feeds = hashlib.md5()  # the ranges start at the calibration feeds': a checkpoint of other feeds is another run
    for feed in calibration:
        for name in sorted(feed):
            feeds.update(name.encode())
            feeds.update(np.ascontiguousarray(feed[name]).tobytes())
    recipe = {"method": "qdq-static", "calibration_feeds": len(calibration), "calibration_md5": feeds.hexdigest(),
              "builder": builder, "source_md5": hashlib.md5(Path(model).read_bytes()).hexdigest()}
    with torch_threads(1), simulated_quantization(built.module, calibration):  # ranges: as the training's sums
        losses = finetune(built, steps, lr=QAT_LR, checkpoint=checkpoint, recipe=recipe)
    export_onnx(built, out)
    return {"torch_builder": builder, "finetune_steps": steps, "finetune_loss_first_last": loss_summary(losses)}
