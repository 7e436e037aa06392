"""Nested uniform min-max grids: the b-bit code of a value is the first b bits of its place in [min, max].

Quantisation (seed 001 §10.6.9 "uniform quantization"), per output channel for tensors of two or more
dimensions (axis 0: conv filters, linear rows, GRU gate rows) and per tensor for 0-D/1-D tensors (biases,
norms), min-max (asymmetric), mid-rise with 2^b cells::

    lo, hi  = min and max of the channel (float32, carried in the bitstream)
    t       = (x - lo) / (hi - lo)                  float64, in [0, 1]; t = 0 when hi == lo
    q_b     = min(floor(t * 2^b), 2^b - 1)          integer code in [0, 2^b)
    x^_b    = lo + (q_b + 1/2) * (hi - lo) * 2^-b   centre of the cell, float64 rounded once to float32

Why min-max per channel: batch-norm variances are all positive and folded conv filters differ in range by
orders of magnitude between output channels; a symmetric per-tensor grid wastes most levels at 4 bits. The
side information is 8 bytes per channel. Why mid-rise: every b-bit cell is the union of two (b+1)-bit cells,
so the grids of all bit widths nest (a mid-tread grid, which keeps 0 exact, does not nest: its 2^b + 1 levels
for the L-bit range need L + 1 bits). Constant channels (hi == lo) reconstruct exactly.

Claim 1 (nesting): for L < H and s = H - L, ``q_L == q_H >> s`` for every value, bit for bit.
  t does not depend on b, and t * 2^b is exact in binary floating point (scaling by a power of two; t is 0
  or at least 2^-300, far from underflow). For real a >= 0 and integer n >= 1, floor(floor(a) / n) =
  floor(a / n); with a = t * 2^H and n = 2^s, floor(q_H / 2^s) = floor(t * 2^L). Clipping agrees: t < 1
  gives t * 2^b < 2^b (no clip at any b); t == 1 gives q_H = 2^H - 1, and (2^H - 1) >> s = 2^L - 1.
  So the low model that a client decodes is the standalone L-bit quantisation of the float model.

Claim 2 (exact update): the update is u = q_H - (q_L << s) = q_H & (2^s - 1), in [0, 2^s): the next s bits.
  The client forms (q_L << s) | u = q_H in integers and reconstructs it with the same (lo, hi, H) and the
  same function as the anchor client reconstructs its decoded q_H; identical integer inputs through the
  identical elementwise float64 -> float32 computation give identical float32 outputs. Hence low + update
  equals the direct high model bit for bit (tests/coders/test_nested_grid.py checks both claims as properties).

Bit widths: 1..31, the range NNCodec's own integer-aligned quantisation accepts (``bitdepth`` in [1, 31]);
codes are coded as int32. Above 24 bits the grid is finer than float32's 24-bit significand: still exact as
above, but no longer more accurate.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_BITS, MAX_BITS = 1, 31


def check_bits(bits: int, what: str = "bit width") -> int:
    """``bits`` as an int in 1..31, or ValueError naming the allowed range."""
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)) or not MIN_BITS <= int(bits) <= MAX_BITS:
        raise ValueError(f"{what} {bits!r} is outside {MIN_BITS}..{MAX_BITS}, the integer bit depths NNCodec "
                         "accepts")
    return int(bits)


def channel_count(shape: tuple[int, ...]) -> int:
    """Number of grids of a tensor: its output channels (axis 0) from two dimensions up, else one."""
    return int(shape[0]) if len(shape) >= 2 else 1


def _broadcast(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Per-channel values shaped to broadcast against a tensor of ``shape`` (float64)."""
    values = np.asarray(values, dtype=np.float64)
    if len(shape) >= 2:
        return values.reshape((-1,) + (1,) * (len(shape) - 1))
    return values.reshape(())


