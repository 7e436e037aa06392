"""SFU-HW-Objects (seed 001 §2.1.1.1): the sequence table, the videos and the per-frame ground truth.

The seed's sequence and class tables are data (references/sfu_hw_objects.yaml, :func:`sequence_table`). Layout
of the extracted data set (the manifest's ``sfu_hw_objects``, under --data-dir): each sequence's video, HEVC
lossless intra as an Annex-B stream, in a ``videos/`` folder (``<name>_<W>x<H>*.bin`` or ``<name>*.bin``;
``.hevc``/``.265`` too), and its annotations in a folder ``<name>_<W>x<H>*`` or ``<name>*`` holding
``ground-truth/<frame>.txt`` (one file per frame, lines ``<object_label> <box_topleft_x> <box_topleft_y>
<box_width> <box_height>`` in pixels). Frames are ordered by the integer in their file name. Class ids are those
of the seed's table, kept as COCO category ids so that predictions in the same ids score without any mapping.

Frames are decoded with PyAV one at a time (:class:`FrameReader`, never the whole sequence in memory); the
number of pictures in the stream must be the table's frame count.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from harness.metrics.frame_text import read_frame_ground_truth, read_frame_predictions

TABLE_PATH = Path(__file__).resolve().parents[2] / "references" / "sfu_hw_objects.yaml"
VIDEO_SUFFIXES = (".bin", ".hevc", ".265")


@dataclass(frozen=True)
class SequenceInfo:
    """One row of the sequence table (generated sequences add what draws them)."""

    klass: str
    name: str
    width: int
    height: int
    frames: int
    object_classes: int
    shapes: tuple[str, ...] = ()
    objects: int = 0
    seed: int = 0

    @property
    def key(self) -> str:
        """Class and name: unique (RaceHorses is in classes C and D)."""
        return f"{self.klass}-{self.name}"

    @property
    def stem(self) -> str:
        """``<name>_<W>x<H>``, the JVET naming of the sequence's files."""
        return f"{self.name}_{self.width}x{self.height}"


def _row(row: dict[str, Any], where: str) -> SequenceInfo:
    try:
        return SequenceInfo(str(row["class"]), str(row["name"]), int(row["width"]), int(row["height"]),
                            int(row["frames"]), int(row["object_classes"]), tuple(row.get("shapes", ())),
                            int(row.get("objects", 0)), int(row.get("seed", 0)))
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"{TABLE_PATH}: {where} row {row!r} is malformed ({exc})") from None


@lru_cache(maxsize=1)
def sequence_table() -> dict[str, Any]:
    """``classes`` (id -> name), ``sequences`` and ``generated`` (key -> :class:`SequenceInfo`) and
    ``shape_classes`` (generated shape -> class id) of references/sfu_hw_objects.yaml."""
    import yaml

    data = yaml.safe_load(TABLE_PATH.read_text(encoding="utf-8"))
    sequences = {info.key: info for info in (_row(r, "sequences") for r in data["sequences"])}
    generated = {info.key: info for info in (_row(r, "generated") for r in data["generated"]["sequences"])}
    return {"classes": {int(k): str(v) for k, v in data["classes"].items()}, "sequences": sequences,
            "generated": generated, "shape_classes": dict(data["generated"]["shape_classes"])}


# seed 001 §2.1.1.1: the labels supported by the dataset (COCO 80-class indices, 0-based)
SFU_CLASSES: dict[int, str] = sequence_table()["classes"]


def sequence_dir(data_dir: Path | None, sequence: str) -> Path:
    """The folder of ``sequence`` (e.g. ``FourPeople``) inside the extracted ``sfu_hw_objects`` asset, located
    through the manifest (references/assets.yaml); AssetMissing when the data set or the sequence is absent."""
    from harness.assetstore.paths import AssetMissing, require_asset

    root = require_asset("sfu_hw_objects", data_dir)
    found = sorted(p for p in root.rglob("*") if p.is_dir() and p.name.startswith(sequence) and (p / "ground-truth").is_dir())
    if not found:
        raise AssetMissing(f"SFU-HW-Objects sequence {sequence!r} not found under {root} (no folder named "
                           f"{sequence}* with a ground-truth/ folder)")
    return found[0]


def _frame_number(path: Path) -> int:
    digits = re.findall(r"\d+", path.stem)
    if not digits:
        raise ValueError(f"{path}: cannot tell the frame number from the file name (expected digits in it)")
    return int(digits[-1])


def read_sequence(sequence_dir: Path, width: int | None = None, height: int | None = None) -> dict[str, Any]:
    """COCO instances dict of one sequence; image ids are frame numbers + 1 (COCO ids start at 1)."""
    gt_dir = Path(sequence_dir) / "ground-truth"
    if not gt_dir.is_dir():
        raise FileNotFoundError(f"{gt_dir} not found: an SFU-HW-Objects sequence has one annotation file per frame "
                                "there (https://dash-large-files.akamaized.net/WAVE/3GPP/AIML/ReferenceDataSets/"
                                "sfuhwobjects.tar.gz)")
    files = sorted(gt_dir.glob("*.txt"), key=_frame_number)
    if not files:
        raise FileNotFoundError(f"{gt_dir} holds no .txt annotation files")
    images, annotations = [], []
    for path in files:
        image_id = _frame_number(path) + 1
        image: dict[str, Any] = {"id": image_id, "file_name": f"{path.stem}.png"}
        if width and height:
            image.update(width=width, height=height)
        images.append(image)
        for box in read_frame_ground_truth(path, SFU_CLASSES):
            if box.width <= 0 or box.height <= 0:
                raise ValueError(f"{path}: box of label {box.label} has a non-positive size {box.width}x{box.height}")
            annotations.append({"id": len(annotations) + 1, "image_id": image_id, "category_id": box.label,
                                "bbox": [box.x, box.y, box.width, box.height], "area": box.width * box.height,
                                "iscrowd": 0})
    categories = [{"id": cid, "name": name} for cid, name in SFU_CLASSES.items()]
    return {"images": images, "annotations": annotations, "categories": categories}


