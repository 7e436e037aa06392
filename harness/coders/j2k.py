"""``j2k``: seed 002's feature pipeline with JPEG 2000 (ITU-T T.800) in place of HEVC: Q-layer, channel tiling,
one JPEG 2000 picture coded by OpenJPEG through Pillow.

    j2k:ratio=16,bits=8          j2k:lossless=1,bits=10

Per float tensor: the min-max Q-layer of seed 002 eqs. 2-3 to ``bits`` (qlayer.py), the channels tiled by
channel index into one grayscale picture (Fig. 3a, tiling.py), coded as a raw JPEG 2000 codestream (SOC FF4F,
SIZ FF51 ... EOC FFD9; no JP2 file boxes, whose ~85 bytes would repeat what the container already says).

* ``lossless=1``: reversible 5/3 wavelet, no rate constraint: exact on the quantised samples, so the decoded
  tensor equals what the Q-layer alone gives back. ``ratio`` is then meaningless and recorded as 1.
* lossy: irreversible 9/7 wavelet (on the coders feature map 15-20 % lower MSE than truncating a 5/3 stream to
  the same size) and one quality layer, cut by OpenJPEG's rate control (post-compression rate-distortion
  optimisation, the codec's own MSE-optimal truncation) to ``ratio``: the codestream gets at most
  ``picture samples x bits / 8 / ratio`` bytes. ``ratio=1`` keeps every coding pass (no rate constraint).

Why a compression ratio (Pillow's ``quality_mode="rates"``) and not a PSNR target (``"dB"``): the ratio fixes the
rate, the axis of seed 002's KBPI curves, ahead of coding and for any content, so rate points are comparable
across tensors and split points; a PSNR target leaves the size to the content, and OpenJPEG measures it against
the peak of the precision signalled in SIZ (65535 for every 16-bit picture), so one dB value would mean
different errors at 10 and 12 bits. The ratio counts the n-bit picture, not Pillow's 16-bit sample container:
``ratio=16,bits=10`` is passed to OpenJPEG as 16 x 16 / 10 = 25.6. A larger ratio means fewer bytes.

Bit depths: any n of the Q-layer, 1..16 as for ``qlayer`` (seed 002 uses 8, 10, 12). Pillow writes mode ``L``
(8-bit precision) for n <= 8 and ``I;16`` (16-bit precision) above; it cannot signal 10 or 12 bits in SIZ. The
unused most significant bit planes are signalled per code-block as zero bit planes and cost a few bytes. Lossy
decoded samples above 2^n - 1 (ringing at the top of the range) are clipped; in lossless mode they are damage.

Everything else is OpenJPEG's default through Pillow: 64x64 code-blocks, 5 decomposition levels (fewer for small
pictures), LRCP progression, one image tile. OpenJPEG writes a COM marker ("Created by OpenJPEG version ...",
37 bytes) into every codestream; it is informational (T.800 A.9.2) and is dropped, as x265's version SEI is in
hevc.py. The bytes are the same on every run, in every process and with any OPJ_NUM_THREADS (checked by the
tests); the 9/7 wavelet is float arithmetic, so another build of OpenJPEG may differ in the last bits.

Payload: tiling.py's header (min, max, bits, tile rows, cols), then the codestream. The decoder checks SOC/SIZ at
the start and EOC at the end before anything reaches the native decoder (which, through Pillow, also rejects
short tile-parts), then the picture's mode and size against the coder and the tensor shape in the container.
"""
from __future__ import annotations

import io
import struct
from typing import Any

import numpy as np

from harness.coders.base import CODERS, Param
from harness.coders.container import BitstreamError
from harness.coders.qlayer import dequantise, quantise, sample_dtype
from harness.coders.tiling import (
    MAX_PNG_PIXELS, TiledPictureCoder, pack_header, tile, tiled_size, unpack_header, untile,
)

SOC_SIZ, EOC = b"\xff\x4f\xff\x51", b"\xff\xd9"
COM, SOT = 0xFF64, 0xFF90  # T.800 Table A.2


def picture_mode(bits: int) -> tuple[str, int]:
    """(Pillow mode, precision it signals in SIZ) of the picture of n-bit samples."""
    return ("L", 8) if bits <= 8 else ("I;16", 16)


