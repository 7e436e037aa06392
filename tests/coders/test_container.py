"""The container: input validation on encode, and damaged/foreign bytes on decode (in a child interpreter,
so that a crash of a native decoder would be seen as a failed test rather than kill the run)."""
from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest

from harness.coders import BitstreamError, container_spec, decode_any, make_coder
from harness.coders.container import FORMAT_VERSION

from .conftest import run_probe, small_tensors

pytestmark = pytest.mark.coders

SPECS = ["raw", "fp16", "qlayer:bits=8", "qlayer:bits=12,lossless=png", "nncodec:qp=-26", "hevc:qp=32,bits=10",
         "j2k:ratio=4,bits=10"]


@pytest.mark.parametrize("spec", SPECS)
def test_every_truncation_raises_bitstream_error(spec, tmp_path):
    data = make_coder(spec).encode(small_tensors())
    tally = run_probe(tmp_path, data, "truncate")
    assert tally["cases"] == len(data)
    assert tally["other"] == [] and tally["bitstream_error"] == len(data), tally


@pytest.mark.parametrize("spec", SPECS)
def test_random_byte_flips_raise_bitstream_error(spec, tmp_path):
    tally = run_probe(tmp_path, make_coder(spec).encode(small_tensors()), "flip")
    # CRC-32 catches every flip burst of up to 4 bytes and all but ~2^-32 of the others
    assert tally["other"] == [] and tally["bitstream_error"] == tally["cases"] == 400, tally


@pytest.mark.parametrize("spec", SPECS)
def test_header_damage_behind_a_valid_checksum_is_caught_structurally(spec, tmp_path):
    tally = run_probe(tmp_path, make_coder(spec).encode(small_tensors()), "header")
    # a flip that keeps the header consistent (a changed name character) may still decode; nothing else may
    assert tally["other"] == [], tally
    assert tally["bitstream_error"] >= 0.8 * tally["cases"], tally


def _with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


FOREIGN = {
    "empty": b"",
    "png header": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x00\x00\x00\x00",
    "zip/npz": b"PK\x03\x04" + bytes(40),
    "text": b"hello, this is not a bitstream\n",
    "magic only": b"A4TC",
    "zeros": bytes(64),
    "future version": _with_crc(b"A4TC" + bytes([FORMAT_VERSION + 1]) + struct.pack("<I", 0)),
    "header longer than body": _with_crc(b"A4TC" + bytes([FORMAT_VERSION]) + struct.pack("<I", 1000)),
    "no tensors": _with_crc(b"A4TC" + bytes([FORMAT_VERSION]) + struct.pack("<I", 7) + b"\x03\x00raw\x00\x00"),
    "unknown coder": _with_crc(b"A4TC" + bytes([FORMAT_VERSION]) + struct.pack("<I", 7) + b"\x03\x00zzz\x01\x00"),
}


def test_foreign_bytes_raise_bitstream_error_in_a_child_interpreter(tmp_path):
    listing = b"\n".join(value.hex().encode() for value in FOREIGN.values())
    tally = run_probe(tmp_path, listing, "foreign")
    assert tally["cases"] == len(FOREIGN)
    assert tally["other"] == [] and tally["bitstream_error"] == len(FOREIGN), tally


@pytest.mark.parametrize("label, message", [
    ("empty", r"0 bytes, shorter than the 13-byte minimum"),
    ("png header", r"starts with b'\\x89PNG', expected b'A4TC'"),
    ("future version", rf"unsupported container version {FORMAT_VERSION + 1}; this build reads version 1"),
    ("header longer than body", r"header length 1000 exceeds"),
])
def test_foreign_bytes_get_a_reason(label, message):
    with pytest.raises(BitstreamError, match=message):
        decode_any(FOREIGN[label])


def test_unknown_coder_in_an_intact_container_is_a_bitstream_error():
    data = make_coder("raw").encode({"x": np.ones(2, np.float32)})
    body = bytearray(data[:-4])
    body[body.index(b"raw"):body.index(b"raw") + 3] = b"zzz"
    with pytest.raises(BitstreamError, match="names coder 'zzz', which this build cannot decode"):
        decode_any(_with_crc(bytes(body)))


def test_bitstream_error_is_a_value_error_and_container_spec_reads_the_coder():
    data = make_coder("qlayer:bits=10").encode({"x": np.ones(2, np.float32)})
    assert container_spec(data) == "qlayer:bits=10,lossless=zlib,level=9"
    assert issubclass(BitstreamError, ValueError)
    with pytest.raises(BitstreamError, match="checksum mismatch"):
        decode_any(data[:-1] + bytes([data[-1] ^ 1]))


def test_raw_size_is_the_tensor_bytes_plus_the_documented_overhead():
    x = np.linspace(0, 1, 60, dtype=np.float32).reshape(3, 4, 5)
    raw = make_coder("raw").encode({"x": x})
    # prefix (magic, version, header_len) + CRC = 13; header: spec, count, name, dtype, ndim, dims, payload_len
    assert len(raw) == x.nbytes + 13 + (2 + 3) + 2 + (2 + 1) + (1 + 7) + 1 + 3 * 8 + 8


@pytest.mark.parametrize("tensors, message", [
    ({}, r"no tensors to encode"),
    ([np.ones(2, np.float32)], r"tensors must be a dict"),
    ({1: np.ones(2, np.float32)}, r"tensor names must be non-empty strings, got 1"),
    ({"": np.ones(2, np.float32)}, r"non-empty strings, got ''"),
    ({"a": [1.0, 2.0]}, r"tensor 'a' is a list, not a numpy array"),
    ({"a": np.ones(2)}, r"tensor 'a' is float64; .* cast it with .astype\(np.float32\)"),
    ({"a": np.array(["x"])}, r"tensor 'a' has dtype <U1; supported: float16, float32"),
    ({"a": np.ones(2, np.complex64)}, r"tensor 'a' has dtype complex64"),
    ({"a": np.ones((0, 3), np.float32)}, r"tensor 'a' is empty \(shape \(0, 3\)\)"),
    ({"ok": np.ones(3, np.float32), "bad": np.array([1, np.nan, np.inf], np.float32)},
     r"tensor 'bad' contains 2 NaN/Inf value\(s\)"),
    ({"h": np.array([np.inf], np.float16)}, r"tensor 'h' contains 1 NaN/Inf"),
])
@pytest.mark.parametrize("spec", ["raw", "qlayer:bits=8"])
def test_bad_tensors_are_rejected_with_the_tensor_named(spec, tensors, message):
    with pytest.raises(ValueError, match=message):
        make_coder(spec).encode(tensors)


def test_big_endian_and_strided_inputs_are_normalised():
    x = np.arange(24, dtype=">f4").reshape(4, 6)[:, ::2]
    decoded = decode_any(make_coder("raw").encode({"x": x}))["x"]
    assert decoded.dtype == np.float32 and np.array_equal(decoded, x.astype(np.float32))
