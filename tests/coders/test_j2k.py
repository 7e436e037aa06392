"""The ``j2k`` feature coder: Q-layer + channel tiling + one JPEG 2000 codestream (OpenJPEG through Pillow).

Independent expectations: the Q-layer alone (qlayer.quantise/dequantise, seed 002 eqs. 2-3) for lossless=1;
Pillow reading the payload's codestream on its own; the marker segments of T.800 Annex A (SOC, SIZ, COD, EOC)
for the precision, the wavelet and the layers actually coded; the ratio's byte budget; monotonicity in ratio.
"""
from __future__ import annotations

import io
import math
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from harness.coders import decode_any, make_coder
from harness.coders.container import BitstreamError
from harness.coders.qlayer import dequantise, quantise
from harness.coders.tiling import tile, tiled_size, untile

from .conftest import (
    PICTURE_SHAPE as SHAPE, TILED_HEADER_DAMAGE, assert_crafted_payloads_fail, assert_stream_flips_never_crash, mse,
    picture_stream, small_tensors, with_payload,
)

pytestmark = pytest.mark.coders

HEADER = struct.Struct("<ffBHH")  # min, max, bits, tile rows, tile cols (as hevc.py)
RATIOS = (64, 32, 16, 8)  # coarsest first


def _segment(stream: bytes, marker: bytes) -> bytes:
    """The body of the first marker segment ``marker`` of the main header (after its length field)."""
    pos = stream.index(marker)
    (length,) = struct.unpack_from(">H", stream, pos + 2)
    return stream[pos + 4:pos + 2 + length]


def _pillow_j2k(picture: np.ndarray, mode: str) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.frombytes(mode, picture.shape[::-1], picture.tobytes()).save(buffer, format="JPEG2000", no_jp2=True)
    return buffer.getvalue()


@pytest.mark.parametrize("bits", [8, 10])
def test_lossy_error_falls_and_size_grows_as_the_ratio_falls(bits, features, coded):
    sizes = [len(coded(f"j2k:ratio={r},bits={bits}")[0]) for r in RATIOS]
    errors = [mse(coded(f"j2k:ratio={r},bits={bits}")[1], features) for r in RATIOS]
    lossless_data, lossless_decoded = coded(f"j2k:lossless=1,bits={bits}")
    assert sizes == sorted(set(sizes)) and sizes[-1] < len(lossless_data), dict(zip(RATIOS, sizes))
    assert errors == sorted(set(errors), reverse=True), dict(zip(RATIOS, errors))
    assert errors[-1] > mse(lossless_decoded, features)
    # the ratio is a byte budget on the n-bit picture, whatever sample container Pillow uses
    samples = math.prod(tiled_size(SHAPE))
    for ratio in RATIOS:
        stream = picture_stream(coded(f"j2k:ratio={ratio},bits={bits}")[0])
        assert 0.9 * samples * bits / 8 / ratio <= len(stream) <= samples * bits / 8 / ratio, ratio


@pytest.mark.parametrize("spec, precision, transform", [("j2k:lossless=1,bits=10", 16, 1),
                                                         ("j2k:ratio=16,bits=8", 8, 0)])
def test_payload_is_a_jpeg2000_codestream_that_pillow_decodes_on_its_own(spec, precision, transform, features, coded):
    from PIL import Image

    stream = picture_stream(coded(spec)[0])
    assert stream.startswith(b"\xff\x4f\xff\x51") and stream.endswith(b"\xff\xd9")  # SOC, SIZ ... EOC
    main_header = stream[:stream.index(b"\xff\x90")]  # up to the first SOT
    assert b"\xff\x64" not in main_header  # OpenJPEG's version comment (COM) is dropped
    height, width = tiled_size(SHAPE)
    siz = _segment(stream, b"\xff\x51")  # Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, 4 x tile, Csiz, Ssiz
    assert struct.unpack_from(">II", siz, 2) == (width, height) and struct.unpack_from(">HB", siz, 34) == (
        1, precision - 1)  # one unsigned component
    cod = _segment(stream, b"\xff\x52")  # Scod, progression, layers, MCT, levels, xcb, ycb, style, transform
    assert struct.unpack_from(">H", cod, 2) == (1,) and cod[9] == transform  # one layer; 1 = 5/3, 0 = 9/7
    with Image.open(io.BytesIO(stream)) as image:  # Pillow's own format detection
        assert image.format == "JPEG2000" and image.size == (width, height)
        picture = np.asarray(image).astype(np.int64)
    if transform == 1:  # lossless: the tiled Q-layer picture itself
        assert np.array_equal(untile(picture, SHAPE), quantise(features, 10)[2])
    else:
        assert mse(picture, tile(quantise(features, 8)[2])) > 0


