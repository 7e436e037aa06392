"""``raw``: float32 values as they are (the seed 001 "dummy" coder), the lossless size baseline.

float16 input is widened to float32 (exact) and returned as float16, so every accepted input round-trips
bit for bit.
"""
from __future__ import annotations

import numpy as np

from harness.coders.base import CODERS, Coder
from harness.coders.container import BitstreamError


@CODERS.register("raw")
class RawCoder(Coder):
    name = "raw"
    size_depends_on_values = False
    lossless = True

    def encode_array(self, array: np.ndarray) -> bytes:
        return array.astype("<f4", copy=False).tobytes()

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        count = int(np.prod(shape))
        if len(payload) != 4 * count:
            raise BitstreamError(f"corrupt raw payload: {len(payload)} bytes for {count} float32 values")
        return np.frombuffer(payload, dtype="<f4").reshape(shape).astype(np.float32)
