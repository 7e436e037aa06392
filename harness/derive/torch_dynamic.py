"""Dynamic INT8 quantization of a torch model's recurrent and linear layers (``torch.ao.quantization``): the
derivation of models onnxruntime's quantizer cannot take (it has no GRU kernel), such as the embedded ASR model.
Weights are stored as int8 with per-tensor scales; activations are quantized at run time."""
from __future__ import annotations

import io
import warnings
import zlib
from typing import Any

import torch

DYNAMIC_LAYERS = (torch.nn.GRU, torch.nn.LSTM, torch.nn.Linear)


def quantize_dynamic(model: torch.nn.Module) -> torch.nn.Module:
    """An int8 copy of ``model`` (GRU, LSTM and Linear layers quantized; the rest in float)."""
    with warnings.catch_warnings():  # torch announces the move of eager quantization to torchao; it still works
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, set(DYNAMIC_LAYERS), dtype=torch.qint8)


def state_figures(model: torch.nn.Module) -> dict[str, Any]:
    """``file_bytes`` (the state dict as torch.save writes it), ``zlib_bytes``, float ``parameters`` and the
    ``sparsity`` of the float weights, for a torch model (quantized modules' packed weights count as bytes)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.save(model.state_dict(), buffer)
    data = buffer.getvalue()
    floats = [t for t in model.state_dict().values() if isinstance(t, torch.Tensor) and t.is_floating_point()]
    total = sum(int(t.numel()) for t in floats)
    zeros = sum(int((t == 0).sum()) for t in floats)
    quantized = sum(1 for m in model.modules() if type(m).__module__.startswith("torch.ao.nn.quantized"))
    return {"file_bytes": len(data), "zlib_bytes": len(zlib.compress(data, 9)), "parameters": total,
            "weights": total, "sparsity": zeros / total if total else 0.0, "quantized_modules": quantized}
