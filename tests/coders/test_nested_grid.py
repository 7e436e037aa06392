"""Nested min-max grids (harness.coders.nested_grid): the two claims of its docstring as properties, known answers."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness.coders.nested_grid import (
    QuantisedTensor,
    channel_bounds,
    check_bits,
    coarsen,
    quantise,
    reconstruct,
    refine,
    refinement,
    zero_point,
)

from .strategies import bit_pairs

pytestmark = pytest.mark.bitinc

shapes = hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=6)
finite32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
arrays = hnp.arrays(np.float32, shapes, elements=finite32)
# weights-like values as well as the whole float32 range (subnormals, +-3.4e38)
weights = hnp.arrays(np.float32, shapes, elements=st.floats(-4, 4, width=32))


@settings(max_examples=200, deadline=None)
@given(array=st.one_of(arrays, weights), bits=bit_pairs())
def test_low_plus_exact_update_is_the_direct_high_model_bit_for_bit(array, bits):
    low_bits, high_bits = bits
    high = QuantisedTensor.of(array, high_bits)
    low = QuantisedTensor.of(array, low_bits)  # the standalone low model, quantised on its own
    # claim 1: the standalone low codes are the high codes shifted right
    assert np.array_equal(low.codes, high.codes >> (high_bits - low_bits))
    update = high.update_from(low_bits)
    assert update.codes.min() >= 0 and update.codes.max() < 2 ** (high_bits - low_bits)
    # claim 2: low + update reconstructs to the direct model's float32 values, bit for bit
    applied = low.apply(update)
    assert np.array_equal(applied.codes, high.codes)
    got, want = applied.reconstruct(), high.reconstruct()
    assert got.dtype == want.dtype == np.float32 and got.shape == array.shape
    assert got.tobytes() == want.tobytes()


@settings(max_examples=100, deadline=None)
@given(array=st.one_of(arrays, weights), bits=st.integers(1, 24))
def test_reconstruction_error_is_at_most_half_a_step(array, bits):
    tensor = QuantisedTensor.of(array, bits)
    assert tensor.codes.min() >= 0 and tensor.codes.max() < 2 ** bits
    rec = tensor.reconstruct().astype(np.float64)
    lo, hi = channel_bounds(array)
    channels = lo.size
    half_step = (hi.astype(np.float64) - lo.astype(np.float64)) * 2.0 ** -(bits + 1)
    slack = np.maximum(np.abs(lo), np.abs(hi)).astype(np.float64) * 2.0 ** -23  # float32 rounding, one ulp
    error = np.abs(rec - array.astype(np.float64)).reshape(channels, -1).max(axis=1)
    assert (error <= half_step * (1 + 1e-12) + slack).all()
    # every reconstruction stays inside its channel's [min, max]
    flat = rec.reshape(channels, -1)
    assert (flat.min(axis=1) >= lo).all() and (flat.max(axis=1) <= hi).all()


@settings(max_examples=50, deadline=None)
@given(array=weights, chain=st.lists(st.integers(1, 31), min_size=2, max_size=4, unique=True).map(sorted))
def test_a_chain_of_updates_reaches_the_direct_model(array, chain):
    direct = QuantisedTensor.of(array, chain[-1])
    model = QuantisedTensor.of(array, chain[0])
    for base_bits, bits in zip(chain, chain[1:]):
        model = model.apply(QuantisedTensor.of(array, bits).update_from(base_bits))
    assert model.reconstruct().tobytes() == direct.reconstruct().tobytes()


def test_known_answer_two_bits():
    x = np.array([0.0, 0.25, 0.5, 0.74, 1.0], np.float32)
    lo, hi = channel_bounds(x)
    codes = quantise(x, lo, hi, 2)
    assert codes.tolist() == [0, 1, 2, 2, 3]  # cells [0,.25) [.25,.5) [.5,.75) [.75,1]
    assert reconstruct(codes, lo, hi, 2).tolist() == [0.125, 0.375, 0.625, 0.625, 0.875]
    assert coarsen(codes, 2, 1).tolist() == [0, 0, 1, 1, 1]
    assert refinement(codes, 2, 1).tolist() == [0, 1, 0, 0, 1]
    assert refine(coarsen(codes, 2, 1), refinement(codes, 2, 1), 1, 2).tolist() == codes.tolist()


def test_grids_are_per_output_channel_from_two_dimensions_up():
    w = np.array([[-1.0, 1.0], [10.0, 30.0]], np.float32)
    tensor = QuantisedTensor.of(w, 1)
    assert tensor.lo.tolist() == [-1.0, 10.0] and tensor.hi.tolist() == [1.0, 30.0]
    assert tensor.reconstruct().tolist() == [[-0.5, 0.5], [15.0, 25.0]]
    bias = QuantisedTensor.of(np.array([-1.0, 10.0, 30.0], np.float32), 1)
    assert bias.lo.size == 1  # one grid for a 1-D tensor


def test_constant_channels_reconstruct_exactly():
    w = np.full((3, 4), -0.375, np.float32)
    w[1] = 7.0
    tensor = QuantisedTensor.of(w, 3)
    assert (tensor.codes == 0).all() and np.array_equal(tensor.reconstruct(), w)


def test_zero_point_is_the_code_of_zero():
    assert zero_point(np.float32([-1.0]), np.float32([1.0]), 8).tolist() == [128]
    assert zero_point(np.float32([0.5, -2.0]), np.float32([1.0, -1.0]), 4).tolist() == [0, 15]  # clipped


@pytest.mark.parametrize("bits", [0, 32, -1, 2.5, True])
def test_bit_widths_outside_nncodec_range_are_refused(bits):
    with pytest.raises(ValueError, match="1..31"):
        check_bits(bits)


def test_an_update_must_go_up_in_precision_and_fit_its_base():
    x = np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4)
    with pytest.raises(ValueError, match="below"):
        QuantisedTensor.of(x, 8).update_from(8)
    update = QuantisedTensor.of(x, 8).update_from(4)
    with pytest.raises(ValueError, match="cannot apply"):
        QuantisedTensor.of(x, 6).apply(update)
    with pytest.raises(ValueError, match="other channel bounds"):
        QuantisedTensor.of(x * 2, 4).apply(update)
