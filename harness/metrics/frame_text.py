"""Per-frame text files of seed 001 §2.1.1.1 (SFU-HW-Objects layout): one file per frame, one box a line.

Ground truth:  ``<object_label> <box_topleft_x> <box_topleft_y> <box_width> <box_height>``
Predictions:   ``<object_label> <prediction_confidence> <box_topleft_x> <box_topleft_y> <box_width> <box_height>``

Labels are the integer class ids of the seed's table (0 person, 2 car, ...); fields are separated by
whitespace; blank lines are skipped. A malformed line raises ``ValueError`` naming the file and the line
number. Numbers are written with Python's shortest round-trip repr, so write-then-read gives the same floats.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Collection, Iterable

from harness.files import atomic_write_text


@dataclass(frozen=True)
class FrameBox:
    """A ground-truth box of one frame."""

    label: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class FramePrediction:
    """A predicted box of one frame."""

    label: int
    confidence: float
    x: float
    y: float
    width: float
    height: float


GT_FIELDS = ("object_label", "box_topleft_x", "box_topleft_y", "box_width", "box_height")
PREDICTION_FIELDS = ("object_label", "prediction_confidence", "box_topleft_x", "box_topleft_y",
                     "box_width", "box_height")


def _parse_lines(path: Path, fields: tuple[str, ...],
                 classes: Collection[int] | None = None) -> Iterable[tuple[int, list[float]]]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise OSError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    expected = " ".join(f"<{name}>" for name in fields)
    for number, line in enumerate(text.splitlines(), start=1):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{path}:{number}"
        if len(tokens) != len(fields):
            raise ValueError(f"{where}: expected {len(fields)} fields ({expected}), "
                             f"got {len(tokens)}: {line.strip()!r}")
        try:
            label = int(tokens[0])
        except ValueError:
            raise ValueError(f"{where}: object_label must be an integer class id, got {tokens[0]!r}") from None
        if classes is not None and label not in classes:
            raise ValueError(f"{where}: object_label {label} is not a class id of the data set "
                             f"({', '.join(map(str, sorted(classes)))})")
        values: list[float] = []
        for name, token in zip(fields[1:], tokens[1:]):
            try:
                value = float(token)
            except ValueError:
                raise ValueError(f"{where}: {name} must be a number, got {token!r}") from None
            if not math.isfinite(value):
                raise ValueError(f"{where}: {name} must be finite, got {token!r}")
            if name in ("box_width", "box_height") and value < 0:
                raise ValueError(f"{where}: {name} must be >= 0, got {token!r}")
            values.append(value)
        yield label, values


def read_frame_ground_truth(path: Path, classes: Collection[int] | None = None) -> list[FrameBox]:
    """Ground-truth boxes of one frame file; a label outside ``classes`` (when given) is an error naming the line."""
    return [FrameBox(label, *values) for label, values in _parse_lines(path, GT_FIELDS, classes)]


def read_frame_predictions(path: Path, classes: Collection[int] | None = None) -> list[FramePrediction]:
    """Predicted boxes of one frame file, in file order; labels checked against ``classes`` as above."""
    return [FramePrediction(label, *values) for label, values in _parse_lines(path, PREDICTION_FIELDS, classes)]


def _line(label: int, *values: float) -> str:
    for value in values:
        if not math.isfinite(value):
            raise ValueError(f"cannot write a non-finite number ({value!r}) in a frame file")
    return " ".join([str(int(label)), *(repr(float(v)) for v in values)]) + "\n"


def write_frame_ground_truth(path: Path, boxes: Iterable[FrameBox]) -> None:
    """Write one frame's ground truth atomically (readers never see half a file)."""
    atomic_write_text(Path(path), "".join(_line(b.label, b.x, b.y, b.width, b.height) for b in boxes))


def write_frame_predictions(path: Path, predictions: Iterable[FramePrediction]) -> None:
    """Write one frame's predictions atomically."""
    atomic_write_text(Path(path), "".join(_line(p.label, p.confidence, p.x, p.y, p.width, p.height)
                                          for p in predictions))
