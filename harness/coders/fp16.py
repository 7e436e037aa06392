"""``fp16``: numpy float32 -> float16 conversion, as in seed 000 (half the size, ~3 significant digits).

Overflow decision: a finite value that float16 cannot hold (|x| >= 65520, which numpy rounds to inf) raises
a ValueError naming the tensor and its largest magnitude, instead of silently becoming inf or being clamped.
A clamp would change the features without any trace in the bitstream or the results; an error makes the
user pick a coder that fits the data (raw, qlayer, nncodec). Every accepted input decodes to exactly
``x.astype(np.float16)`` (values below float16's normal range become subnormals or zero, as numpy does).
"""
from __future__ import annotations

import numpy as np

from harness.coders.base import CODERS, Coder
from harness.coders.container import BitstreamError

FLOAT16_MAX = float(np.finfo(np.float16).max)  # 65504


@CODERS.register("fp16")
class Float16Coder(Coder):
    name = "fp16"
    size_depends_on_values = False

    def encode_tensor(self, name: str, array: np.ndarray) -> bytes:
        with np.errstate(over="ignore"):
            half = array.astype("<f2")
        if not np.isfinite(half).all():
            largest = float(np.max(np.abs(array.astype(np.float32))))
            raise ValueError(f"fp16: tensor {name!r} has a value of magnitude {largest:.6g}, beyond the float16 "
                             f"range (largest finite {FLOAT16_MAX:g}); it would become inf. Use raw, qlayer or "
                             "nncodec for this tensor, or rescale it")
        return half.tobytes()

    def encode_array(self, array: np.ndarray) -> bytes:
        return self.encode_tensor("<unnamed>", array)

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        count = int(np.prod(shape))
        if len(payload) != 2 * count:
            raise BitstreamError(f"corrupt fp16 payload: {len(payload)} bytes for {count} float16 values")
        half = np.frombuffer(payload, dtype="<f2")
        if not np.isfinite(half).all():
            raise BitstreamError("corrupt fp16 payload: contains inf/NaN, which the encoder never writes")
        return half.reshape(shape).astype(np.float32)
