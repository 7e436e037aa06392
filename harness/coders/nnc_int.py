"""``nnc-int``: a model quantised to integer codes on nested min-max grids, the codes coded by NNCodec.

Parameters:
  bits       1..31: precision of the codes (NNCodec's integer bit-depth range)
  base_bits  0: the stream is a model at ``bits``; L (< bits): the exact update from an L-bit model to ``bits``

The grids and the two claims that make ``low + update == high`` bit for bit are in
:mod:`harness.coders.nested_grid`. Payload of one floating tensor::

    lo   channels x float32   min of each channel (channels = shape[0] from 2-D up, else 1)
    hi   channels x float32   max of each channel
    nnc  NNCodec bitstream of the int32 codes minus a centre (the per-channel code of 0.0 for a model,
         2^(s-1) for an update), viewed as (1, n) when the tensor has fewer than two dimensions

NNCodec codes int32 tensors without quantising them (its approximator marks them ``skip``) and decodes them
to the same integers, so the codes survive coding exactly; the decoder checks that they lie in range.
Decoding a model gives its float32 reconstruction; decoding an update on its own gives the float increment
it stands for, x^_bits - x^_base_bits (:func:`harness.coders.nested_grid.increment`). Clients that apply an update
work on the integer codes instead: :meth:`NncIntCoder.decode_quantised`. Integer and bool tensors are
stored exactly, as by every coder.
"""
from __future__ import annotations

import functools
import tempfile
from typing import Mapping

import numpy as np

from harness.coders.nested_grid import MAX_BITS, QuantisedTensor, channel_count, zero_point
from harness.coders.base import CODERS, Coder, Param, make_coder
from harness.coders.container import EXACT_DTYPES, BitstreamError, TensorEntry, pack, unpack, validate_tensors
from harness.coders.nnc import nnc_shape, quiet_nncodec

Quantised = Mapping[str, "QuantisedTensor | np.ndarray"]


