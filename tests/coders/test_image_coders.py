"""Image coders of the cloud-only anchor (harness.coders.image): ``png``, ``jpeg``, ``hevc-image``.

Independent expectations: Pillow's and FFmpeg's own decoders reading the payloads, ITU-T T.871's colour
conversion, monotonic rate and distortion, exactness of PNG, damaged bytes in a child interpreter.
"""
from __future__ import annotations

import io

import numpy as np
import pytest

from harness.coders import BitstreamError, decode_any, make_coder
from harness.coders.container import TensorEntry, pack, unpack
from harness.coders.image import rgb_to_ycc, ycc_to_rgb

from .conftest import run_probe

pytestmark = pytest.mark.coders



def _image(height: int = 96, width: int = 128, seed: int = 5) -> np.ndarray:
    """A smooth colour gradient with a few sharp rectangles and mild noise: natural enough for JPEG and HEVC."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    image = np.stack([xx * 200 / width + 20, yy * 180 / height + 40, (xx + yy) * 100 / (width + height) + 80], -1)
    for _ in range(4):
        y0, x0 = rng.integers(0, height - 8), rng.integers(0, width - 8)
        image[y0:y0 + 8 + rng.integers(0, 20), x0:x0 + 8 + rng.integers(0, 20)] = rng.integers(0, 256, 3)
    return np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255**2 / mse)


def _code(spec: str, image: np.ndarray) -> tuple[bytes, np.ndarray]:
    data = make_coder(spec).encode({"image": image})
    return data, decode_any(data)["image"]


def test_png_is_exact_and_declared_lossless():
    image = _image()
    assert np.array_equal(_code("png", image)[1], image) and make_coder("png").is_lossless


@pytest.mark.parametrize("chroma", ["420", "444"])
@pytest.mark.parametrize("spec, points", [("jpeg", (10, 30, 50, 75, 90, 95)), ("hevc-image", (47, 42, 37, 32, 27, 22))])
def test_size_and_quality_grow_along_the_rate_parameter(spec, points, chroma):
    image = _image()
    coded = [_code(f"{spec}:{make_coder(spec).rate_param}={p},chroma={chroma}", image) for p in points]
    sizes = [len(data) for data, _ in coded]
    quality = [_psnr(decoded, image) for _, decoded in coded]
    assert sizes == sorted(set(sizes)) and quality == sorted(set(quality)), (sizes, quality)


def test_jpeg_payload_is_a_jpeg_that_pillow_reads_on_its_own():
    from PIL import Image

    image = _image()
    data, decoded = _code("jpeg:quality=75", image)
    payload = unpack(data)[1][0].payload
    assert payload[:2] == b"\xff\xd8" and payload[-2:] == b"\xff\xd9"  # SOI ... EOI
    with Image.open(io.BytesIO(payload)) as own:
        assert own.format == "JPEG" and np.array_equal(np.asarray(own.convert("RGB")), decoded)


@pytest.mark.parametrize("chroma", ["420", "444"])
def test_hevc_image_payload_is_an_annex_b_stream_that_ffmpeg_decodes_on_its_own(chroma):
    import av

    image = _image(37, 51)  # odd and smaller than one 64x64 CTU: edge-padded to 64x64
    data, decoded = _code(f"hevc-image:qp=27,chroma={chroma}", image)
    payload = unpack(data)[1][0].payload
    assert payload.startswith(b"\x00\x00\x00\x01\x40\x01")  # start code + VPS NAL header (type 32)
    with av.open(io.BytesIO(payload), format="hevc") as container:
        (frame,) = list(container.decode(video=0))
    assert (frame.width, frame.height) == (64, 64) and frame.format.name in (f"yuv{chroma}p", f"yuvj{chroma}p")
    own = np.asarray(frame.to_ndarray(format="rgb24"))[:37, :51]
    assert decoded.shape == image.shape and _psnr(decoded, image) > 30
    assert _psnr(own, decoded) > 30  # swscale's own YCbCr->RGB (other upsampling) agrees with ours


def test_colour_conversion_follows_t871():
    # known answers of JFIF's equations: pure red, green, blue, white and mid grey in flat 2x2 blocks
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [128, 128, 128]], np.uint8)
    image = np.repeat(np.repeat(colours[None], 2, axis=0), 2, axis=1)
    y, cb, cr = rgb_to_ycc(image)
    assert y[0, ::2].tolist() == [76, 150, 29, 255, 128]
    assert cb[0].tolist() == [85, 44, 255, 128, 128] and cr[0].tolist() == [255, 21, 107, 128, 128]
    assert np.abs(ycc_to_rgb([y, cb, cr]).astype(int) - image).max() <= 1
    full = rgb_to_ycc(image, "444")
    assert np.array_equal(full[0], y) and np.array_equal(full[1][::2, ::2], cb) and full[1].shape == y.shape


def test_encoding_is_deterministic():
    image = _image()
    for spec in ("jpeg:quality=50", "hevc-image:qp=32", "png"):
        assert make_coder(spec).encode({"image": image}) == make_coder(spec).encode({"image": image})


@pytest.mark.parametrize("spec", ["png", "jpeg", "hevc-image"])
def test_image_coders_refuse_features_with_the_input_named(spec):
    with pytest.raises(ValueError, match=rf"image coder '{spec}': tensor 'feat' is float32 \(1, 3, 4, 5\); it codes "
                                         r"uint8 H x W x 3 RGB images"):
        make_coder(spec).encode({"feat": np.zeros((1, 3, 4, 5), np.float32)})




@pytest.mark.parametrize("spec", ["png", "jpeg:quality=50", "hevc-image:qp=37"])
def test_damaged_and_crafted_payloads_raise_bitstream_error_in_a_child(spec, tmp_path):
    data = make_coder(spec).encode({"image": _image(16, 16)})
    tally = run_probe(tmp_path, data, "flip")
    assert tally["other"] == [] and tally["bitstream_error"] == tally["cases"], tally
    spec_name, (entry,) = unpack(data)
    crafted = [entry.payload[:len(entry.payload) // 3], entry.payload[:40], b"\x00" * 64]  # checksum recomputed
    foreign = "\n".join(pack(spec_name, [TensorEntry(entry.name, entry.dtype, entry.shape, p)]).hex() for p in crafted)
    tally = run_probe(tmp_path, foreign.encode(), "foreign")
    assert tally["other"] == [] and tally["bitstream_error"] == len(crafted), tally


def test_a_container_of_features_is_not_an_image():
    data = pack("png", [TensorEntry("x", "float32", (2, 2), b"\x00" * 16)])
    with pytest.raises(BitstreamError, match="not an RGB image"):
        decode_any(data)
