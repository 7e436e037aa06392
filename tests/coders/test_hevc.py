"""The ``hevc`` feature coder (seed 002 §3.2): Q-layer + channel tiling + x265 intra picture.

Independent expectations: the Q-layer alone (qlayer.quantise/dequantise, seed 002 eqs. 2-3) for lossless=1;
FFmpeg's HEVC demuxer and decoder reading the payload on their own; the NAL unit types of H.265 Table 7-1;
the HEVC quantiser step 2^((QP-4)/6) for an upper bound of the lossy error; monotonicity in QP.
"""
from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness.coders import decode_any, make_coder
from harness.coders.hevc import ctu_size, picture_size
from harness.coders.qlayer import dequantise, quantise
from harness.coders.tiling import crop, tiled_size, untile

from .conftest import (
    PICTURE_SHAPE as SHAPE, TILED_HEADER_DAMAGE, assert_crafted_payloads_fail, assert_stream_flips_never_crash, mse,
    picture_stream, small_tensors,
)

pytestmark = pytest.mark.coders

SEED002_QPS = (22, 27, 32, 37)
HEADER = struct.Struct("<ffBHH")
NAL_VPS, NAL_SPS, NAL_PPS = 32, 33, 34
IRAP_SLICES = range(16, 22)  # BLA/IDR/CRA slice segments (H.265 Table 7-1)


def _nal_types(stream: bytes) -> list[int]:
    """NAL unit types after each 3-byte start code (a 4-byte one ends in the same 3 bytes)."""
    types, pos = [], stream.find(b"\x00\x00\x01")
    while pos >= 0:
        types.append((stream[pos + 3] >> 1) & 0x3F)
        pos = stream.find(b"\x00\x00\x01", pos + 3)
    return types


@pytest.mark.parametrize("bits", [8, 10])
def test_lossy_error_falls_and_size_grows_as_qp_falls(bits, features, coded):
    qps = (47, 42, *reversed(SEED002_QPS))
    sizes = [len(coded(f"hevc:qp={qp},bits={bits}")[0]) for qp in qps]
    errors = [mse(coded(f"hevc:qp={qp},bits={bits}")[1], features) for qp in qps]
    lossless_size = len(coded(f"hevc:lossless=1,bits={bits}")[0])
    lossless_error = mse(coded(f"hevc:lossless=1,bits={bits}")[1], features)
    assert sizes == sorted(set(sizes)) and sizes[-1] < lossless_size, dict(zip(qps, sizes))
    assert errors == sorted(set(errors), reverse=True) and errors[-1] > lossless_error, dict(zip(qps, errors))


@pytest.mark.parametrize("qp", SEED002_QPS)
def test_lossy_error_is_within_the_hevc_quantiser_bound(qp, features, coded):
    # H.265 scales coefficients by 2^((QP-4)/6) 8-bit sample steps, 2^(bits-8) times as many at higher depths;
    # x265's intra rounding offset (1/3) leaves at most 2/3 of a step per coefficient, and the transform is
    # orthonormal, so the mean squared error (Q-layer rounding aside) stays below (2/3 step)^2.
    bits = 10
    _, decoded = coded(f"hevc:qp={qp},bits={bits}")
    lo, hi = float(features.min()), float(features.max())
    step = 2 ** ((qp - 4) / 6) * 2 ** (bits - 8) * (hi - lo) / (2**bits - 1)
    assert mse(decoded, features) <= (2 / 3 * step) ** 2 + ((hi - lo) / (2**bits - 1)) ** 2
    assert decoded.min() >= lo and decoded.max() <= hi


def test_payload_is_an_annex_b_hevc_stream_that_ffmpeg_decodes_on_its_own(features, coded):
    import av

    data, _ = coded("hevc:lossless=1,bits=10")
    stream = picture_stream(data)
    assert stream.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01"))
    types = _nal_types(stream)
    assert types[:3] == [NAL_VPS, NAL_SPS, NAL_PPS] and any(t in IRAP_SLICES for t in types), types
    # the raw-HEVC demuxer, not our parser, reads the elementary stream; a lossless picture is the Q-layer image
    with av.open(io.BytesIO(stream), format="hevc") as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 1 and frames[0].format.name == "gray10le"
    height, width, _ = picture_size(SHAPE)
    assert (frames[0].height, frames[0].width) == (height, width)
    plane = frames[0].planes[0]
    picture = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, :width * 2].copy().view("<u2")
    assert np.array_equal(untile(crop(picture, *tiled_size(SHAPE)), SHAPE), quantise(features, 10)[2])


