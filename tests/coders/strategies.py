"""Hypothesis strategies shared by the nested-grid and nnc-int tests (the coders under bit-incremental delivery)."""
from __future__ import annotations

from hypothesis import strategies as st


@st.composite
def bit_pairs(draw) -> tuple[int, int]:
    """(low, high) bit widths of a delivery: 1 <= low < high <= 31 (NNCodec's bit-depth range)."""
    high = draw(st.integers(2, 31))
    return draw(st.integers(1, high - 1)), high
