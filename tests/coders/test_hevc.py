"""The ``hevc`` feature coder (seed 002 §3.2): Q-layer + channel tiling + x265 intra picture.

Independent expectations: the Q-layer alone (qlayer.quantise/dequantise, seed 002 eqs. 2-3) for lossless=1;
FFmpeg's HEVC demuxer and decoder reading the payload on their own; the NAL unit types of H.265 Table 7-1;
the HEVC quantiser step 2^((QP-4)/6) for an upper bound of the lossy error; monotonicity in QP.
"""
from __future__ import annotations

import hashlib
import io
import math
import struct
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra import numpy as hnp

from harness.coders import decode_any, make_coder
from harness.coders.container import TensorEntry, pack, unpack
from harness.coders.hevc import ctu_size, picture_size
from harness.coders.qlayer import dequantise, quantise
from harness.coders.tiling import crop, tiled_size, untile
from harness.datasets.relu_features import relu_features

from .conftest import run_probe

pytestmark = pytest.mark.coders

SHAPE = (1, 64, 38, 38)  # small enough for the default run (a 304x304 picture, ~50 ms per encode)
SEED002_QPS = (22, 27, 32, 37)
HEADER = struct.Struct("<ffBHH")
NAL_VPS, NAL_SPS, NAL_PPS = 32, 33, 34
IRAP_SLICES = range(16, 22)  # BLA/IDR/CRA slice segments (H.265 Table 7-1)


@pytest.fixture(scope="module")
def features() -> np.ndarray:
    return relu_features(SHAPE)


@pytest.fixture(scope="module")
def coded(features):
    cache: dict[str, tuple[bytes, np.ndarray]] = {}

    def code(spec: str) -> tuple[bytes, np.ndarray]:
        if spec not in cache:
            data = make_coder(spec).encode({"f": features})
            cache[spec] = (data, decode_any(data)["f"])
        return cache[spec]

    return code


def _mse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))


def _hevc_stream(data: bytes) -> bytes:
    (entry,) = unpack(data)[1]
    return entry.payload[HEADER.size:]


def _nal_types(stream: bytes) -> list[int]:
    """NAL unit types after each 3-byte start code (a 4-byte one ends in the same 3 bytes)."""
    types, pos = [], stream.find(b"\x00\x00\x01")
    while pos >= 0:
        types.append((stream[pos + 3] >> 1) & 0x3F)
        pos = stream.find(b"\x00\x00\x01", pos + 3)
    return types


@pytest.mark.parametrize("bits", [8, 10, 12])
def test_lossless_is_exact_on_the_quantised_samples(bits, features, coded):
    _, decoded = coded(f"hevc:lossless=1,bits={bits}")
    lo, hi, q = quantise(features, bits)
    assert np.array_equal(decoded, dequantise(q, lo, hi, bits))
    assert np.array_equal(decoded, decode_any(make_coder(f"qlayer:bits={bits}").encode({"f": features}))["f"])


@pytest.mark.parametrize("bits", [8, 10])
def test_lossy_error_falls_and_size_grows_as_qp_falls(bits, features, coded):
    qps = (47, 42, *reversed(SEED002_QPS))
    sizes = [len(coded(f"hevc:qp={qp},bits={bits}")[0]) for qp in qps]
    errors = [_mse(coded(f"hevc:qp={qp},bits={bits}")[1], features) for qp in qps]
    lossless_size = len(coded(f"hevc:lossless=1,bits={bits}")[0])
    lossless_error = _mse(coded(f"hevc:lossless=1,bits={bits}")[1], features)
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
    assert _mse(decoded, features) <= (2 / 3 * step) ** 2 + ((hi - lo) / (2**bits - 1)) ** 2
    assert decoded.min() >= lo and decoded.max() <= hi


def test_payload_is_an_annex_b_hevc_stream_that_ffmpeg_decodes_on_its_own(features, coded):
    import av

    data, _ = coded("hevc:lossless=1,bits=10")
    stream = _hevc_stream(data)
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


