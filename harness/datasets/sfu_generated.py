"""The embedded default video data: moving shapes laid out exactly as the SFU-HW-Objects data set.

Each sequence of the ``generated`` table in references/sfu_hw_objects.yaml is drawn from its seed: a fixed
background (gradient, noise, distractor strokes, as harness.datasets.synthetic_shapes), then ``objects`` shapes
of the listed kinds (every kind at least once) moving on straight lines that bounce off the borders and turning
slowly, drawn in a fixed order. The ground truth of a frame is the tight box of every shape at least
``MIN_VISIBLE`` visible, labelled with the SFU class id its kind stands for (``shape_classes``), written one
file per frame in the seed's text format; the frames are converted to yuv420p (FFmpeg's swscale, BT.601 as
FFmpeg's default) and coded HEVC lossless intra with libx265 (PyAV), one Annex-B ``.bin`` per sequence under
``videos/``. :func:`source_planes` regenerates the yuv420p planes that went into the encoder, so a test can
check that decoding gives them back bit for bit.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import numpy as np

from harness.datasets.sfu_hw_objects import SequenceInfo, sequence_table
from harness.datasets.synthetic_shapes import shape_mask
from harness.metrics.frame_text import FrameBox, write_frame_ground_truth

VERSION = "v1"  # bump when the drawing, the coding or the layout changes
MIN_VISIBLE = 0.4
SIDE_RANGE = (20.0, 56.0)  # pixels; about 14-40 px once RetinaNet-small scales the short side to 128
SPEED_RANGE = (0.6, 2.4)  # pixels per frame
X265_LOSSLESS_INTRA = {"preset": "medium", "x265-params": "lossless=1:keyint=1:info=0:log-level=error"}


def _objects(info: SequenceInfo, rng: np.random.Generator) -> list[dict]:
    kinds = [info.shapes[k % len(info.shapes)] for k in range(max(info.objects, len(info.shapes)))]
    objects = []
    for kind in kinds:
        side = float(rng.uniform(*SIDE_RANGE))
        reach = side / 2 * np.sqrt(2) + 1.0
        speed, heading = rng.uniform(*SPEED_RANGE), rng.uniform(0, 2 * np.pi)
        objects.append({"kind": kind, "side": side, "reach": reach,
                        "start": rng.uniform([reach, reach], [info.width - reach, info.height - reach]),
                        "velocity": speed * np.array([np.cos(heading), np.sin(heading)]),
                        "angle": rng.uniform(0, 2 * np.pi), "spin": rng.uniform(-0.05, 0.05),
                        "colour": rng.uniform(0, 255, 3), "stripes": rng.uniform(3, 8) if rng.random() < 0.5 else 0.0,
                        "shape_seed": int(rng.integers(0, 2 ** 31))})
    return objects


def _bounce(start: float, velocity: float, t: int, low: float, high: float) -> float:
    """Position at frame t of a point moving at ``velocity`` between ``low`` and ``high``, reflected at both."""
    span = high - low
    phase = np.mod(start - low + velocity * t, 2 * span)
    return float(low + (phase if phase <= span else 2 * span - phase))


def _background(info: SequenceInfo, rng: np.random.Generator) -> np.ndarray:
    yy, xx = np.meshgrid(np.arange(info.height) + 0.5, np.arange(info.width) + 0.5, indexing="ij")
    c0, c1 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    angle = rng.uniform(0, 2 * np.pi)
    t = ((xx * np.cos(angle) + yy * np.sin(angle)) / max(info.width, info.height) + 1.0) / 2.0
    image = c0 + (c1 - c0) * np.clip(t, 0, 1)[..., None] + rng.normal(0, 6, (info.height, info.width, 3))
    for _ in range(int(rng.integers(4, 10))):
        p0 = rng.uniform([0, 0], [info.width, info.height])
        d = rng.uniform([0, 0], [info.width, info.height]) - p0
        s = np.clip(((xx - p0[0]) * d[0] + (yy - p0[1]) * d[1]) / (float(d @ d) + 1e-9), 0, 1)
        image[np.hypot(xx - p0[0] - s * d[0], yy - p0[1] - s * d[1]) <= rng.uniform(0.6, 1.8)] = rng.uniform(0, 255, 3)
    return image


def frames(info: SequenceInfo) -> Iterator[tuple[np.ndarray, list[FrameBox]]]:
    """(RGB uint8 frame, ground-truth boxes) of every frame of a generated sequence, in order."""
    classes = sequence_table()["shape_classes"]
    rng = np.random.default_rng([info.seed, 7])
    background = _background(info, rng)
    objects = _objects(info, rng)
    yy, xx = np.meshgrid(np.arange(info.height) + 0.5, np.arange(info.width) + 0.5, indexing="ij")
    for t in range(info.frames):
        image = background.copy()
        owner = np.full((info.height, info.width), -1, dtype=np.int32)
        masks = []
        for k, obj in enumerate(objects):
            cx = _bounce(obj["start"][0], obj["velocity"][0], t, obj["reach"], info.width - obj["reach"])
            cy = _bounce(obj["start"][1], obj["velocity"][1], t, obj["reach"], info.height - obj["reach"])
            angle = obj["angle"] + obj["spin"] * t
            u = ((xx - cx) * np.cos(angle) + (yy - cy) * np.sin(angle)) / (obj["side"] / 2)
            v = (-(xx - cx) * np.sin(angle) + (yy - cy) * np.cos(angle)) / (obj["side"] / 2)
            mask = shape_mask(obj["kind"], u, v, np.random.default_rng(obj["shape_seed"]))
            fill = np.broadcast_to(obj["colour"], image.shape).copy()
            if obj["stripes"]:
                stripes = np.sin((xx * np.cos(angle) + yy * np.sin(angle)) * 2 * np.pi / obj["stripes"])
                fill += (25 * stripes)[..., None]
            image[mask] = fill[mask]
            owner[mask] = k
            masks.append(mask)
        boxes = []
        for k, mask in enumerate(masks):
            if not mask.any() or (owner == k).sum() < MIN_VISIBLE * mask.sum():
                continue
            rows, cols = np.nonzero(mask)
            x0, y0 = int(cols.min()), int(rows.min())
            boxes.append(FrameBox(int(classes[objects[k]["kind"]]), float(x0), float(y0),
                                  float(cols.max() + 1 - x0), float(rows.max() + 1 - y0)))
        yield np.clip(np.rint(image), 0, 255).astype(np.uint8), boxes


def to_yuv420p(image: np.ndarray) -> list[np.ndarray]:
    """An RGB frame as the yuv420p planes the encoder receives (FFmpeg's conversion, as a decoder user sees it)."""
    import av

    from harness.coders.video import frame_planes

    return frame_planes(av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p"))


def source_planes(info: SequenceInfo) -> Iterator[list[np.ndarray]]:
    """The yuv420p planes of every frame, as coded (the known answer of the lossless decoder)."""
    for image, _ in frames(info):
        yield to_yuv420p(image)


def write_sequence(root: Path, info: SequenceInfo) -> None:
    """Lay out one sequence under ``root`` as the real data set: ``videos/<stem>.bin`` and
    ``<stem>/ground-truth/<frame>.txt``."""
    from harness.coders.video import encode_sequence
    from harness.files import atomic_write

    gt_dir = Path(root) / info.stem / "ground-truth"
    gt_dir.mkdir(parents=True, exist_ok=True)

    def planes() -> Iterator[list[np.ndarray]]:
        for t, (image, boxes) in enumerate(frames(info)):
            write_frame_ground_truth(gt_dir / f"{t:03d}.txt", boxes)
            yield to_yuv420p(image)

    atomic_write(Path(root) / "videos" / f"{info.stem}.bin",
                 lambda handle: encode_sequence("libx265", planes(), "yuv420p", X265_LOSSLESS_INTRA, handle))


def generated_root() -> Path:
    """The embedded sequences, built once under the cache (the folder is the extracted data set's layout)."""
    from harness.files import cached_path

    def build(target: Path) -> None:
        for info in sequence_table()["generated"].values():
            write_sequence(target, info)

    return cached_path(f"datasets/sfu_generated_{VERSION}", build)
