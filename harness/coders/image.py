"""Image coders for the cloud-only anchor (seed 002 Fig. 5 green curve, seed 001 §10.3.5 "fully inferred on
the network"): the input image itself is coded and the whole model runs in the cloud.

    png       jpeg:quality=75,chroma=420       hevc-image:qp=32,chroma=444

They share the coders' container (so an image's size counts the same header and CRC as a feature's) but code
``uint8`` H x W x 3 RGB arrays instead of float features: :class:`ImageCoder` overrides ``encode`` and
``decode_entries`` of :class:`~harness.coders.base.Coder`, which stores integer tensors verbatim.

* ``png``: Pillow's lossless PNG (compression level 9): the anchor's own accuracy at the rate of a lossless
  image, and the check that coding the input changes nothing else in the cloud-only path.
* ``jpeg``: Pillow's libjpeg(-turbo) baseline JPEG, optimised Huffman tables (as ``cjpeg -optimize``;
  deterministic), no metadata; ``quality`` 1..100 as libjpeg's scaling of the IJG tables.
* ``hevc-image``: one HEVC Main intra picture by x265 with the feature coder's settings (constant QP equal to
  ``qp``, RDOQ, AQ and psycho-visual tuning off; see hevc.py) and x265's default 64x64 CTU. RGB to YCbCr is
  JFIF's full-range BT.601 computed here in float64 (not by swscale, whose SIMD paths may round differently on
  other CPUs); for 4:2:0 chroma is averaged over 2x2 blocks and repeated back on decoding; the stream signals
  full range and BT.601 so any player shows it right. Pictures smaller than one CTU or of odd size are
  edge-padded.

``chroma``: ``420`` (the usual subsampling of both codecs) or ``444`` (full chroma resolution). Thin coloured
structures, such as the generated shapes of the embedded dataset, lose much detection accuracy to 4:2:0, so
the anchor is measured both ways.
"""
from __future__ import annotations

import io
from typing import Mapping

import numpy as np

from harness.coders.base import CODERS, Coder, Param
from harness.coders.container import BitstreamError, TensorEntry, pack, validate_tensors
from harness.coders.hevc import x265_params
from harness.coders.tiling import crop, pad_edges
from harness.coders.video import decode_picture, encode_picture


CHROMA = ("420", "444")


class ImageCoder(Coder):
    """A coder of uint8 H x W x 3 RGB images; ``encode_image``/``decode_image`` code one image."""

    def encode_image(self, image: np.ndarray) -> bytes:
        raise NotImplementedError

    def decode_image(self, payload: bytes, shape: tuple[int, int, int]) -> np.ndarray:
        raise NotImplementedError

    def encode(self, tensors: Mapping[str, np.ndarray]) -> bytes:
        entries = []
        for name, image in validate_tensors(tensors).items():
            if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
                raise ValueError(f"image coder {self.name!r}: tensor {name!r} is {image.dtype} {image.shape}; it "
                                 "codes uint8 H x W x 3 RGB images (use a feature coder for features)")
            entries.append(TensorEntry(name, "uint8", tuple(image.shape), self.encode_image(image)))
        return pack(self.spec, entries)

    def decode_entries(self, entries: list[TensorEntry]) -> dict[str, np.ndarray]:
        images = {}
        for entry in entries:
            if entry.dtype != "uint8" or len(entry.shape) != 3 or entry.shape[2] != 3:
                raise BitstreamError(f"corrupt {self.name} container: tensor {entry.name!r} is {entry.dtype} "
                                     f"{entry.shape}, not an RGB image")
            images[entry.name] = self.decode_image(entry.payload, entry.shape)
        return images

    def encode_array(self, array: np.ndarray) -> bytes:  # features never reach an image coder
        raise ValueError(f"image coder {self.name!r} codes uint8 RGB images, not float features")

    def decode_array(self, payload: bytes, shape: tuple[int, ...]) -> np.ndarray:
        raise BitstreamError(f"image coder {self.name!r} holds no float features")