def test_payload_header_carries_range_bit_depth_and_tile_grid(features, coded):
    data, _ = coded("hevc:qp=27,bits=10")
    (entry,) = unpack(data)[1]
    lo, hi, bits, rows, cols = HEADER.unpack_from(entry.payload)
    assert (lo, hi) == (float(features.min()), float(features.max()))
    assert (bits, rows, cols) == (10, 8, 8)  # 64 channels -> 8 x 8 tiles of 38 x 38


def test_encoding_is_deterministic_across_runs_and_processes(features):
    spec = "hevc:qp=32,bits=10"
    digests = {hashlib.sha256(make_coder(spec).encode({"f": features})).hexdigest() for _ in range(2)}
    child = ("import hashlib; from harness.datasets.relu_features import relu_features; "
             "from harness.coders import make_coder; "
             f"print(hashlib.sha256(make_coder({spec!r}).encode({{'f': relu_features({SHAPE!r})}})).hexdigest())")
    children = [subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
                for _ in range(2)]  # side by side, as two xdist workers would be
    for process in children:
        out, _ = process.communicate(timeout=120)
        assert process.returncode == 0
        digests.add(out.strip())
    assert len(digests) == 1, digests


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


def _small() -> dict[str, np.ndarray]:
    return {"feat": relu_features((1, 3, 4, 5)), "idx": np.arange(3, dtype=np.int64)}




@pytest.mark.parametrize("mode", ["truncate", "flip", "header"])
def test_damaged_containers_raise_bitstream_error_in_a_child_interpreter(mode, tmp_path):
    data = make_coder("hevc:qp=32,bits=10").encode(_small())
    tally = run_probe(tmp_path, data, mode)
    assert tally["other"] == [], tally
    # truncation and flips are caught by the CRC; a header flip that keeps it consistent may still decode
    assert tally["bitstream_error"] >= (0.8 if mode == "header" else 1.0) * tally["cases"], tally


def _with_payload(data: bytes, damage) -> bytes:
    """The container with its float tensor's payload damaged and the checksum recomputed (a crafted input)."""
    spec, entries = unpack(data)
    return pack(spec, [TensorEntry(e.name, e.dtype, e.shape, damage(e.payload) if e.dtype == "float32" else e.payload)
                       for e in entries])


def test_crafted_payloads_behind_a_valid_checksum(tmp_path):
    data = make_coder("hevc:qp=32,bits=10").encode(_small())
    must_fail = [
        lambda p: p[:HEADER.size] + p[HEADER.size + 4:],                         # no start code
        lambda p: p[:HEADER.size + 30],                                          # cut inside the parameter sets
        lambda p: p[:8] + b"\x08" + p[9:],                                       # 8 bits in a 10-bit coder
        lambda p: p[:9] + struct.pack("<H", 3) + p[11:],                         # wrong tile grid
        lambda p: struct.pack("<ff", 5.0, 1.0) + p[8:],                          # min > max
        lambda p: struct.pack("<ff", math.nan, 1.0) + p[8:],                     # NaN range
        lambda p: p[:HEADER.size] + p[HEADER.size:] * 2,                         # two pictures
        lambda p: p[:4],                                                         # shorter than the header
    ]
    foreign = "\n".join(_with_payload(data, damage).hex() for damage in must_fail)
    tally = run_probe(tmp_path, foreign.encode(), "foreign")
    assert tally["other"] == [] and tally["bitstream_error"] == len(must_fail), tally
    # damage inside the slice data may decode to a wrong picture (FFmpeg conceals errors) but never crashes
    rng = np.random.default_rng(3)

    def flip(payload: bytes) -> bytes:
        damaged = bytearray(payload)
        for _ in range(int(rng.integers(1, 6))):
            position = int(rng.integers(HEADER.size, len(damaged)))
            damaged[position] ^= int(rng.integers(1, 256))
        return bytes(damaged)

    foreign = "\n".join(_with_payload(data, flip).hex() for _ in range(150))
    tally = run_probe(tmp_path, foreign.encode(), "foreign")
    assert tally["other"] == [] and tally["cases"] == 150, tally
