"""``hevc``: seed 002's lossy feature coding: Q-layer, channel tiling, HEVC intra picture (Fig. 2c, §3.2).

    hevc:qp=27,bits=10          hevc:lossless=1,bits=8

Per float tensor: the min-max Q-layer of seed 002 eqs. 2-3 to ``bits`` (8, 10 or 12; shared with the
``qlayer`` coder), the channels tiled by channel index into one monochrome picture (Fig. 3a, tiling.py), padded
by edge repetition to at least one CTU, then coded as one HEVC RExt 4:0:0 intra picture by x265 (PyAV's bundled
libx265) and decoded by FFmpeg's HEVC decoder. ``lossless=1`` is x265's lossless mode (transquant bypass):
exact on the quantised samples, so the decoded tensor equals what the Q-layer alone gives back, not the float
input. ``qp`` is then meaningless and recorded as 0, so that one canonical spec names the lossless point.

Encoder settings follow seed 002 where x265 has them: CTU 16 (``ctu=16``; HEVC levels 5 and above demand CTBs of
at least 32, which x265 enforces, so pictures beyond level 4.1's 2,228,224 luma samples or 4222 samples per
side use CTU 32), RDOQ off (``rdoq-level=0``), constant QP with the intra QP equal to ``qp`` (``ipratio=1``,
no adaptive quantisation, no psycho-visual tuning, which HM does not have either). x265's own preset
``medium`` sets everything else. No thread pool and one frame thread: the bytes are the same on every run, in
every process (checked by the tests). x265's version/options SEI is off (``info=0``); it would cost about
2 kbit per tensor.

Payload: ``min, max`` (2 x float32, as seed 002 counts them), ``bits`` (u8), tile ``rows, cols`` (2 x u16),
then the Annex-B HEVC stream. The tile size and the picture size follow from the tensor shape in the
container; the decoder checks the geometry it reads against them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from harness.coders.base import CODERS, Param
from harness.coders.qlayer import dequantise, quantise
from harness.coders.tiling import (
    TiledPictureCoder, crop, pack_header, pad_edges, tile, tiled_size, unpack_header, untile,
)
from harness.coders.video import decode_picture, encode_picture

PIX_FMTS = {8: "gray", 10: "gray10le", 12: "gray12le"}
# H.265 Table A.8: level 4.1 is the highest level that allows 16x16 CTBs; level 6.2 the highest level of all
LEVEL41_LUMA_SAMPLES, LEVEL41_MAX_SIDE = 2_228_224, 4222
LEVEL62_LUMA_SAMPLES, LEVEL62_MAX_SIDE = 35_651_584, 16888
MIN_CU = 8


def _round_up(value: int, step: int) -> int:
    return -(-value // step) * step


def ctu_size(height: int, width: int) -> int:
    """16 (seed 002) when the picture fits level 4.1 in whole minimum CUs, as x265 counts it; else 32."""
    h, w = _round_up(height, MIN_CU), _round_up(width, MIN_CU)
    return 16 if h * w <= LEVEL41_LUMA_SAMPLES and max(h, w) <= LEVEL41_MAX_SIDE else 32


def picture_size(shape: tuple[int, ...]) -> tuple[int, int, int]:
    """(height, width, ctu) of the coded picture of a tensor: the tiled image grown to at least one CTU."""
    height, width = tiled_size(shape)
    ctu = ctu_size(height, width)
    return max(height, ctu), max(width, ctu), ctu


def x265_params(qp: int, lossless: bool, ctu: int) -> str:
    rate = "lossless=1" if lossless else f"qp={qp}"
    return (f"{rate}:ctu={ctu}:min-cu-size={MIN_CU}:keyint=1:ipratio=1:rdoq-level=0:aq-mode=0:psy-rd=0:psy-rdoq=0"
            ":frame-threads=1:pools=none:lookahead-slices=0:info=0:hash=0:log-level=error")


@CODERS.register("hevc")
class HevcCoder(TiledPictureCoder):
    name = "hevc"
    rate_param = "qp"
    rate_increases_size = False  # a larger qp is a coarser step
    params = (
        Param("qp", int, 27, low=0, high=51, help="HEVC quantisation parameter (seed 002: 22, 27, 32, 37)"),
        Param("bits", int, 8, low=8, high=12, help="Q-layer bits = HEVC bit depth: 8, 10 or 12"),
        Param("lossless", bool, False, help="x265 lossless mode: exact on the quantised samples; qp is ignored"),
        Param("tiling", str, "channel", choices=("channel",), help="channels side by side (seed 002 Fig. 3a)"),
    )

    lossless_rate = 0  # qp recorded for lossless=1

    def __init__(self, **values: Any) -> None:
        super().__init__(**values)
        if self.values["bits"] not in PIX_FMTS:
            raise ValueError(f"coder 'hevc': bits={self.values['bits']} is not a bit depth of x265's 4:0:0 "
                             f"coding; allowed: {', '.join(map(str, PIX_FMTS))}")

    def encode_array(self, array: np.ndarray) -> bytes:
        bits = self.values["bits"]
        height, width, ctu = picture_size(array.shape)
        if height * width > LEVEL62_LUMA_SAMPLES or max(height, width) > LEVEL62_MAX_SIDE:
            raise ValueError(f"hevc: a tensor of shape {array.shape} tiles into a {width}x{height} picture, beyond "
                             "HEVC level 6.2; code it with qlayer or nncodec instead")
        lo, hi, q = quantise(array, bits)
        picture = pad_edges(tile(q), height, width)
        stream = encode_picture("libx265", [picture], PIX_FMTS[bits],
                                {"preset": "medium", "x265-params": x265_params(self.values["qp"],
                                                                                self.values["lossless"], ctu)})
        return pack_header(lo, hi, bits, array.shape) + stream

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        bits = self.values["bits"]
        lo, hi, stream = unpack_header(payload, bits, shape, "hevc")
        height, width, _ = picture_size(shape)
        (picture,) = decode_picture("hevc", stream, PIX_FMTS[bits], (height, width))
        q = untile(crop(picture, *tiled_size(shape)), shape)
        return dequantise(q, lo, hi, bits)
