"""``qlayer``: the min-max n-bit Q-layer of seed 002 (eqs. 2-3) followed by a lossless stage.

    Q  = round((V - min V) / (max V - min V) * (2^n - 1))          (2)
    V^ = Q * (max V - min V) / (2^n - 1) + min V                    (3)

per tensor, computed in float64 (so the only error is the quantisation, at most half a step
(max-min)/(2^n-1)/2, plus the final rounding of V^ to float32). min and max travel as two float32 values
(8 bytes, counted in the size). A constant tensor (max == min) quantises to all zeros and decodes exactly.
Lossless stage (``level`` 1..9, default 9 = smallest; level 6 encodes ~10x faster for ~3 % more bytes):
``zlib`` (the default) on the samples (uint8 for n <= 8, else uint16 LE), or
``png``: channels tiled into one 8/16-bit grayscale image as in seed 002 §3.2 (see tiling.py).
"""
from __future__ import annotations

import struct
import zlib

import numpy as np

from harness.coders.base import CODERS, Coder, Param
from harness.coders.container import BitstreamError
from harness.coders.tiling import decode_png, encode_png

_RANGE = struct.Struct("<ff")  # min, max


def sample_dtype(bits: int) -> np.dtype:
    return np.dtype(np.uint8) if bits <= 8 else np.dtype("<u2")


def quantise(array: np.ndarray, bits: int) -> tuple[float, float, np.ndarray]:
    """(min, max, Q) of eq. 2 for a float32 array."""
    lo, hi = float(array.min()), float(array.max())
    levels = (1 << bits) - 1
    if hi == lo:
        return lo, hi, np.zeros(array.shape, dtype=sample_dtype(bits))
    scaled = (array.astype(np.float64) - lo) / (hi - lo) * levels
    return lo, hi, np.rint(scaled).astype(sample_dtype(bits))


def dequantise(q: np.ndarray, lo: float, hi: float, bits: int) -> np.ndarray:
    """V^ of eq. 3 as float32, clipped to [min, max] so float64 rounding can never step outside the range."""
    levels = (1 << bits) - 1
    values = q.astype(np.float64) * (hi - lo) / levels + lo
    return np.clip(values, lo, hi).astype(np.float32)


@CODERS.register("qlayer")
class QLayerCoder(Coder):
    name = "qlayer"
    rate_param = "bits"
    params = (
        Param("bits", int, 8, low=1, high=16, help="quantisation bits n (seed 002 uses 8, 10, 12)"),
        Param("lossless", str, "zlib", choices=("zlib", "png"), help="lossless stage after the Q-layer"),
        Param("level", int, 9, low=1, high=9, help="zlib/PNG compression level (9: smallest, ~10x slower than 6)"),
    )

    @property
    def bits(self) -> int:
        return self.values["bits"]

    def encode_array(self, array: np.ndarray) -> bytes:
        lo, hi, q = quantise(array, self.bits)
        if self.values["lossless"] == "png":
            stream = encode_png(q, self.values["level"])
        else:
            stream = zlib.compress(q.astype(q.dtype.newbyteorder("<")).tobytes(), self.values["level"])
        return _RANGE.pack(lo, hi) + stream

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        if len(payload) < _RANGE.size:
            raise BitstreamError(f"corrupt qlayer payload: {len(payload)} bytes, shorter than its min/max")
        lo, hi = _RANGE.unpack_from(payload)
        if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
            raise BitstreamError(f"corrupt qlayer payload: impossible range min={lo!r} max={hi!r}")
        dtype = sample_dtype(self.bits)
        count = int(np.prod(shape))
        stream = payload[_RANGE.size:]
        if self.values["lossless"] == "png":
            q = decode_png(stream, shape, dtype)
        else:
            q = np.frombuffer(_inflate(stream, count * dtype.itemsize), dtype=dtype.newbyteorder("<")).reshape(shape)
        if q.max() > (1 << self.bits) - 1:
            raise BitstreamError(f"corrupt qlayer payload: sample {int(q.max())} exceeds {self.bits} bits")
        return dequantise(q, lo, hi, self.bits)


def _inflate(stream: bytes, expected: int) -> bytes:
    """zlib-decompress exactly ``expected`` bytes; anything else (or a decompression bomb) is corrupt."""
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(stream, expected + 1)
    except zlib.error as exc:
        raise BitstreamError(f"corrupt qlayer zlib stream: {exc}") from None
    if len(data) != expected or not inflater.eof or inflater.unused_data:
        raise BitstreamError(f"corrupt qlayer zlib stream: {len(data)} bytes inflated, expected {expected}")
    return data