def _match(candidates: list[Path], info: SequenceInfo, what: str, where: Path) -> Path:
    for prefix in (info.stem, info.name):
        found = sorted(p for p in candidates if p.name.startswith(prefix))
        if prefix == info.name:  # a bare name must not take another resolution's file (RaceHorses C/D)
            found = [p for p in found if not re.match(rf"{re.escape(info.name)}_\d+x\d+", p.name)]
        if found:
            return found[0]
    raise FileNotFoundError(f"SFU-HW-Objects sequence {info.key}: no {what} named {info.stem}* or {info.name}* "
                            f"under {where}")


def locate_sequence(root: Path, info: SequenceInfo) -> tuple[Path, Path]:
    """(video file, annotation folder) of a sequence under the extracted data set ``root``."""
    root = Path(root)
    videos = [p for p in root.rglob("*") if p.is_file() and p.parent.name == "videos" and p.suffix in VIDEO_SUFFIXES]
    folders = [p.parent for p in root.rglob("ground-truth") if p.is_dir()]
    return _match(videos, info, "video in a videos/ folder", root), _match(folders, info, "annotation folder", root)


def count_pictures(video: Path) -> int:
    """Pictures in an Annex-B HEVC stream, counted by FFmpeg's parser without decoding (one access unit each)."""
    import av

    from harness.coders.container import BitstreamError

    context = av.CodecContext.create("hevc", "r")
    count = 0
    try:
        with open(video, "rb") as handle:
            while chunk := handle.read(1 << 20):
                count += len(context.parse(chunk))
        count += len(context.parse(None))
    except av.error.FFmpegError as exc:
        raise BitstreamError(f"{video}: not a parsable HEVC stream: {exc}") from None
    return count


def check_sequence(video: Path, gt_dir: Path, info: SequenceInfo) -> None:
    """The stream is HEVC with the table's frame count; ground truth has no frame beyond it. ValueError naming
    the file otherwise (a truncated stream has fewer pictures)."""
    from harness.coders.container import BitstreamError
    from harness.coders.video import ANNEX_B_START

    with open(video, "rb") as handle:
        if not handle.read(4).startswith(ANNEX_B_START):
            raise BitstreamError(f"{video}: not an HEVC Annex-B stream (no start code at its beginning)")
    pictures = count_pictures(video)
    if pictures != info.frames:
        raise ValueError(f"{video}: {pictures} pictures, but the sequence table (references/sfu_hw_objects.yaml) "
                         f"gives {info.key} {info.frames} frames; the file is truncated or not this sequence")
    beyond = [p for p in Path(gt_dir).glob("*.txt") if _frame_number(p) >= info.frames]
    if beyond:
        raise ValueError(f"{beyond[0]}: ground truth of frame {_frame_number(beyond[0])}, beyond the "
                         f"{info.frames} frames of {info.key}")


class FrameReader:
    """Frames of one video as RGB arrays, read in increasing frame order one at a time: a request ahead of the
    last decoded frame decodes forward, one behind it reopens the stream (frames are never all in memory)."""

    def __init__(self, video: Path, info: SequenceInfo) -> None:
        self.video, self.info = Path(video), info
        self._frames: Iterator[Any] | None = None
        self._next = 0

    def read(self, frame: int) -> np.ndarray:
        from harness.coders.container import BitstreamError
        from harness.coders.video import decode_sequence

        if not 0 <= frame < self.info.frames:
            raise ValueError(f"{self.video}: frame {frame} is outside 0..{self.info.frames - 1}")
        if self._frames is None or frame < self._next:
            self._frames, self._next = decode_sequence(self.video, "hevc"), 0
        for picture in self._frames:
            self._next += 1
            if self._next - 1 == frame:
                if (picture.width, picture.height) != (self.info.width, self.info.height):
                    raise BitstreamError(f"{self.video}: frame {frame} is {picture.width}x{picture.height}, the "
                                         f"table gives {self.info.width}x{self.info.height}")
                return picture.to_ndarray(format="rgb24")
        raise BitstreamError(f"{self.video}: the stream ends before frame {frame}")

    def close(self) -> None:
        self._frames = None


def read_predictions(folder: Path) -> list[dict]:
    """COCO results rows of a folder of per-frame prediction files (seed 001 §2.1.1.1's format, one
    ``<frame>.txt`` per frame; image id = frame number + 1, as :func:`read_sequence`); a label outside the 21
    classes is an error naming the file and line."""
    files = sorted(Path(folder).glob("*.txt"), key=_frame_number)
    if not files:
        raise FileNotFoundError(f"{folder} holds no per-frame prediction files (<frame>.txt)")
    rows = []
    for path in files:
        image_id = _frame_number(path) + 1
        for p in read_frame_predictions(path, SFU_CLASSES):
            rows.append({"image_id": image_id, "category_id": p.label, "bbox": [p.x, p.y, p.width, p.height],
                         "score": p.confidence})
    return rows