def _open(payload: bytes, shape: tuple[int, int, int], fmt: str) -> np.ndarray:
    """RGB pixels of a Pillow-readable image of ``shape``; anything else is a BitstreamError."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(payload), formats=[fmt]) as image:
            image.load()
            if image.size != (shape[1], shape[0]) or image.mode != "RGB":
                raise BitstreamError(f"corrupt {fmt.lower()} payload: {image.mode} {image.size}, expected RGB "
                                     f"{(shape[1], shape[0])}")
            return np.asarray(image).copy()
    except BitstreamError:
        raise
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ValueError...) on bad data
        raise BitstreamError(f"corrupt {fmt.lower()} payload: {exc}") from None


def _save(image: np.ndarray, fmt: str, **options) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image, "RGB").save(buffer, format=fmt, **options)
    return buffer.getvalue()


@CODERS.register("png")
class PngImageCoder(ImageCoder):
    name = "png"
    lossless = True

    def encode_image(self, image: np.ndarray) -> bytes:
        return _save(image, "PNG", compress_level=9)

    def decode_image(self, payload: bytes, shape: tuple[int, int, int]) -> np.ndarray:
        return _open(payload, shape, "PNG")


@CODERS.register("jpeg")
class JpegCoder(ImageCoder):
    name = "jpeg"
    rate_param = "quality"
    params = (Param("quality", int, 75, low=1, high=100, help="libjpeg quality (seed 002 anchor: JPEG input)"),
              Param("chroma", str, "420", choices=CHROMA, help="chroma subsampling"))

    def encode_image(self, image: np.ndarray) -> bytes:
        subsampling = 2 if self.values["chroma"] == "420" else 0  # Pillow's codes for 4:2:0 and 4:4:4
        return _save(image, "JPEG", quality=self.values["quality"], subsampling=subsampling, optimize=True)

    def decode_image(self, payload: bytes, shape: tuple[int, int, int]) -> np.ndarray:
        return _open(payload, shape, "JPEG")


# JFIF full-range BT.601 (ITU-T T.871 §7). Applied with element-wise numpy operations, not a matrix product:
# BLAS may sum in another order (or fuse multiply-adds) on another CPU and move a value across a rounding edge.
_TO_YCC = ((0.299, 0.587, 0.114), (-0.168736, -0.331264, 0.5), (0.5, -0.418688, -0.081312))
_TO_RGB = ((1.0, 0.0, 1.402), (1.0, -0.344136, -0.714136), (1.0, 1.772, 0.0))
IMAGE_CTU = 64


def _mix(channels: list[np.ndarray], matrix: tuple) -> list[np.ndarray]:
    return [row[0] * channels[0] + row[1] * channels[1] + row[2] * channels[2] for row in matrix]


def _u8(values: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def rgb_to_ycc(image: np.ndarray, chroma: str = "420") -> list[np.ndarray]:
    """Y, Cb, Cr planes of an RGB image (even-sized for 4:2:0, where chroma is the mean of each 2x2 block)."""
    y, cb, cr = _mix([image[:, :, c].astype(np.float64) for c in range(3)], _TO_YCC)
    if chroma == "420":
        height, width = y.shape
        cb, cr = (c.reshape(height // 2, 2, width // 2, 2).sum(axis=(1, 3)) * 0.25 for c in (cb, cr))
    return [_u8(y), _u8(cb + 128.0), _u8(cr + 128.0)]


def ycc_to_rgb(planes: list[np.ndarray]) -> np.ndarray:
    """RGB from Y, Cb, Cr planes; 4:2:0 chroma samples are repeated over their 2x2 blocks."""
    y = planes[0].astype(np.float64)
    cb, cr = (c.astype(np.float64) - 128.0 for c in planes[1:])
    if cb.shape != y.shape:
        cb, cr = (np.repeat(np.repeat(c, 2, axis=0), 2, axis=1) for c in (cb, cr))
    return np.stack([_u8(c) for c in _mix([y, cb, cr], _TO_RGB)], axis=-1)


def _padded_size(height: int, width: int) -> tuple[int, int]:
    return max(height + height % 2, IMAGE_CTU), max(width + width % 2, IMAGE_CTU)


@CODERS.register("hevc-image")
class HevcImageCoder(ImageCoder):
    name = "hevc-image"
    rate_param = "qp"
    rate_increases_size = False
    params = (Param("qp", int, 32, low=0, high=51, help="HEVC quantisation parameter of the intra picture"),
              Param("chroma", str, "420", choices=CHROMA, help="chroma format: 4:2:0 (Main) or 4:4:4 (RExt)"))

    @property
    def pix_fmt(self) -> str:
        return f"yuv{self.values['chroma']}p"

    def encode_image(self, image: np.ndarray) -> bytes:
        height, width = _padded_size(*image.shape[:2])
        padded = np.stack([pad_edges(image[:, :, c], height, width) for c in range(3)], axis=-1)
        params = x265_params(self.values["qp"], False, IMAGE_CTU) + ":range=full:colorprim=bt470bg:colormatrix=bt470bg"
        return encode_picture("libx265", rgb_to_ycc(padded, self.values["chroma"]), self.pix_fmt,
                              {"preset": "medium", "x265-params": params})

    def decode_image(self, payload: bytes, shape: tuple[int, int, int]) -> np.ndarray:
        planes = decode_picture("hevc", payload, self.pix_fmt, _padded_size(*shape[:2]))
        return crop(ycc_to_rgb(planes), *shape[:2])
