"""Ground truth and detections in COCO form: the common input of every detection metric style.

Ground truth is a COCO instances file (``images``, ``annotations``, ``categories``); detections are a COCO
results list (``[{image_id, category_id, bbox: [x, y, w, h], score}, ...]``). Both are validated here once,
so that the metric styles can trust their input: a bad entry raises ``ValueError`` naming the file, the
entry and what to fix, instead of an interpreter error deep inside pycocotools or a silently wrong mAP.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

BBox = tuple[float, float, float, float]  # COCO order: top-left x, top-left y, width, height (pixels)


@dataclass(frozen=True)
class GroundTruthBox:
    image_id: int
    category_id: int
    bbox: BBox
    area: float  # COCO's area (segment area in real COCO files; box area when the file has none)
    iscrowd: bool = False


@dataclass(frozen=True)
class Detection:
    image_id: int
    category_id: int
    bbox: BBox
    score: float


@dataclass(frozen=True)
class GroundTruth:
    """Validated COCO ground truth; ``image_ids`` keeps the file's image order."""

    image_ids: tuple[int, ...]
    categories: Mapping[int, str]
    boxes: tuple[GroundTruthBox, ...]
    source: str = "<memory>"
    images: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)

    def to_coco_dict(self) -> dict[str, Any]:
        """The dataset dict for ``pycocotools.coco.COCO``.

        Annotation ids are renumbered 1..N: pycocotools treats a matched ground-truth id of 0 as "no
        match", so a file whose ids start at 0 would silently lose a true positive.
        """
        return {
            "images": [dict(image) for image in self.images] or [{"id": i} for i in self.image_ids],
            "categories": [{"id": cid, "name": name} for cid, name in self.categories.items()],
            "annotations": [
                {"id": index, "image_id": box.image_id, "category_id": box.category_id,
                 "bbox": list(box.bbox), "area": box.area, "iscrowd": int(box.iscrowd)}
                for index, box in enumerate(self.boxes, start=1)
            ],
        }


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _integer_id(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {key!r} must be an integer, got {value!r}")
    return value


def _finite(value: Any, where: str, key: str) -> float:
    if not _is_number(value) or not math.isfinite(value):
        raise ValueError(f"{where}: {key!r} must be a finite number, got {value!r}")
    return float(value)


def _bbox(value: Any, where: str) -> BBox:
    if not isinstance(value, (list, tuple)) or len(value) != 4:
        raise ValueError(f"{where}: 'bbox' must be a list [x, y, width, height], got {value!r}")
    x, y, w, h = (_finite(v, where, "bbox") for v in value)
    if w < 0 or h < 0:
        raise ValueError(f"{where}: bbox width and height must be >= 0, got {list(value)!r} "
                         "(COCO boxes are [x, y, width, height], not corner coordinates)")
    return (x, y, w, h)


def _require(entry: Any, keys: Iterable[str], where: str) -> None:
    if not isinstance(entry, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(entry).__name__}")
    missing = [key for key in keys if key not in entry]
    if missing:
        raise ValueError(f"{where}: missing key(s) {', '.join(missing)}")


def read_json(path: Path) -> Any:
    """Parse a JSON file; a missing or malformed file raises an error that names it."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise OSError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: malformed JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None


def _unique_ids(entries: list[Any], where: str, kind: str) -> list[tuple[int, dict[str, Any]]]:
    """(id, entry) of each entry of an ``images``/``categories`` list; ids must be unique integers."""
    seen: set[int] = set()
    out = []
    for index, entry in enumerate(entries):
        entry_where = f"{where}[{index}]"
        _require(entry, ["id"], entry_where)
        entry_id = _integer_id(entry["id"], entry_where, "id")
        if entry_id in seen:
            raise ValueError(f"{entry_where}: duplicate {kind} id {entry_id}")
        seen.add(entry_id)
        out.append((entry_id, entry))
    return out


def parse_ground_truth(data: Any, source: str = "<memory>") -> GroundTruth:
    """Validate a COCO instances dict (``images``, ``annotations``, ``categories``)."""
    if not isinstance(data, dict):
        raise ValueError(f"{source}: COCO ground truth must be a JSON object with images, annotations "
                         f"and categories, got {type(data).__name__}")
    for key in ("images", "annotations", "categories"):
        if not isinstance(data.get(key), list):
            raise ValueError(f"{source}: COCO ground truth needs a list {key!r}")

    images = [{k: image[k] for k in ("id", "width", "height", "file_name") if k in image}
              for _, image in _unique_ids(data["images"], f"{source}: images", "image")]
    image_ids = [image["id"] for image in images]
    categories = {cid: str(category.get("name", cid))
                  for cid, category in _unique_ids(data["categories"], f"{source}: categories", "category")}

    known_images = set(image_ids)
    boxes: list[GroundTruthBox] = []
    for index, ann in enumerate(data["annotations"]):
        where = f"{source}: annotations[{index}]"
        _require(ann, ["image_id", "category_id", "bbox"], where)
        image_id = _integer_id(ann["image_id"], where, "image_id")
        category_id = _integer_id(ann["category_id"], where, "category_id")
        if image_id not in known_images:
            raise ValueError(f"{where}: image_id {image_id} is not in 'images'; add the image or drop the entry")
        if category_id not in categories:
            raise ValueError(f"{where}: category_id {category_id} is not in 'categories'")
        bbox = _bbox(ann["bbox"], where)
        area = _finite(ann["area"], where, "area") if "area" in ann else bbox[2] * bbox[3]
        if area < 0:
            raise ValueError(f"{where}: 'area' must be >= 0, got {area!r}")
        iscrowd = ann.get("iscrowd", 0)
        if iscrowd not in (0, 1):  # True/False compare equal to 1/0 and are accepted too
            raise ValueError(f"{where}: 'iscrowd' must be 0 or 1, got {iscrowd!r}")
        boxes.append(GroundTruthBox(image_id, category_id, bbox, area, bool(iscrowd)))
    return GroundTruth(tuple(image_ids), categories, tuple(boxes), source, tuple(images))


def parse_detections(data: Any, ground_truth: GroundTruth, source: str = "<memory>") -> list[Detection]:
    """Validate a COCO results list against the ground truth it will be scored on.

    A detection of an image or a category the ground truth does not know is an error rather than a
    silent drop: it almost always means a wrong id mapping (0- vs 1-based labels, another image set).
    """
    if not isinstance(data, list):
        raise ValueError(f"{source}: COCO results must be a JSON list of "
                         f"{{image_id, category_id, bbox, score}} objects, got {type(data).__name__}")
    known_images = set(ground_truth.image_ids)
    detections: list[Detection] = []
    for index, entry in enumerate(data):
        where = f"{source}: entry [{index}]"
        _require(entry, ["image_id", "category_id", "bbox", "score"], where)
        image_id = _integer_id(entry["image_id"], where, "image_id")
        category_id = _integer_id(entry["category_id"], where, "category_id")
        if image_id not in known_images:
            raise ValueError(f"{where}: image_id {image_id} is not an image of the ground truth "
                             f"{ground_truth.source}; score the detections against the ground truth they belong to")
        if category_id not in ground_truth.categories:
            known = ", ".join(str(c) for c in ground_truth.categories)
            raise ValueError(f"{where}: category_id {category_id} is not a category of the ground truth "
                             f"{ground_truth.source} (known: {known}); map the detector's labels to its ids")
        detections.append(Detection(image_id, category_id, _bbox(entry["bbox"], where),
                                    _finite(entry["score"], where, "score")))
    return detections


def load_ground_truth(path: Path) -> GroundTruth:
    return parse_ground_truth(read_json(path), str(path))


def load_detections(path: Path, ground_truth: GroundTruth) -> list[Detection]:
    return parse_detections(read_json(path), ground_truth, str(path))


def detections_to_coco(detections: Sequence[Detection]) -> list[dict[str, Any]]:
    """Detections as a COCO results list (what ``COCO.loadRes`` and results JSON files hold)."""
    return [{"image_id": d.image_id, "category_id": d.category_id, "bbox": list(d.bbox), "score": d.score}
            for d in detections]