def channel_bounds(array: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi): float32 min and max of each channel, shape (channels,)."""
    array = np.asarray(array, dtype=np.float32)
    flat = array.reshape(channel_count(array.shape), -1)
    return flat.min(axis=1), flat.max(axis=1)


def _position(x: np.ndarray, lo64: np.ndarray, hi64: np.ndarray) -> np.ndarray:
    """t = (x - lo) / (hi - lo) in float64 (0 for constant channels); lo64/hi64 already broadcastable."""
    span = hi64 - lo64
    safe = np.where(span > 0, span, 1.0)
    return np.where(span > 0, (x - lo64) / safe, 0.0)


def _codes(position: np.ndarray, bits: int) -> np.ndarray:
    scaled = position * float(2 ** bits)  # exact: a power-of-two scaling (claim 1)
    return np.clip(np.floor(scaled), 0, 2 ** bits - 1).astype(np.int64)


def quantise(array: np.ndarray, lo: np.ndarray, hi: np.ndarray, bits: int) -> np.ndarray:
    """int64 codes q_b in [0, 2^bits) of ``array`` on the grid (lo, hi, bits)."""
    bits = check_bits(bits)
    x = np.asarray(array, dtype=np.float64)
    return _codes(_position(x, _broadcast(lo, x.shape), _broadcast(hi, x.shape)), bits)


def step(lo: np.ndarray, hi: np.ndarray, bits: int) -> np.ndarray:
    """Quantisation step of each channel, (hi - lo) * 2^-bits, float64."""
    return (np.asarray(hi, np.float64) - np.asarray(lo, np.float64)) * 2.0 ** -check_bits(bits)


def reconstruct(codes: np.ndarray, lo: np.ndarray, hi: np.ndarray, bits: int) -> np.ndarray:
    """float32 cell centres lo + (q + 1/2) * step; the one function both clients use (claim 2)."""
    codes = np.asarray(codes)
    lo64 = _broadcast(lo, codes.shape)
    cell = _broadcast(step(lo, hi, bits), codes.shape)
    return (lo64 + (codes.astype(np.float64) + 0.5) * cell).astype(np.float32)


def coarsen(codes: np.ndarray, bits: int, to_bits: int) -> np.ndarray:
    """The ``to_bits`` codes of the same values: q >> (bits - to_bits) (claim 1)."""
    shift = _shift(to_bits, bits)
    return np.right_shift(np.asarray(codes, dtype=np.int64), shift)


def refinement(codes: np.ndarray, bits: int, base_bits: int) -> np.ndarray:
    """The exact update from ``base_bits`` to ``bits``: the low s = bits - base_bits bits of each code."""
    shift = _shift(base_bits, bits)
    return np.bitwise_and(np.asarray(codes, dtype=np.int64), (1 << shift) - 1)


def refine(base_codes: np.ndarray, update: np.ndarray, base_bits: int, bits: int) -> np.ndarray:
    """(q_L << s) | u: the ``bits`` codes from the base codes and an exact update (claim 2)."""
    shift = _shift(base_bits, bits)
    base_codes, update = np.asarray(base_codes, dtype=np.int64), np.asarray(update, dtype=np.int64)
    if base_codes.shape != update.shape:
        raise ValueError(f"update of shape {update.shape} does not fit base codes of shape {base_codes.shape}")
    if base_codes.size and (base_codes.min() < 0 or base_codes.max() >= 2 ** base_bits):
        raise ValueError(f"base codes outside [0, 2^{base_bits})")
    if update.size and (update.min() < 0 or update.max() >= 2 ** shift):
        raise ValueError(f"update codes outside [0, 2^{shift})")
    return np.left_shift(base_codes, shift) | update


def increment(update: np.ndarray, lo: np.ndarray, hi: np.ndarray, base_bits: int, bits: int) -> np.ndarray:
    """float32 x^_bits - x^_base_bits = (u + 1/2 - 2^(s-1)) * step_bits: what an update means on its own
    (the exact client adds in the integer domain instead)."""
    shift = _shift(base_bits, bits)
    update = np.asarray(update, dtype=np.float64)
    cell = _broadcast(step(lo, hi, bits), update.shape)
    return ((update + 0.5 - 2.0 ** (shift - 1)) * cell).astype(np.float32)


def zero_point(lo: np.ndarray, hi: np.ndarray, bits: int) -> np.ndarray:
    """Per-channel code of 0.0 (clipped into [lo, hi]), shape (channels,): subtracted before entropy coding so
    that the most frequent codes are small integers, which NNCodec's CABAC codes cheapest."""
    lo64, hi64 = np.asarray(lo, np.float64).reshape(-1), np.asarray(hi, np.float64).reshape(-1)
    return _codes(_position(np.clip(0.0, lo64, hi64), lo64, hi64), check_bits(bits))


def _shift(base_bits: int, bits: int) -> int:
    base_bits, bits = check_bits(base_bits, "low bit width"), check_bits(bits, "high bit width")
    if base_bits >= bits:
        raise ValueError(f"low bit width {base_bits} must be below the high bit width {bits}")
    return bits - base_bits


@dataclass(frozen=True)
class QuantisedTensor:
    """Integer codes of one tensor and its grid. ``base_bits == 0``: codes q_bits of a model; otherwise the
    exact update u from ``base_bits`` to ``bits`` (codes in [0, 2^(bits - base_bits)))."""

    codes: np.ndarray  # int64, the tensor's shape
    lo: np.ndarray  # float32, (channels,)
    hi: np.ndarray  # float32, (channels,)
    bits: int
    base_bits: int = 0

    @classmethod
    def of(cls, array: np.ndarray, bits: int) -> "QuantisedTensor":
        """Quantise a float tensor to ``bits`` on its own min-max grid."""
        lo, hi = channel_bounds(array)
        return cls(quantise(array, lo, hi, bits), lo, hi, check_bits(bits))

    @property
    def is_update(self) -> bool:
        return self.base_bits > 0

    def coarsen(self, bits: int) -> "QuantisedTensor":
        return QuantisedTensor(coarsen(self.codes, self.bits, bits), self.lo, self.hi, bits)

    def update_from(self, base_bits: int) -> "QuantisedTensor":
        """The exact update that takes the ``base_bits`` model of these values to this one."""
        return QuantisedTensor(refinement(self.codes, self.bits, base_bits), self.lo, self.hi, self.bits, base_bits)

    def apply(self, update: "QuantisedTensor") -> "QuantisedTensor":
        """This (model) tensor refined by an exact update; the grids must be the same channel bounds."""
        if self.is_update or not update.is_update or update.base_bits != self.bits:
            raise ValueError(f"an update from {update.base_bits} bits cannot apply to a {self.bits}-bit model")
        if not (np.array_equal(self.lo, update.lo) and np.array_equal(self.hi, update.hi)):
            raise ValueError("the update was made for other channel bounds (another model)")
        return QuantisedTensor(refine(self.codes, update.codes, self.bits, update.bits), self.lo, self.hi, update.bits)

    def reconstruct(self) -> np.ndarray:
        """float32 values: the model's parameters, or for an update the increment it stands for."""
        if self.is_update:
            return increment(self.codes, self.lo, self.hi, self.base_bits, self.bits)
        return reconstruct(self.codes, self.lo, self.hi, self.bits)

    def steps(self) -> np.ndarray:
        return step(self.lo, self.hi, self.bits)