@settings(max_examples=25, deadline=None)
@given(array=hnp.arrays(np.float32, hnp.array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=9),
                        elements=st.floats(-1e6, 1e6, width=32)),
       bits=st.sampled_from([1, 8, 10, 12, 16]), ratio=st.sampled_from([1, 2, 1000]))
def test_round_trip_of_any_shape(array, bits, ratio):
    decoded = decode_any(make_coder(f"j2k:lossless=1,bits={bits}").encode({"x": array}))["x"]
    lo, hi, q = quantise(array, bits)
    assert decoded.shape == array.shape and np.array_equal(decoded, dequantise(q, lo, hi, bits))
    lossy = decode_any(make_coder(f"j2k:ratio={ratio},bits={bits}").encode({"x": array}))["x"]
    assert lossy.shape == array.shape and lossy.min() >= lo and lossy.max() <= hi


def test_constant_and_integer_tensors_come_back_exactly():
    tensors = {"c": np.full((2, 3, 5), -1.25, np.float32), "idx": np.arange(7, dtype=np.int64),
               "h": np.full((4, 4), 3.0, np.float16)}
    decoded = decode_any(make_coder("j2k:ratio=1000").encode(tensors))
    for name, value in tensors.items():
        assert decoded[name].dtype == value.dtype and np.array_equal(decoded[name], value)


def test_pictures_beyond_pillows_limit_are_refused(monkeypatch):
    monkeypatch.setattr("harness.coders.j2k.MAX_PNG_PIXELS", 99)
    with pytest.raises(ValueError, match=r"beyond Pillow's 99-pixel limit; code it with qlayer or nncodec"):
        make_coder("j2k").encode({"x": np.zeros((1, 4, 5, 5), np.float32)})  # 10 x 10 picture


def test_spec_lossless_point_and_rate_order():
    assert make_coder("j2k").spec == "j2k:ratio=16,bits=8,lossless=0,tiling=channel"
    lossless = make_coder("j2k:ratio=40,lossless=1,bits=10")
    assert lossless.spec == "j2k:ratio=1,bits=10,lossless=1,tiling=channel" and lossless.label == "j2k lossless"
    assert not lossless.is_lossless  # the Q-layer rounds the float features first
    points = [make_coder(s) for s in ("j2k:ratio=32", "j2k:lossless=1", "j2k:ratio=8", "j2k:ratio=16")]
    assert {p.family for p in points} == {"j2k:bits=8,tiling=channel"}
    assert [p.label for p in sorted(points, key=lambda p: p.rate_sort_key())] == [
        "j2k lossless", "j2k ratio=8", "j2k ratio=16", "j2k ratio=32"]
    assert points[0].rate_param == "ratio" and not points[0].rate_increases_size


@pytest.mark.parametrize("spec, message", [
    ("j2k:ratio=0", r"bad value '0' for ratio; allowed: integer 1..1000"),
    ("j2k:ratio=2.5", r"bad value '2.5' for ratio"),
    ("j2k:bits=17", r"bad value '17' for bits; allowed: integer 1..16"),
    ("j2k:lossless=maybe", r"bad value 'maybe' for lossless; allowed: 0\|1"),
    ("j2k:tiling=quilt", r"bad value 'quilt' for tiling; allowed: channel"),
    ("j2k:rate=8", r"unknown parameter\(s\) rate; allowed: ratio=<integer 1..1000>"),
])
def test_bad_spec_values_name_the_parameter(spec, message):
    with pytest.raises(ValueError, match=message):
        make_coder(spec)


def test_crafted_payloads_behind_a_valid_checksum(tmp_path):
    data = make_coder("j2k:lossless=1,bits=10").encode(small_tensors())
    top = np.full((8, 10), 1023, "<u2")
    top[0, 0] = 1024  # one sample beyond 10 bits
    must_fail = TILED_HEADER_DAMAGE + [
        lambda p: p[:HEADER.size] + p[HEADER.size + 2:],                         # no SOC
        lambda p: p[:-2],                                                        # no EOC: truncated
        lambda p: p[:HEADER.size + 30] + b"\xff\xd9",                            # cut inside SIZ
        lambda p: p[:HEADER.size] + _pillow_j2k(np.zeros((8, 10), np.uint8), "L"),      # an 8-bit picture
        lambda p: p[:HEADER.size] + _pillow_j2k(np.zeros((10, 8), "<u2"), "I;16"),      # a transposed one
        lambda p: p[:HEADER.size] + _pillow_j2k(top, "I;16"),                           # samples beyond 10 bits
    ]
    assert_crafted_payloads_fail(tmp_path, data, must_fail)
    assert_stream_flips_never_crash(tmp_path, data, HEADER.size)
    with pytest.raises(BitstreamError, match=r"sample 1024 exceeds 10 bits"):
        decode_any(with_payload(data, must_fail[-1]))
