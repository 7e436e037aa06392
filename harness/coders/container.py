"""The self-describing bitstream container shared by every intermediate-data coder.

Layout (format version 1, all integers little-endian)::

    magic       4 bytes  b"A4TC"  (AI4Media Tensor Container)
    version     u8       1
    header_len  u32
    header      header_len bytes:
        spec        u16 length + UTF-8   canonical coder spec, e.g. "qlayer:bits=8,lossless=zlib"
        n_tensors   u16
        per tensor: name (u16 length + UTF-8), dtype (u8 length + ASCII numpy name, e.g. "float32"),
                    ndim (u8), dims (ndim x u64), payload_len (u64)
    payloads    the coders' payloads, concatenated in header order
    crc32       u32 CRC-32 (zlib polynomial) of every byte before it

Everything a decoder needs is inside, so ``len(bitstream)`` is the full transmitted size. CRC-32 rather than a
cryptographic hash: it guards against accidental damage (truncation, flipped bytes), detects every error burst
of up to 32 bits and costs 4 bytes. :func:`unpack` checks magic, version, checksum and the whole structure
and raises :class:`BitstreamError` before any payload reaches a (possibly native) decoder.

Limit: the checksum guards against damage, not against a deliberately crafted container whose CRC has been
recomputed. Such a container can hand NNCodec's native decoder a garbage payload, which was seen to
crash the interpreter (segfault). Bitstreams from outside the run are therefore decoded in a worker process
(harness.coders.isolation), where such a crash becomes a BitstreamError.
"""
from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass
from typing import Mapping

import numpy as np

MAGIC = b"A4TC"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<4sBI")  # magic, version, header_len
_CRC = struct.Struct("<I")

# dtypes a container may carry; floating ones are coded, the others are stored exactly (see base.Coder)
FLOAT_DTYPES = ("float16", "float32")
EXACT_DTYPES = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
ALLOWED_DTYPES = FLOAT_DTYPES + EXACT_DTYPES

MAX_NDIM = 32  # numpy's own limit
MAX_ELEMENTS = 2**31 - 1  # per tensor; far above any split-point feature map, small enough for every codec
MAX_NAME_BYTES = 1024
MAX_TENSORS = 65535


class BitstreamError(ValueError):
    """The bytes are not a complete, intact container this build can read."""


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of a container: what the decoder needs to rebuild it, and the coder's payload."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    payload: bytes

    @property
    def size(self) -> int:
        return math.prod(self.shape)


