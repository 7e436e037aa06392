"""Detection evaluation sets in COCO form: ground truth plus the image files, in a fixed order.

Registered in the data-set catalogue :data:`harness.datasets.DATASETS`, each a factory taking ``--data-dir`` (or
``None``):

* ``shapes50``: the embedded held-out set, images 0..49 of the evaluation stream of
  harness.datasets.synthetic_shapes, built on first use.
* ``shapes50_selected``: seed 000's selection over the same stream: the first 50 images on which the embedded
  detector is perfect (indices recorded in ``harness/assets/ssd_small.json`` by scripts/train_ssd_small.py).
  Its anchor scores 100 by construction; report it as a selection.
* ``coco50``: COCO val2017 restricted to a selection list (seed 000: the first 50 images on which the anchor
  is perfect). Its three files are where references/assets.yaml puts them under --data-dir
  (``coco_val2017_images``, ``coco_annotations_2017``, ``coco_selection_50``); the selection list is one image
  id per line, written by ``python -m harness select``.
* ``sfu-<class>-<name>``: one SFU-HW-Objects sequence (seed 001 §2.1.1.1) as a detection set whose images are
  its frames (image id = frame number + 1, decoded from the HEVC stream one at a time): the 18 sequences of the
  seed's table from the real data set under --data-dir, and ``sfu-G-*``, the embedded generated sequences
  (harness.datasets.sfu_generated). ``frames=(start, stop)`` and ``stride=N`` select frames; ``category_map``
  converts a detector's category ids to the sequence's class ids.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from harness.assetstore.paths import AssetMissing, require_asset
from harness.datasets import DATASETS
from harness.datasets.coco_folder import read_image
from harness.metrics.coco_data import GroundTruth, parse_ground_truth


@dataclass
class DetectionDataset:
    name: str
    ground_truth: GroundTruth
    image_paths: dict[int, Path]  # image id -> file, in ground-truth order
    origin: str
    _fingerprint: str | None = field(default=None, repr=False)
    _sizes: dict[int, tuple] | None = field(default=None, repr=False)

    def image_ids(self) -> list[int]:
        return list(self.image_paths)

    def read_image(self, image_id: int) -> np.ndarray:
        return read_image(self.image_paths[image_id])

    def image_size(self, image_id: int) -> tuple[int, int]:
        """(width, height) from the ground truth where it says, else from the image file."""
        if self._sizes is None:
            self._sizes = {i["id"]: (i.get("width"), i.get("height")) for i in self.ground_truth.images if "id" in i}
        width, height = self._sizes.get(image_id, (None, None))
        if width is None or height is None:
            height, width = self.read_image(image_id).shape[:2]
        return int(width), int(height)

    def fingerprint(self) -> str:
        """md5 of the ground truth and every image's bytes: part of every cache key built from this set, so a
        changed selection list, annotation or image never reuses stale features."""
        if self._fingerprint is None:
            digest = hashlib.md5(json.dumps(self.ground_truth.to_coco_dict(), sort_keys=True).encode())
            for image_id, path in self.image_paths.items():
                digest.update(f"{image_id}:{path.name}:".encode())
                digest.update(hashlib.md5(path.read_bytes()).digest())
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def fit_detector(self, detector: Any) -> Any:
        """``detector`` reporting this data set's category ids: itself, for a set scored in the detector's ids."""
        return detector


def coco_folder_dataset(name: str, instances: Path, images_dir: Path, origin: str,
                        selection: list[int] | None = None) -> DetectionDataset:
    """A COCO instances file and its image folder, optionally restricted to (and ordered by) ``selection``."""
    data = json.loads(instances.read_text(encoding="utf-8"))
    if selection is not None:
        known = {image["id"] for image in data.get("images", [])}
        unknown = [i for i in selection if i not in known]
        if unknown:
            raise ValueError(f"selection lists image ids not in {instances}: {unknown[:5]}")
        chosen = set(selection)
        order = {image_id: rank for rank, image_id in enumerate(selection)}
        data = dict(data, images=sorted((i for i in data["images"] if i["id"] in chosen), key=lambda i: order[i["id"]]),
                    annotations=[a for a in data.get("annotations", []) if a["image_id"] in chosen])
    ground_truth = parse_ground_truth(data, str(instances))
    paths = {image["id"]: images_dir / image["file_name"] for image in data["images"]}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise AssetMissing(f"{len(missing)} image(s) listed in {instances} are missing, e.g. {missing[0]}")
    return DetectionDataset(name, ground_truth, paths, origin)


def read_selection(path: Path) -> list[int]:
    """Image ids, one per line; blank lines and ``#`` comments ignored."""
    ids = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        if not text.isdigit():
            raise ValueError(f"{path}:{number}: expected an image id, got {line!r}")
        ids.append(int(text))
    return ids




