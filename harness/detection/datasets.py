"""Detection evaluation sets in COCO form: ground truth plus the image files, in a fixed order.

Registered in :data:`DETECTION_DATASETS`, each a factory taking ``--data-dir`` (or ``None``):

* ``shapes50``: the embedded held-out set, images 0..49 of the evaluation stream of
  harness.datasets.synthetic_shapes, built on first use.
* ``shapes50_selected``: seed 000's selection over the same stream: the first 50 images on which the embedded
  detector is perfect (indices recorded in ``harness/assets/ssd_small.json`` by scripts/train_ssd_small.py).
  Its anchor scores 100 by construction; report it as a selection.
* ``coco50``: COCO val2017 restricted to a selection list (seed 000: the first 50 images on which the anchor
  is perfect), read from ``<data-dir>/val2017/``, ``<data-dir>/annotations/instances_val2017.json`` and
  ``<data-dir>/selection_coco50.txt`` (one image id per line, written by ``python -m harness select``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from harness.detection.detectors import AssetMissing
from harness.metrics.coco_data import GroundTruth, parse_ground_truth
from harness.registry import Registry


@dataclass
class DetectionDataset:
    name: str
    ground_truth: GroundTruth
    image_paths: dict[int, Path]  # image id -> file, in ground-truth order
    origin: str

    def image_ids(self) -> list[int]:
        return list(self.image_paths)

    def read_image(self, image_id: int) -> np.ndarray:
        from PIL import Image

        path = self.image_paths[image_id]
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert("RGB"))
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot read image {path} (image id {image_id}): {exc}") from exc


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


DatasetFactory = Callable[[Path | None], DetectionDataset]
DETECTION_DATASETS: Registry[DatasetFactory] = Registry("detection dataset")


@DETECTION_DATASETS.register("shapes50")
def embedded_shapes50(data_dir: Path | None = None) -> DetectionDataset:
    from harness.datasets.coco_export import IMAGES_DIR, INSTANCES_JSON, eval_set

    root = eval_set(50)
    return coco_folder_dataset("shapes50", root / INSTANCES_JSON, root / IMAGES_DIR, origin="generated")


@DETECTION_DATASETS.register("coco50")
def coco_val2017_selection(data_dir: Path | None = None) -> DetectionDataset:
    if data_dir is None:
        raise AssetMissing("COCO val2017 needs --data-dir holding val2017/ and annotations/instances_val2017.json")
    instances = data_dir / "annotations" / "instances_val2017.json"
    images = data_dir / "val2017"
    selection = data_dir / "selection_coco50.txt"
    for needed in (instances, images, selection):
        if not needed.exists():
            raise AssetMissing(f"{needed} not found (COCO val2017 from cocodataset.org; the selection list from "
                               "`python -m harness select`)")
    return coco_folder_dataset("coco50", instances, images, origin="user-provided", selection=read_selection(selection))


@DETECTION_DATASETS.register("shapes50_selected")
def embedded_shapes50_selected(data_dir: Path | None = None) -> DetectionDataset:
    import hashlib

    from harness.cache import cached_path
    from harness.datasets.coco_export import IMAGES_DIR, INSTANCES_JSON, write_coco
    from harness.datasets.synthetic_shapes import EVAL_SEED, generate_sample
    from harness.detection.detectors import ASSETS

    meta_path = ASSETS / "ssd_small.json"
    try:
        indices = json.loads(meta_path.read_text())["evaluation"]["selected"]["indices"]
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise AssetMissing(f"{meta_path} has no evaluation.selected.indices ({exc}); run scripts/train_ssd_small.py "
                           "--export-only --select-perfect-from POOL") from None
    key = hashlib.md5(json.dumps(indices).encode()).hexdigest()[:12]
    root = cached_path(f"datasets/synthetic_shapes_v1_seed{EVAL_SEED}_selected_{key}",
                       lambda tmp: write_coco([generate_sample(EVAL_SEED, i) for i in indices], tmp))
    return coco_folder_dataset("shapes50_selected", root / INSTANCES_JSON, root / IMAGES_DIR, origin="generated")