def validate_tensors(tensors: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Check the encoder's input; return C-contiguous little-endian arrays (views where possible), in order.

    Raises ValueError naming the offending tensor: non-str/empty names, non-array values, unsupported dtypes,
    empty or oversized tensors, NaN/Inf values.
    """
    if not isinstance(tensors, Mapping):
        raise ValueError(f"tensors must be a dict of name -> numpy array, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError("no tensors to encode: pass a non-empty dict of name -> numpy array")
    if len(tensors) > MAX_TENSORS:
        raise ValueError(f"{len(tensors)} tensors; a container holds at most {MAX_TENSORS}")
    checked: dict[str, np.ndarray] = {}
    for name, array in tensors.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"tensor names must be non-empty strings, got {name!r}")
        if len(name.encode("utf-8")) > MAX_NAME_BYTES:
            raise ValueError(f"tensor name {name[:40]!r}... is longer than {MAX_NAME_BYTES} UTF-8 bytes")
        if not isinstance(array, np.ndarray):
            raise ValueError(f"tensor {name!r} is a {type(array).__name__}, not a numpy array")
        dtype = array.dtype.name
        if dtype == "float64":
            raise ValueError(f"tensor {name!r} is float64; the coders code float32 features: "
                             "cast it with .astype(np.float32) first")
        if dtype not in ALLOWED_DTYPES:
            raise ValueError(f"tensor {name!r} has dtype {array.dtype}; supported: {', '.join(ALLOWED_DTYPES)}")
        if array.ndim > MAX_NDIM:
            raise ValueError(f"tensor {name!r} has {array.ndim} dimensions; at most {MAX_NDIM}")
        if array.size == 0:
            raise ValueError(f"tensor {name!r} is empty (shape {array.shape}); nothing to code")
        if array.size > MAX_ELEMENTS:
            raise ValueError(f"tensor {name!r} has {array.size} elements; at most {MAX_ELEMENTS} per tensor")
        if dtype in FLOAT_DTYPES and not np.isfinite(array).all():
            bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
            raise ValueError(f"tensor {name!r} contains {bad} NaN/Inf value(s); features must be finite")
        # astype, not ascontiguousarray, which would turn 0-D arrays into 1-D
        checked[name] = array.astype(array.dtype.newbyteorder("<"), order="C", copy=False)
    return checked


def _pack_str(text: str, length_format: str) -> bytes:
    raw = text.encode("utf-8")
    return struct.pack(length_format, len(raw)) + raw


def pack(spec: str, entries: list[TensorEntry]) -> bytes:
    """Serialise a coder spec and its tensor entries into one container."""
    header = bytearray(_pack_str(spec, "<H"))
    header += struct.pack("<H", len(entries))
    for entry in entries:
        header += _pack_str(entry.name, "<H")
        header += _pack_str(entry.dtype, "<B")
        header += struct.pack(f"<B{len(entry.shape)}Q", len(entry.shape), *entry.shape)
        header += struct.pack("<Q", len(entry.payload))
    body = _PREFIX.pack(MAGIC, FORMAT_VERSION, len(header)) + bytes(header) + b"".join(e.payload for e in entries)
    return body + _CRC.pack(zlib.crc32(body))


class _Reader:
    """Bounds-checked reads from the header; any overrun is a BitstreamError, never an IndexError."""

    def __init__(self, data: memoryview) -> None:
        self.data = data
        self.pos = 0

    def take(self, count: int, what: str) -> bytes:
        if count < 0 or self.pos + count > len(self.data):
            raise BitstreamError(f"corrupt container header: {what} runs past the end of the header")
        chunk = bytes(self.data[self.pos:self.pos + count])
        self.pos += count
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def text(self, length_format: str, what: str) -> str:
        (length,) = self.unpack(length_format, f"{what} length")
        try:
            return self.take(length, what).decode("utf-8")
        except UnicodeDecodeError:
            raise BitstreamError(f"corrupt container header: {what} is not UTF-8") from None


def unpack(data: bytes) -> tuple[str, list[TensorEntry]]:
    """Parse and verify a container: (coder spec, tensor entries). Raises BitstreamError on any damage."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise BitstreamError(f"expected bytes, got {type(data).__name__}")
    view = memoryview(data).cast("B")
    minimum = _PREFIX.size + _CRC.size
    if len(view) < minimum:
        raise BitstreamError(f"not an AI4Media tensor container: {len(view)} bytes, shorter than the "
                             f"{minimum}-byte minimum (truncated or empty)")
    magic, version, header_len = _PREFIX.unpack_from(view)
    if magic != MAGIC:
        raise BitstreamError(f"not an AI4Media tensor container: starts with {bytes(magic)!r}, expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise BitstreamError(f"unsupported container version {version}; this build reads version {FORMAT_VERSION}")
    body, (crc,) = view[:-_CRC.size], _CRC.unpack_from(view, len(view) - _CRC.size)
    if zlib.crc32(body) != crc:
        raise BitstreamError("container checksum mismatch: the bitstream is truncated or corrupted")
    if _PREFIX.size + header_len > len(body):
        raise BitstreamError(f"corrupt container: header length {header_len} exceeds the {len(body)}-byte body")
    reader = _Reader(body[_PREFIX.size:_PREFIX.size + header_len])
    spec = reader.text("<H", "coder spec")
    (count,) = reader.unpack("<H", "tensor count")
    if count == 0:
        raise BitstreamError("corrupt container: it declares no tensors")
    layouts = []
    for index in range(count):
        name = reader.text("<H", f"name of tensor {index}")
        dtype = reader.text("<B", f"dtype of tensor {name!r}")
        if dtype not in ALLOWED_DTYPES:
            raise BitstreamError(f"corrupt container: tensor {name!r} has unknown dtype {dtype!r}")
        (ndim,) = reader.unpack("<B", f"ndim of tensor {name!r}")
        if ndim > MAX_NDIM:
            raise BitstreamError(f"corrupt container: tensor {name!r} declares {ndim} dimensions")
        shape = reader.unpack(f"<{ndim}Q", f"shape of tensor {name!r}")
        if any(d == 0 for d in shape) or math.prod(shape) > MAX_ELEMENTS:
            raise BitstreamError(f"corrupt container: tensor {name!r} declares an impossible shape {shape}")
        (payload_len,) = reader.unpack("<Q", f"payload length of tensor {name!r}")
        layouts.append((name, dtype, tuple(int(d) for d in shape), payload_len))
    if reader.pos != header_len:
        raise BitstreamError(f"corrupt container: {header_len - reader.pos} unexplained bytes in the header")
    if len({name for name, *_ in layouts}) != len(layouts):
        raise BitstreamError("corrupt container: duplicate tensor names")
    offset = _PREFIX.size + header_len
    if offset + sum(layout[3] for layout in layouts) != len(body):
        raise BitstreamError("corrupt container: payload lengths do not add up to the container size")
    entries = []
    for name, dtype, shape, payload_len in layouts:
        entries.append(TensorEntry(name, dtype, shape, bytes(body[offset:offset + payload_len])))
        offset += payload_len
    return spec, entries