def strip_comments(stream: bytes) -> bytes:
    """The codestream without the COM segments of its main header (SOC up to the first SOT).

    Every main-header marker after SOC is a segment with a 16-bit length (T.800 A.1.3), so it can be skipped
    whole; tile-part lengths (Psot) count from their own SOT and stay valid.
    """
    pos, kept = 2, [stream[:2]]  # SOC, the only marker without a length
    while True:
        marker, length = struct.unpack_from(">HH", stream, pos)
        if marker == SOT:
            return b"".join(kept) + stream[pos:]
        if marker != COM:
            kept.append(stream[pos:pos + 2 + length])
        pos += 2 + length


@CODERS.register("j2k")
class J2kCoder(TiledPictureCoder):
    name = "j2k"
    rate_param = "ratio"
    rate_increases_size = False  # a larger ratio leaves fewer bytes
    params = (
        Param("ratio", int, 16, low=1, high=1000,
              help="compression ratio of the n-bit tiled picture (1: no rate constraint)"),
        Param("bits", int, 8, low=1, high=16, help="Q-layer bits (seed 002 uses 8, 10, 12)"),
        Param("lossless", bool, False, help="reversible 5/3 wavelet, no rate constraint; ratio is ignored"),
        Param("tiling", str, "channel", choices=("channel",), help="channels side by side (seed 002 Fig. 3a)"),
    )

    lossless_rate = 1  # ratio recorded for lossless=1 (no rate constraint)

    def encode_array(self, array: np.ndarray) -> bytes:
        from PIL import Image

        bits, ratio = self.values["bits"], self.values["ratio"]
        height, width = tiled_size(array.shape)
        if height * width > MAX_PNG_PIXELS:  # Pillow would refuse to open the picture again
            raise ValueError(f"j2k: a tensor of shape {array.shape} tiles into a {width}x{height} picture, beyond "
                             f"Pillow's {MAX_PNG_PIXELS}-pixel limit; code it with qlayer or nncodec instead")
        lo, hi, q = quantise(array, bits)
        mode, precision = picture_mode(bits)
        options: dict[str, Any] = {"irreversible": not self.values["lossless"]}
        if not self.values["lossless"] and ratio > 1:
            options.update(quality_mode="rates", quality_layers=[ratio * precision / bits])
        buffer = io.BytesIO()
        Image.frombytes(mode, (width, height), tile(q).astype(q.dtype.newbyteorder("<")).tobytes()) \
            .save(buffer, format="JPEG2000", no_jp2=True, **options)
        return pack_header(lo, hi, bits, array.shape) + strip_comments(buffer.getvalue())

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        from PIL import Image

        bits = self.values["bits"]
        lo, hi, stream = unpack_header(payload, bits, shape, "j2k")
        if not (stream.startswith(SOC_SIZ) and stream.endswith(EOC)):
            raise BitstreamError("corrupt j2k payload: not a whole JPEG 2000 codestream (SOC, SIZ ... EOC)")
        height, width = tiled_size(shape)
        mode, _ = picture_mode(bits)
        try:
            with Image.open(io.BytesIO(stream), formats=["JPEG2000"]) as image:
                if image.size != (width, height) or image.mode != mode:
                    raise BitstreamError(f"corrupt j2k payload: a {image.mode} picture of {image.size}, expected "
                                         f"{mode} {(width, height)}")
                raw = image.tobytes()
        except BitstreamError:
            raise
        except Exception as exc:  # noqa: BLE001 - Pillow raises many types (OSError, SyntaxError...) on bad data
            raise BitstreamError(f"corrupt j2k payload: {exc}") from None
        picture = np.frombuffer(raw, dtype=sample_dtype(bits).newbyteorder("<")).reshape(height, width)
        levels = (1 << bits) - 1
        if picture.max() > levels:
            if self.values["lossless"]:
                raise BitstreamError(f"corrupt j2k payload: sample {int(picture.max())} exceeds {bits} bits")
            picture = np.minimum(picture, levels)  # ringing of the 9/7 wavelet above the top of the range
        return dequantise(untile(picture, shape), lo, hi, bits)
