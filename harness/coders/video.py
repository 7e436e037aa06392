"""One picture through a video codec of PyAV (FFmpeg): planes in, elementary stream out, and back.

The coders that use a real video codec (``hevc`` for tiled features, ``hevc-image`` for the cloud-only anchor)
share these two functions so that encoder settings, plane layout and error handling live in one place.

* :func:`encode_picture` opens the encoder (e.g. ``libx265``) for one frame of the given pixel format, writes
  the planes into the frame row by row (FFmpeg's planes are padded to ``line_size``), flushes, and returns the
  packets concatenated: for libx265 without a global header this is an Annex-B byte stream (start codes,
  VPS/SPS/PPS in band) that any HEVC decoder reads on its own.
* :func:`decode_picture` runs FFmpeg's parser and decoder over such a stream and returns the planes of the
  single picture it must hold. Anything FFmpeg rejects, no picture, several pictures, or a picture of another
  format or size is a :class:`~harness.coders.container.BitstreamError`: FFmpeg's decoders are written for
  hostile input and are fuzzed continuously, so damaged bytes end in an error or a wrong picture, never in a
  crash of the interpreter (tests/coders/test_hevc.py checks it in a child process).

Encoders and decoders run on one thread: x265's thread pool and frame threads change neither the bytes nor
the picture when off, and the suite runs many workers side by side.
"""
from __future__ import annotations

from fractions import Fraction
from typing import Mapping, Sequence

import numpy as np

from harness.coders.container import BitstreamError

#: sample dtype of each planar pixel format used here
PLANE_DTYPES = {"gray": np.dtype(np.uint8), "gray10le": np.dtype("<u2"), "gray12le": np.dtype("<u2"),
                "yuv420p": np.dtype(np.uint8), "yuv444p": np.dtype(np.uint8)}
ANNEX_B_START = (b"\x00\x00\x01", b"\x00\x00\x00\x01")
# FFmpeg still names a full-range (JPEG-range) 4:2:0 picture by its deprecated format; the planes are the same
SAME_PLANES = {"yuvj420p": "yuv420p", "yuvj444p": "yuv444p"}


def encode_picture(codec: str, planes: Sequence[np.ndarray], pix_fmt: str, options: Mapping[str, str]) -> bytes:
    """Encode one picture; ``planes[0]`` is luma (height x width), chroma planes follow for YUV formats."""
    import av

    dtype = PLANE_DTYPES[pix_fmt]
    height, width = planes[0].shape
    context = av.CodecContext.create(codec, "w")
    context.width, context.height, context.pix_fmt = width, height, pix_fmt
    context.time_base = Fraction(1, 1)
    context.options = dict(options)
    frame = av.VideoFrame(width, height, pix_fmt)
    if len(frame.planes) != len(planes):
        raise ValueError(f"{pix_fmt} has {len(frame.planes)} planes, {len(planes)} given")
    for plane, values in zip(frame.planes, planes):
        if values.shape != (plane.height, plane.width):
            raise ValueError(f"{pix_fmt} plane of {plane.width}x{plane.height} given a {values.shape} array")
        rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
        rows[:, :plane.width * dtype.itemsize] = np.ascontiguousarray(values, dtype=dtype).view(np.uint8)
    frame.pts = 0
    try:
        packets = context.encode(frame) + context.encode(None)
    except av.error.FFmpegError as exc:
        raise ValueError(f"{codec} refused a {width}x{height} {pix_fmt} picture: {exc}") from None
    return b"".join(bytes(packet) for packet in packets)


def decode_picture(codec: str, stream: bytes, pix_fmt: str, size: tuple[int, int]) -> list[np.ndarray]:
    """The planes of the one ``pix_fmt`` picture of ``size`` (height, width) that ``stream`` must hold."""
    import av

    if not bytes(stream[:4]).startswith(ANNEX_B_START):
        raise BitstreamError(f"corrupt {codec} payload: no Annex-B start code at its beginning")
    try:
        context = av.CodecContext.create(codec, "r")
        context.thread_count = 1
        frames = []
        for packet in context.parse(bytes(stream)) + context.parse(None):
            frames += context.decode(packet)
        frames += context.decode(None)
    except av.error.FFmpegError as exc:
        raise BitstreamError(f"corrupt {codec} payload: FFmpeg's decoder says {exc}") from None
    if len(frames) != 1:
        raise BitstreamError(f"corrupt {codec} payload: {len(frames)} pictures decoded, expected 1")
    frame = frames[0]
    got = (SAME_PLANES.get(frame.format.name, frame.format.name), frame.height, frame.width)
    if got != (pix_fmt, *size):
        raise BitstreamError(f"corrupt {codec} payload: decoded a {got[0]} picture of {got[2]}x{got[1]}, "
                             f"expected {pix_fmt} {size[1]}x{size[0]}")
    return [_plane_array(plane, PLANE_DTYPES[pix_fmt]) for plane in frame.planes]


def _plane_array(plane, dtype: np.dtype) -> np.ndarray:
    rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
    return rows[:, :plane.width * dtype.itemsize].copy().view(dtype)
