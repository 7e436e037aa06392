"""The one detector loop: for each image of a dataset read it, pre-process it, run the network, post-process
the outputs into COCO results rows.

The split-inference pipeline (its one-pass part 1 is the ``run`` step), the perfect-image selection, the
training script's evaluation and the ``select`` command all go through :func:`detect_images`, so an image
is read, resized, normalised and decoded the same way wherever a detector meets it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from harness.detection.datasets import DetectionDataset
from harness.detection.detectors import Detector
from harness.runtime import make_session

Feed = dict[str, np.ndarray]
Runner = Callable[[Feed], list[np.ndarray]]  # input feed -> the network's outputs in graph order


@dataclass
class ImageDetections:
    """One image through the detector: its feed, the network outputs, the COCO rows and the run time."""

    image_id: int
    width: int
    height: int
    feed: Feed
    outputs: list[np.ndarray]
    rows: list[dict]
    seconds: float  # the network run alone (no reading, pre- or post-processing)


def session_runner(onnx_path: Path, device: str = "cpu", optimization: str = "all") -> Runner:
    """A runner over one onnxruntime session of the whole model."""
    return runner_of(make_session(str(onnx_path), device=device, optimization=optimization))


def runner_of(session: Any) -> Runner:
    """A runner over a session the caller keeps (to time it too, or to run it again)."""
    return lambda feed: session.run(None, feed)


def detect_images(detector: Detector, dataset: DetectionDataset, image_ids: Sequence[int] | None = None,
                  run: Runner | None = None, device: str = "cpu") -> Iterator[ImageDetections]:
    """Each image of ``image_ids`` (default: the whole dataset, in dataset order) through the detector.

    ``run`` replaces the plain session (the pipeline passes its one-pass feature extractor); it is called once
    per image, in order, and each result is yielded before the next image is read.
    """
    run = run or session_runner(detector.onnx_path, device)
    for image_id in dataset.image_ids() if image_ids is None else image_ids:
        image = dataset.read_image(image_id)
        feed = detector.preprocess(image)
        start = time.perf_counter()
        outputs = run(feed)
        seconds = time.perf_counter() - start
        height, width = image.shape[:2]
        rows = detector.detections(outputs, image_id, width, height)
        yield ImageDetections(image_id, width, height, feed, outputs, rows, seconds)


def detect_rows(detector: Detector, dataset: DetectionDataset, device: str = "cpu") -> list[dict]:
    """COCO results rows of every image of the dataset, in dataset order."""
    return [row for result in detect_images(detector, dataset, device=device) for row in result.rows]
