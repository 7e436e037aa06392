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
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

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
