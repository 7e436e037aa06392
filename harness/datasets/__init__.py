"""Data sets, for every task: the one catalogue (:data:`DATASETS`) and the readers and generators behind it
(synthetic shapes, COCO-format folders, SFU-HW-Objects ground truth, LibriSpeech, PoseNet's test images, the
seeded split-point feature map).

A registered data set is a factory ``factory(data_dir, **options)`` taking ``--data-dir`` (or None) and the
matrix's options for it (``shape``/``seed`` of ``relu_features``, ``sources`` of ``pose_images``), returning the
task's data set object or raising :class:`harness.assetstore.paths.AssetMissing` naming the file and where it
goes: where a real data set lives under ``--data-dir`` is the manifest's (references/assets.yaml, resolved by
harness.assetstore.paths) and nowhere else's. The registered name is the one results carry as
``data_set_name``. The readers here register their sets when this package is imported; task packages register
theirs beside their task (the detection sets in harness.detection.datasets), so a new data set is one registered
factory plus its manifest entry.

Registered: ``shapes50``, ``shapes50_selected``, ``coco50`` (detection); ``embedded``,
``librispeech-test-clean``, ``librispeech-dev-clean`` (ASR); ``pose_images`` (PoseNet); ``relu_features``
(coder conformance).
"""
from __future__ import annotations

from typing import Any, Callable

from harness.registry import Registry, import_submodules

DatasetFactory = Callable[..., Any]
DATASETS: Registry[DatasetFactory] = Registry("data set")

import_submodules(__name__)  # the readers of this package register their sets (DATASETS exists by now)

__all__ = ["DATASETS", "DatasetFactory"]
