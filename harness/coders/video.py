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
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, Mapping, Sequence

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


def encode_sequence(codec: str, frames: Iterable[Sequence[np.ndarray]], pix_fmt: str, options: Mapping[str, str],
                    handle: BinaryIO) -> int:
    """Encode a sequence of pictures (each the planes of ``pix_fmt``) to an Annex-B stream written to ``handle``
    as it is produced (pictures streamed, never all in memory); returns the number of pictures."""
    import av

    context, count = None, 0
    dtype = PLANE_DTYPES[pix_fmt]
    try:
        for planes in frames:
            height, width = planes[0].shape
            if context is None:
                context = av.CodecContext.create(codec, "w")
                context.width, context.height, context.pix_fmt = width, height, pix_fmt
                context.time_base = Fraction(1, 25)
                context.options = dict(options)
            frame = av.VideoFrame(width, height, pix_fmt)
            for plane, values in zip(frame.planes, planes):
                rows = np.frombuffer(plane, dtype=np.uint8).reshape(plane.height, plane.line_size)
                rows[:, :plane.width * dtype.itemsize] = np.ascontiguousarray(values, dtype=dtype).view(np.uint8)
            frame.pts = count
            for packet in context.encode(frame):
                handle.write(bytes(packet))
            count += 1
        if context is not None:
            for packet in context.encode(None):
                handle.write(bytes(packet))
    except av.error.FFmpegError as exc:
        raise ValueError(f"{codec} refused picture {count} of the sequence: {exc}") from None
    return count


def decode_sequence(path: Path, codec: str = "hevc", pix_fmt: str | None = None) -> Iterator[Any]:
    """The pictures of an Annex-B elementary stream file, in decoding order, one at a time (PyAV frames: call
    ``to_ndarray(format=...)`` or read ``planes``). A file that is not such a stream, or that breaks off, raises
    :class:`BitstreamError` naming the file and the picture it reached."""
    import av

    path = Path(path)
    with open(path, "rb") as handle:
        head = handle.read(4)
    if not head.startswith(ANNEX_B_START):
        raise BitstreamError(f"{path}: not an Annex-B {codec} elementary stream (no start code at its beginning)")
    count = 0
    try:
        context = av.CodecContext.create(codec, "r")
        context.thread_count = 1
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                for packet in context.parse(chunk):
                    for frame in context.decode(packet):
                        count += 1
                        yield _checked(frame, pix_fmt, path, count)
        for packet in context.parse(None):
            for frame in context.decode(packet):
                count += 1
                yield _checked(frame, pix_fmt, path, count)
        for frame in context.decode(None):
            count += 1
            yield _checked(frame, pix_fmt, path, count)
    except av.error.FFmpegError as exc:
        raise BitstreamError(f"{path}: FFmpeg's {codec} decoder stopped after {count} pictures: {exc}") from None


def _checked(frame: Any, pix_fmt: str | None, path: Path, number: int) -> Any:
    got = SAME_PLANES.get(frame.format.name, frame.format.name)
    if pix_fmt is not None and got != pix_fmt:
        raise BitstreamError(f"{path}: picture {number} is {got}, expected {pix_fmt}")
    return frame


def frame_planes(frame: Any) -> list[np.ndarray]:
    """The planes of a decoded 8-bit PyAV frame as arrays (padding removed)."""
    return [_plane_array(plane, np.dtype(np.uint8)) for plane in frame.planes]