@DATASETS.register("shapes50")
def embedded_shapes50(data_dir: Path | None = None) -> DetectionDataset:
    from harness.datasets.coco_folder import IMAGES_DIR, INSTANCES_JSON, eval_set

    root = eval_set(50)
    return coco_folder_dataset("shapes50", root / INSTANCES_JSON, root / IMAGES_DIR, origin="generated")


@DATASETS.register("coco50")
def coco_val2017_selection(data_dir: Path | None = None) -> DetectionDataset:
    images = require_asset("coco_val2017_images", data_dir)
    instances = require_asset("coco_annotations_2017", data_dir)
    selection = require_asset("coco_selection_50", data_dir)
    return coco_folder_dataset("coco50", instances, images, origin="user-provided", selection=read_selection(selection))


@DATASETS.register("shapes50_selected")
def embedded_shapes50_selected(data_dir: Path | None = None) -> DetectionDataset:
    from harness.datasets.coco_folder import IMAGES_DIR, INSTANCES_JSON, eval_set
    from harness.detection.detectors import embedded_meta

    onnx_path, meta = embedded_meta()
    try:
        indices = meta["evaluation"]["selected"]["indices"]
    except (KeyError, TypeError) as exc:
        raise AssetMissing(f"{onnx_path.with_suffix('.json')} has no evaluation.selected.indices ({exc}); run "
                           "scripts/train_ssd_small.py --export-only --select-perfect-from POOL") from None
    root = eval_set(indices=indices)  # the one cache entry of this selection (the training script uses it too)
    return coco_folder_dataset("shapes50_selected", root / INSTANCES_JSON, root / IMAGES_DIR, origin="generated")


