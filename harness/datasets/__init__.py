"""Data sets, for every task: the one catalogue (:data:`DATASETS`) and the readers and generators behind it
(synthetic shapes, COCO-format folders, SFU-HW-Objects ground truth, LibriSpeech).

A registered data set is a factory taking ``--data-dir`` (or None) and returning the task's data set object,
or raising :class:`harness.assetstore.paths.AssetMissing` naming the file and where it goes: where a real data
set lives under ``--data-dir`` is the manifest's (references/assets.yaml, resolved by harness.assetstore.paths)
and nowhere else's. Task packages register their evaluation sets here (the detection sets in
harness.detection.datasets), so a new data set is one registered factory plus its manifest entry.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from harness.registry import Registry

DatasetFactory = Callable[[Path | None], Any]
DATASETS: Registry[DatasetFactory] = Registry("data set")
