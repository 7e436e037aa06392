"""The ``nnc-int`` coder: integer codes through NNCodec and back, checked by decoding (harness.coders.nnc_int)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness.coders.nested_grid import QuantisedTensor
from harness.coders import BitstreamError, container_spec, decode_any, make_coder
from harness.coders.container import pack, unpack
from harness.coders.nnc_int import decode_quantised

from .strategies import bit_pairs

pytestmark = pytest.mark.bitinc

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=9)
tensors = hnp.arrays(np.float32, shapes, elements=st.floats(-3, 3, width=32))


@settings(max_examples=15, deadline=None)
@given(array=tensors, bits=bit_pairs())
def test_streams_decode_to_the_codes_and_low_plus_update_to_the_direct_model(array, bits):
    low_bits, high_bits = bits
    state = {"w": array, "count": np.array(7, np.int64)}
    low = make_coder(f"nnc-int:bits={low_bits}").encode(state)
    high = make_coder(f"nnc-int:bits={high_bits}").encode(state)
    update = make_coder(f"nnc-int:bits={high_bits},base_bits={low_bits}").encode({"w": array})
    # NNCodec gives back exactly the integer codes that numpy computes (independent of the coder)
    _, low_codes = decode_quantised(low)
    _, high_codes = decode_quantised(high)
    assert np.array_equal(low_codes["w"].codes, QuantisedTensor.of(array, low_bits).codes)
    assert np.array_equal(high_codes["w"].codes, QuantisedTensor.of(array, high_bits).codes)
    assert low_codes["count"].dtype == np.int64 and int(low_codes["count"]) == 7  # carried exactly
    _, update_codes = decode_quantised(update)
    applied = low_codes["w"].apply(update_codes["w"]).reconstruct()
    direct = decode_any(high)["w"]
    assert applied.tobytes() == direct.tobytes()
    # decoded on its own, the update is the float increment from the low to the high reconstruction
    increment = decode_any(update)["w"].astype(np.float64)
    gap = direct.astype(np.float64) - decode_any(low)["w"].astype(np.float64)
    assert np.allclose(increment, gap, rtol=1e-6, atol=1e-6 * max(1.0, float(np.abs(array).max())))


def test_codes_of_every_width_survive_nncodec_at_the_range_ends():
    array = np.array([[-2.0, -1.0, 0.0, 1.0, 2.0]] * 3, np.float32)
    for bits in (1, 2, 15, 16, 30, 31):
        _, decoded = decode_quantised(make_coder(f"nnc-int:bits={bits}").encode({"w": array}))
        codes = decoded["w"].codes
        assert codes.min() == 0 and codes.max() == 2 ** bits - 1


def test_spec_canonical_form_and_refusals():
    assert make_coder("nnc-int:bits=8").spec == "nnc-int:bits=8,base_bits=0"
    assert make_coder("nnc-int:bits=16,base_bits=8").family == "nnc-int:base_bits=8"
    for bad in ("nnc-int:bits=0", "nnc-int:bits=32", "nnc-int:bits=8,base_bits=8", "nnc-int:bits=4,base_bits=6"):
        with pytest.raises(ValueError):
            make_coder(bad)


def test_low_model_is_smaller_than_high_and_about_bits_per_parameter():
    rng = np.random.default_rng(0)
    state = {"w": rng.normal(0, 0.05, (64, 64, 3, 3)).astype(np.float32)}
    sizes = {bits: len(make_coder(f"nnc-int:bits={bits}").encode(state)) for bits in (4, 8, 16)}
    per_parameter = {bits: size * 8 / state["w"].size for bits, size in sizes.items()}
    assert sizes[4] < sizes[8] < sizes[16]
    # Gaussian weights on a min-max grid: entropy below the bit width, above it minus 3 bits
    for bits, rate in per_parameter.items():
        assert bits - 3 < rate < bits + 0.5, per_parameter


def test_damaged_payloads_are_bitstream_errors():
    data = make_coder("nnc-int:bits=8").encode({"w": np.linspace(-1, 1, 40, dtype=np.float32).reshape(4, 10)})
    spec, entries = unpack(data)
    (entry,) = entries
    bad_bounds = entry.payload[:4] + np.float32(np.nan).tobytes() + entry.payload[8:]
    for payload in (entry.payload[:20], bad_bounds):
        damaged = pack(spec, [type(entry)(entry.name, entry.dtype, entry.shape, payload)])
        with pytest.raises(BitstreamError):
            decode_any(damaged)
    with pytest.raises(BitstreamError, match="not by nnc-int"):
        decode_quantised(make_coder("raw").encode({"w": np.zeros(3, np.float32)}))
    assert container_spec(data) == "nnc-int:bits=8,base_bits=0"