@dataclass
class SfuSequenceDataset(DetectionDataset):
    """The frames of one SFU-HW-Objects sequence (or a selection of them) with their ground truth."""

    video: Path = field(default=Path())
    info: Any = None  # harness.datasets.sfu_hw_objects.SequenceInfo
    frames: tuple[int, ...] = ()
    _reader: Any = field(default=None, repr=False)

    def image_ids(self) -> list[int]:
        return [frame + 1 for frame in self.frames]

    def read_image(self, image_id: int) -> np.ndarray:
        from harness.datasets.sfu_hw_objects import FrameReader

        if self._reader is None:
            self._reader = FrameReader(self.video, self.info)
        return self._reader.read(image_id - 1)

    def image_size(self, image_id: int) -> tuple[int, int]:
        return self.info.width, self.info.height

    def fingerprint(self) -> str:
        """md5 of the selection, the ground truth and the video's bytes."""
        if self._fingerprint is None:
            digest = hashlib.md5(json.dumps([list(self.frames), self.ground_truth.to_coco_dict()], sort_keys=True).encode())
            with open(self.video, "rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def fit_detector(self, detector: Any) -> Any:
        """The same model reporting the sequence's class ids (:meth:`category_map` of its category space)."""
        return detector.for_classes(self.category_map(detector.category_space))

    def category_map(self, space: str) -> dict[int, int]:
        """Detector category id -> the sequence's class id, for a detector whose ids are in ``space``: ``shapes``
        (harness.datasets.synthetic_shapes, through the generated table's shape_classes) or ``coco`` (COCO's
        91-id category ids, whose 0-based 80-class index is the SFU class id). Ids missing from the map are
        classes the data set does not annotate: their detections are dropped, as seed 001 §2.1.1.1 asks
        ("results converted into the above format prior to evaluation")."""
        from harness.datasets.sfu_hw_objects import SFU_CLASSES, sequence_table
        from harness.datasets.synthetic_shapes import CATEGORIES

        if space == "shapes":
            by_name = sequence_table()["shape_classes"]
            return {c["id"]: int(by_name[c["name"]]) for c in CATEGORIES if c["name"] in by_name}
        if space == "coco":
            from harness.detection.detectors import COCO80_TO_91

            return {coco91: index for index, coco91 in enumerate(COCO80_TO_91) if index in SFU_CLASSES}
        raise ValueError(f"unknown category space {space!r}: use 'shapes' or 'coco'")


def select_frames(count: int, frames: tuple[int | None, int | None] | None = None, stride: int = 1) -> tuple[int, ...]:
    """Frame numbers ``start:stop:stride`` of a ``count``-frame sequence (Python slice rules, bounds checked)."""
    start, stop = frames or (None, None)
    if stride < 1:
        raise ValueError(f"frame stride must be a positive integer, got {stride}")
    for bound in (start, stop):
        if bound is not None and not 0 <= bound <= count:
            raise ValueError(f"frame bound {bound} is outside 0..{count} (the sequence has {count} frames)")
    chosen = tuple(range(count))[slice(start, stop, stride)]
    if not chosen:
        raise ValueError(f"frames {start}:{stop}:{stride} select no frame of a {count}-frame sequence")
    return chosen


def sfu_sequence(root: Path, info: Any, origin: str, frames: tuple[int | None, int | None] | None = None,
                 stride: int = 1) -> SfuSequenceDataset:
    """One sequence under an extracted SFU-HW-Objects folder (``root``), checked against the sequence table."""
    from harness.datasets.sfu_hw_objects import check_sequence, locate_sequence, read_sequence

    video, annotations = locate_sequence(root, info)
    check_sequence(video, annotations / "ground-truth", info)
    chosen = select_frames(info.frames, frames, stride)
    coco = read_sequence(annotations, info.width, info.height)
    wanted = {frame + 1 for frame in chosen}
    # a frame without an annotation file has no object: it is an image of the set all the same
    coco["images"] = [{"id": i, "file_name": f"{i - 1:03d}.txt", "width": info.width, "height": info.height}
                      for i in sorted(wanted)]
    coco["annotations"] = [a for a in coco["annotations"] if a["image_id"] in wanted]
    truth = parse_ground_truth(coco, f"SFU-HW-Objects {info.key}")
    return SfuSequenceDataset(f"sfu-{info.key}", truth, {}, origin, video=video, info=info, frames=chosen)


def _real_sequence(key: str, data_dir: Path | None = None, frames: Any = None, stride: int = 1) -> SfuSequenceDataset:
    from harness.datasets.sfu_hw_objects import sequence_table

    root = require_asset("sfu_hw_objects", data_dir)
    return sfu_sequence(root, sequence_table()["sequences"][key], "user-provided", frames, stride)


def _generated_sequence(key: str, data_dir: Path | None = None, frames: Any = None, stride: int = 1) -> SfuSequenceDataset:
    from harness.datasets.sfu_generated import generated_root
    from harness.datasets.sfu_hw_objects import sequence_table

    return sfu_sequence(generated_root(), sequence_table()["generated"][key], "generated", frames, stride)


#: the catalogue's data sets that are video sequences (their factories take ``frames`` and ``stride``)
VIDEO_SEQUENCES: set[str] = set()


def is_video_sequence(name: str) -> bool:
    """Whether catalogue data set ``name`` is a video sequence, whose frames a run may select (``frames``,
    ``stride``); False for a name the catalogue does not hold (a task that reads no data set)."""
    return name in VIDEO_SEQUENCES


def open_detection_set(name: str, data_dir: Path | None, frames: tuple[int | None, int | None] | None = None,
                       stride: int = 1) -> DetectionDataset:
    """Catalogue data set ``name``; the frame selection applies to a video sequence and is ignored by a set of
    still images (every image of it is scored)."""
    factory = DATASETS.get(name)
    if is_video_sequence(name):
        return factory(data_dir, frames=frames, stride=stride)
    return factory(data_dir)


def _register_sfu() -> None:
    from harness.datasets.sfu_hw_objects import sequence_table

    table = sequence_table()
    for key in table["sequences"]:
        VIDEO_SEQUENCES.add(f"sfu-{key}")
        DATASETS.register(f"sfu-{key}")(partial(_real_sequence, key))
    for key in table["generated"]:
        VIDEO_SEQUENCES.add(f"sfu-{key}")
        DATASETS.register(f"sfu-{key}")(partial(_generated_sequence, key))


_register_sfu()