@CODERS.register("nnc-int")
class NncIntCoder(Coder):
    name = "nnc-int"
    rate_param = "bits"
    params = (
        Param("bits", int, 8, low=1, high=MAX_BITS, help="precision of the integer codes"),
        Param("base_bits", int, 0, low=0, high=MAX_BITS - 1, help="0: a model; L: the update from L bits"),
    )

    def __init__(self, **values: object) -> None:
        super().__init__(**values)
        if self.base_bits and self.base_bits >= self.bits:
            raise ValueError(f"coder 'nnc-int': base_bits={self.base_bits} must be below bits={self.bits}")

    @property
    def bits(self) -> int:
        return self.values["bits"]

    @property
    def base_bits(self) -> int:
        return self.values["base_bits"]

    # --- one tensor ------------------------------------------------------------------------------------
    def quantise(self, array: np.ndarray) -> QuantisedTensor:
        tensor = QuantisedTensor.of(array, self.bits)
        return tensor.update_from(self.base_bits) if self.base_bits else tensor

    def _centre(self, tensor: QuantisedTensor) -> np.ndarray:
        if tensor.is_update:
            return np.int64(1 << (tensor.bits - tensor.base_bits - 1))
        centre = zero_point(tensor.lo, tensor.hi, tensor.bits)
        return centre.reshape((-1,) + (1,) * (tensor.codes.ndim - 1)) if tensor.codes.ndim >= 2 else centre.reshape(())

    def payload(self, tensor: QuantisedTensor) -> bytes:
        import nncodec.tensor

        if (tensor.bits, tensor.base_bits) != (self.bits, self.base_bits):
            raise ValueError(f"coder {self.spec!r} cannot code a tensor quantised at bits={tensor.bits}, "
                             f"base_bits={tensor.base_bits}")
        centred = (tensor.codes - self._centre(tensor)).astype(np.int32)
        with tempfile.TemporaryDirectory(prefix="harness-nncint-") as scratch, quiet_nncodec():
            stream = nncodec.tensor.encode(centred.reshape(nnc_shape(centred.shape)),
                                           args={"results": scratch, "verbose": False})
        bounds = np.concatenate([tensor.lo, tensor.hi]).astype("<f4")
        return bounds.tobytes() + bytes(stream)

    def parse_payload(self, payload: bytes, shape: tuple[int, ...]) -> QuantisedTensor:
        import nncodec.tensor

        channels = channel_count(shape)
        if len(payload) <= 8 * channels:
            raise BitstreamError(f"corrupt nnc-int payload: {len(payload)} bytes, not even the {8 * channels}-byte "
                                 "channel bounds and a bitstream")
        bounds = np.frombuffer(payload, dtype="<f4", count=2 * channels).astype(np.float32)
        lo, hi = bounds[:channels].copy(), bounds[channels:].copy()
        if not (np.isfinite(bounds).all() and (lo <= hi).all()):
            raise BitstreamError("corrupt nnc-int payload: channel bounds not finite or min above max")
        try:
            with quiet_nncodec():
                decoded = np.asarray(nncodec.tensor.decode(bytearray(payload[8 * channels:])))
        except (Exception, SystemExit) as exc:  # nncodec signals bad input with SystemExit or assertions
            raise BitstreamError(f"corrupt nnc-int payload: {type(exc).__name__}: {exc}") from None
        if decoded.dtype != np.int32 or decoded.size != int(np.prod(shape)):
            raise BitstreamError(f"corrupt nnc-int payload: decoded {decoded.dtype} {decoded.shape}, expected "
                                 f"int32 {shape}")
        tensor = QuantisedTensor(np.zeros(shape, np.int64), lo, hi, self.bits, self.base_bits)
        codes = decoded.reshape(shape).astype(np.int64) + self._centre(tensor)
        top = 1 << (self.bits - self.base_bits)
        if codes.size and (codes.min() < 0 or codes.max() >= top):
            raise BitstreamError(f"corrupt nnc-int payload: codes outside [0, {top})")
        return QuantisedTensor(codes, lo, hi, self.bits, self.base_bits)

    def encode_array(self, array: np.ndarray) -> bytes:
        return self.payload(self.quantise(array))

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        return self.parse_payload(payload, shape).reconstruct()

    # --- whole streams of codes ------------------------------------------------------------------------
    def encode_quantised(self, tensors: Quantised) -> bytes:
        """A container of already quantised tensors (and exact ones, stored as they are), in the given order."""
        entries = []
        for name, value in tensors.items():
            if isinstance(value, QuantisedTensor):
                entries.append(TensorEntry(name, "float32", tuple(value.codes.shape), self.payload(value)))
            else:
                (array,) = validate_tensors({name: value}).values()
                if array.dtype.name not in EXACT_DTYPES:
                    raise ValueError(f"tensor {name!r} is {array.dtype}: quantise floating tensors first")
                entries.append(TensorEntry(name, array.dtype.name, tuple(array.shape), array.tobytes()))
        if not entries:
            raise ValueError("no tensors to encode")
        return pack(self.spec, entries)

    def decode_entries_quantised(self, entries: list[TensorEntry]) -> dict[str, "QuantisedTensor | np.ndarray"]:
        exact = [e for e in entries if e.dtype in EXACT_DTYPES]
        out: dict[str, QuantisedTensor | np.ndarray] = dict(Coder.decode_entries(self, exact)) if exact else {}
        for entry in entries:
            if entry.dtype not in EXACT_DTYPES:
                out[entry.name] = self.parse_payload(entry.payload, entry.shape)
        return {entry.name: out[entry.name] for entry in entries}


@functools.lru_cache(maxsize=1)
def warm_up() -> None:
    """Import NNCodec (and torch under it) and code one tiny tensor, once per process, so that timings of
    the streams measure coding, not the first import (several seconds)."""
    coder = NncIntCoder(bits=2)
    decode_quantised(coder.encode_quantised({"w": QuantisedTensor.of(np.eye(2, dtype=np.float32), 2)}))


def decode_quantised(data: bytes) -> tuple[NncIntCoder, dict[str, "QuantisedTensor | np.ndarray"]]:
    """The coder named in an ``nnc-int`` container and its tensors as integer codes (exact ones as arrays)."""
    spec, entries = unpack(data)
    try:
        coder = make_coder(spec)
    except ValueError as exc:
        raise BitstreamError(f"container names coder {spec!r}, which this build cannot decode: {exc}") from None
    if not isinstance(coder, NncIntCoder):
        raise BitstreamError(f"container was written by coder {spec!r}, not by nnc-int: it holds no integer codes")
    return coder, coder.decode_entries_quantised(entries)