@settings(max_examples=25, deadline=None)
@given(array=hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=9),
                        elements=st.floats(-1e6, 1e6, width=32)),
       bits=st.sampled_from([8, 10, 12]))
def test_lossless_round_trip_of_any_shape_equals_the_q_layer(array, bits):
    decoded = decode_any(make_coder(f"hevc:lossless=1,bits={bits}").encode({"x": array}))["x"]
    lo, hi, q = quantise(array, bits)
    assert decoded.shape == array.shape and np.array_equal(decoded, dequantise(q, lo, hi, bits))


def test_constant_and_integer_tensors_come_back_exactly():
    tensors = {"c": np.full((2, 3, 5), -1.25, np.float32), "idx": np.arange(7, dtype=np.int64),
               "h": np.full((4, 4), 3.0, np.float16)}
    decoded = decode_any(make_coder("hevc:qp=51").encode(tensors))
    for name, value in tensors.items():
        assert decoded[name].dtype == value.dtype and np.array_equal(decoded[name], value)


def test_picture_size_follows_the_ctu_rule_of_hevc_levels():
    assert ctu_size(1200, 1200) == 16 and ctu_size(16, 4216) == 16
    assert ctu_size(16, 4217) == 32 and ctu_size(1120, 2000) == 32  # beyond level 4.1 in whole 8x8 CUs
    assert picture_size((1, 3, 4, 5)) == (16, 16, 16)  # 2x2 tiles of 4x5, grown to one CTU
    for shape in [(1, 1, 16, 4216), (1, 1, 16, 4217)]:  # both sides of the switch encode and decode
        x = np.zeros(shape, np.float32)
        x[..., 3, 4000] = 2.0
        assert np.array_equal(decode_any(make_coder("hevc:lossless=1").encode({"x": x}))["x"], x)
    with pytest.raises(ValueError, match=r"beyond HEVC level 6.2; code it with qlayer or nncodec"):
        make_coder("hevc:qp=27").encode({"x": np.zeros((1, 1, 16, 16889), np.float32)})


def test_spec_lossless_point_and_rate_order():
    assert make_coder("hevc").spec == "hevc:qp=27,bits=8,lossless=0,tiling=channel"
    lossless = make_coder("hevc:qp=37,lossless=1,bits=10")
    assert lossless.spec == "hevc:qp=0,bits=10,lossless=1,tiling=channel" and lossless.label == "hevc lossless"
    assert not lossless.is_lossless  # the Q-layer rounds the float features first
    points = [make_coder(s) for s in ("hevc:qp=37", "hevc:lossless=1", "hevc:qp=22", "hevc:qp=27")]
    assert {p.family for p in points} == {"hevc:bits=8,tiling=channel"}
    assert [p.label for p in sorted(points, key=lambda p: p.rate_sort_key())] == [
        "hevc lossless", "hevc qp=22", "hevc qp=27", "hevc qp=37"]
    with pytest.raises(ValueError, match=r"bits=9 is not a bit depth of x265's 4:0:0 coding; allowed: 8, 10, 12"):
        make_coder("hevc:bits=9")
    with pytest.raises(ValueError, match=r"bad value '52' for qp; allowed: integer 0..51"):
        make_coder("hevc:qp=52")


def test_crafted_payloads_behind_a_valid_checksum(tmp_path):
    data = make_coder("hevc:qp=32,bits=10").encode(small_tensors())
    must_fail = TILED_HEADER_DAMAGE + [
        lambda p: p[:HEADER.size] + p[HEADER.size + 4:],                         # no start code
        lambda p: p[:HEADER.size + 30],                                          # cut inside the parameter sets
        lambda p: p[:HEADER.size] + p[HEADER.size:] * 2,                         # two pictures
    ]
    assert_crafted_payloads_fail(tmp_path, data, must_fail)
    assert_stream_flips_never_crash(tmp_path, data, HEADER.size)
