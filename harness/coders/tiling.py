"""Channel tiling of seed 002 §3.2: the C frames (N x M) of a quantised feature tensor side by side in one
grayscale image, row-major by channel index, padded with zeros to a near-square grid of tiles.

Shared by the qlayer coder's ``lossless=png`` stage (PNG by Pillow, 8-bit for up to 8 quantisation bits,
16-bit otherwise), and the picture-codec coders ``hevc`` (one monochrome HEVC picture, padded to whole coding
blocks with :func:`pad_edges`, cropped back with :func:`crop`) and ``j2k`` (one JPEG 2000 picture), which share
:class:`TiledPictureCoder`'s declarations and the payload header of :func:`pack_header`.
"""
from __future__ import annotations

import io
import math

import numpy as np

import struct
from typing import Any, ClassVar

from harness.coders.base import Coder
from harness.coders.container import BitstreamError

# Pillow refuses to open images beyond twice this many pixels (decompression-bomb guard); stay below it.
MAX_PNG_PIXELS = 89_478_485


def frame_layout(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(frames, height, width): the last two axes are one frame, all leading axes enumerate frames."""
    if len(shape) == 0:
        return 1, 1, 1
    if len(shape) == 1:
        return 1, 1, shape[0]
    return math.prod(shape[:-2]), shape[-2], shape[-1]


def grid(frames: int) -> tuple[int, int]:
    """(rows, cols) of tiles: cols = ceil(sqrt(frames)), as square as possible."""
    cols = math.isqrt(frames - 1) + 1 if frames > 1 else 1
    return -(-frames // cols), cols


def tile(q: np.ndarray) -> np.ndarray:
    frames, height, width = frame_layout(q.shape)
    rows, cols = grid(frames)
    canvas = np.zeros((rows * cols, height, width), dtype=q.dtype)
    canvas[:frames] = q.reshape(frames, height, width)
    return canvas.reshape(rows, cols, height, width).transpose(0, 2, 1, 3).reshape(rows * height, cols * width)


def tiled_size(shape: tuple[int, ...]) -> tuple[int, int]:
    """(height, width) of the tiled image of a tensor of ``shape``."""
    frames, height, width = frame_layout(shape)
    rows, cols = grid(frames)
    return rows * height, cols * width


def pad_edges(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Grow a 2-D image to ``height`` x ``width`` by repeating its last row and column.

    Repeating the edge rather than writing zeros keeps the padding flat, so a block-based codec spends almost
    no bits on it and its in-loop filters see no artificial edge next to real samples.
    """
    extra_h, extra_w = height - image.shape[0], width - image.shape[1]
    if extra_h < 0 or extra_w < 0:
        raise ValueError(f"cannot pad a {image.shape} image down to {height}x{width}")
    return np.pad(image, ((0, extra_h), (0, extra_w)), mode="edge")


def crop(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """The top-left ``height`` x ``width`` of an image padded by :func:`pad_edges`."""
    return image[:height, :width]


def untile(image: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    frames, height, width = frame_layout(shape)
    rows, cols = grid(frames)
    tiles = image.reshape(rows, height, cols, width).transpose(0, 2, 1, 3).reshape(rows * cols, height, width)
    return tiles[:frames].reshape(shape)


def encode_png(q: np.ndarray, level: int = 9) -> bytes:
    """Tiled PNG of an integer tensor (uint8 or uint16)."""
    from PIL import Image

    if q.size > MAX_PNG_PIXELS:
        raise ValueError(f"qlayer lossless=png: {q.size} samples exceed the {MAX_PNG_PIXELS}-pixel image limit "
                         "of Pillow; use lossless=zlib for this tensor")
    image = tile(q)
    mode = "L" if q.dtype == np.uint8 else "I;16"
    buffer = io.BytesIO()
    Image.frombytes(mode, (image.shape[1], image.shape[0]), image.astype(q.dtype.newbyteorder("<")).tobytes()) \
        .save(buffer, format="PNG", compress_level=level)
    return buffer.getvalue()


def decode_png(data: bytes, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    from PIL import Image

    frames, height, width = frame_layout(shape)
    rows, cols = grid(frames)
    expected_mode = "L" if dtype == np.uint8 else "I;16"
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            if image.size != (cols * width, rows * height) or image.mode != expected_mode:
                raise BitstreamError(f"corrupt qlayer PNG: {image.mode} {image.size}, expected {expected_mode} "
                                     f"{(cols * width, rows * height)}")
            raw = image.tobytes()
    except BitstreamError:
        raise
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ValueError...) on bad data
        raise BitstreamError(f"corrupt qlayer PNG payload: {exc}") from None
    image_array = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(rows * height, cols * width)
    return untile(image_array, shape)


# --- coders of seed 002's pipeline: Q-layer, channel tiling, one picture of a picture codec (hevc, j2k) ----------
HEADER = struct.Struct("<ffBHH")  # min, max, bits, tile rows, tile cols


def pack_header(lo: float, hi: float, bits: int, shape: tuple[int, ...]) -> bytes:
    """The payload header of a tiled Q-layer picture: its range, bit depth and tile grid."""
    return HEADER.pack(lo, hi, bits, *grid(frame_layout(shape)[0]))


def unpack_header(payload: bytes, bits: int, shape: tuple[int, ...], codec: str) -> tuple[float, float, bytes]:
    """(min, max, coded picture) of a payload that starts with :func:`pack_header`'s header, checked against the
    coder's bits and the tensor's shape; anything else is a BitstreamError naming ``codec``."""
    if len(payload) < HEADER.size:
        raise BitstreamError(f"corrupt {codec} payload: {len(payload)} bytes, shorter than its header")
    lo, hi, got_bits, rows, cols = HEADER.unpack_from(payload)
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise BitstreamError(f"corrupt {codec} payload: impossible range min={lo!r} max={hi!r}")
    if (got_bits, rows, cols) != (bits, *grid(frame_layout(shape)[0])):
        raise BitstreamError(f"corrupt {codec} payload: {got_bits} bits in {rows}x{cols} tiles does not match "
                             f"the coder's {bits} bits and the {shape} tensor")
    return lo, hi, payload[HEADER.size:]


class TiledPictureCoder(Coder):
    """Shared declarations of the Q-layer + channel tiling + picture codec coders (params ``<rate>``, ``bits``,
    ``lossless``, ``tiling``): the lossless point has one canonical spec (its rate parameter set to
    ``lossless_rate``), lossless and lossy points of one bit depth form one curve (seed 002 Fig. 5), and the
    coder is never lossless on floats, since the Q-layer rounds the features before the codec sees them."""

    lossless_rate: ClassVar[int]

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        if self.values["lossless"]:
            self.values[self.rate_param] = self.lossless_rate

    @property
    def is_lossless(self) -> bool:
        """False even with lossless=1: the Q-layer before the picture codec rounds the float features."""
        return False

    @property
    def family(self) -> str:
        return f"{self.name}:bits={self.values['bits']},tiling={self.values['tiling']}"

    @property
    def label(self) -> str:
        return f"{self.name} lossless" if self.values["lossless"] else super().label

    def rate_sort_key(self) -> tuple[str, float]:
        return (self.family, -1.0 if self.values["lossless"] else float(self.rate))
