"""``int8``: symmetric per-tensor 8-bit quantisation, the usual post-training weight quantisation of a model.

    scale = max|V| / 127,   Q = round(V / scale) in [-127, 127] (int8),   V^ = Q * scale

The scale travels as one float32 (4 bytes) before the int8 samples, so a tensor costs n + 4 bytes (about a
quarter of float32). An all-zero tensor has scale 0 and decodes exactly. No entropy coding: the bitstream is
the "quantised parameters as N-byte values" case b) of seed 001 §10.1.7.
"""
from __future__ import annotations

import struct

import numpy as np

from harness.coders.base import CODERS, Coder
from harness.coders.container import BitstreamError

_SCALE = struct.Struct("<f")


@CODERS.register("int8")
class Int8Coder(Coder):
    name = "int8"
    size_depends_on_values = False

    def encode_array(self, array: np.ndarray) -> bytes:
        peak = float(np.max(np.abs(array)))
        scale = np.float32(peak / 127.0)
        if scale == 0:
            q = np.zeros(array.shape, dtype=np.int8)
        else:
            q = np.clip(np.rint(array.astype(np.float64) / float(scale)), -127, 127).astype(np.int8)
        return _SCALE.pack(scale) + q.tobytes()

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        count = int(np.prod(shape))
        if len(payload) != _SCALE.size + count:
            raise BitstreamError(f"corrupt int8 payload: {len(payload)} bytes for {count} values plus a 4-byte scale")
        (scale,) = _SCALE.unpack_from(payload)
        if not np.isfinite(scale) or scale < 0:
            raise BitstreamError(f"corrupt int8 payload: scale {scale!r} is not a finite non-negative number")
        q = np.frombuffer(payload, dtype=np.int8, offset=_SCALE.size).reshape(shape)
        return (q.astype(np.float32) * np.float32(scale)).astype(np.float32)
