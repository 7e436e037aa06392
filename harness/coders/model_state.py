"""Coding a model's state_dict (seed 001 §2.1.2.1/§2.1.2.5): the state as ``{name: ndarray}``, a coder's
container as the bitstream, and the decoded tensors loaded back into the architecture.

The bitstream is the coder's container, so its size is exactly what would be transmitted. Decoding rebuilds
the tensors and loads them into a fresh copy of the architecture after checking every name, shape and dtype
(a mismatch names the tensor), so a bitstream made for another architecture fails loudly instead of giving a
model that scores nonsense.

torch is imported inside the functions that need it: importing :mod:`harness.coders` loads every coder
module, and the intermediate-data coders must not pay for torch.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

from harness.coders.base import Coder, decode_any

if TYPE_CHECKING:
    import torch


class ModelMismatchError(ValueError):
    """A decoded state_dict that does not fit the model architecture."""


@dataclass
class CodedModel:
    model: torch.nn.Module
    bitstream: bytes
    enc_time: float
    dec_time: float

    @property
    def rec_size(self) -> int:
        return len(self.bitstream)


def state_dict_arrays(model: torch.nn.Module) -> dict[str, np.ndarray]:
    """The state_dict as numpy arrays (CPU, contiguous), in the model's own order."""
    return {name: tensor.detach().cpu().contiguous().numpy() for name, tensor in model.state_dict().items()}


def load_decoded(template: torch.nn.Module, decoded: dict[str, np.ndarray]) -> torch.nn.Module:
    """A copy of ``template`` holding ``decoded``; raises ModelMismatchError naming the first misfit tensor."""
    import torch

    expected = template.state_dict()
    missing = [name for name in expected if name not in decoded]
    if missing:
        raise ModelMismatchError(f"decoded state_dict lacks tensor {missing[0]!r} of the architecture "
                                 f"({len(missing)} missing in all)")
    extra = [name for name in decoded if name not in expected]
    if extra:
        raise ModelMismatchError(f"decoded state_dict has tensor {extra[0]!r}, which the architecture does not have")
    for name, want in expected.items():
        got = decoded[name]
        if tuple(got.shape) != tuple(want.shape):
            raise ModelMismatchError(f"decoded tensor {name!r} has shape {tuple(got.shape)}, "
                                     f"the architecture expects {tuple(want.shape)}")
        if str(want.dtype).replace("torch.", "") != got.dtype.name:
            raise ModelMismatchError(f"decoded tensor {name!r} has dtype {got.dtype.name}, "
                                     f"the architecture expects {str(want.dtype).replace('torch.', '')}")
    model = copy.deepcopy(template)
    model.load_state_dict({name: torch.from_numpy(np.array(arr, copy=True)) for name, arr in decoded.items()})
    return model.eval()


def states_identical(a: Mapping[str, np.ndarray], b: Mapping[str, np.ndarray]) -> bool:
    """Whether two states hold the same tensors bit for bit: names in order, dtypes, shapes and bytes."""
    if list(a) != list(b):
        return False
    return all(a[n].dtype == b[n].dtype and a[n].shape == b[n].shape and a[n].tobytes() == b[n].tobytes() for n in a)


def code_model(model: torch.nn.Module, coder: Coder) -> CodedModel:
    """Encode the model's state_dict with ``coder``, decode it (with the coder named in the bitstream)."""
    arrays = state_dict_arrays(model)
    start = time.perf_counter()
    bitstream = coder.encode(arrays)
    enc_time = time.perf_counter() - start
    start = time.perf_counter()
    decoded = decode_any(bitstream)
    dec_time = time.perf_counter() - start
    return CodedModel(load_decoded(model, decoded), bitstream, enc_time, dec_time)
