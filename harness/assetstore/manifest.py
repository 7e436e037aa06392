"""Load and validate references/assets.yaml."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from harness.files import REPO_ROOT

MANIFEST_PATH = REPO_ROOT / "references" / "assets.yaml"
ORIGINS = ("shipped", "built", "generated", "url", "user-provided")
ROOTS = ("repo", "cache", "data_dir")
KINDS = ("model", "dataset", "selection", "weights")
MD5_RE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Asset:
    name: str
    kind: str
    origin: str
    root: str
    path: str
    obtain: str
    md5: str | None = None
    md5_file: str | None = None
    url: str | None = None
    extract_to: str | None = None
    provides: str | None = None
    required: bool = False
    used_by: str = ""
    #: a model's input shapes where its graph leaves dimensions symbolic (a member's export with a dynamic
    #: batch, height or width): ``[1, 3, 300, 300]`` for a single input, ``{name: [dims]}`` for several; the
    #: matrices run such a model on seeded inputs of these shapes (harness.split.inputs)
    input_shape: Any = None
    #: a detector model's pre- and post-processing (head, input, preprocess, default_boxes, categories, ...):
    #: the entry is then a registered detector of its own name (harness.detection.detectors reads and checks it)
    detector: Any = None


def _check(entry: dict[str, Any], where: str) -> Asset:
    for key in ("name", "kind", "origin", "root", "path", "obtain"):
        if not entry.get(key):
            raise ValueError(f"{where}: missing '{key}'")
    name = entry["name"]
    for key, allowed in (("origin", ORIGINS), ("root", ROOTS), ("kind", KINDS)):
        if entry[key] not in allowed:
            raise ValueError(f"{where} ({name}): {key} {entry[key]!r} is not one of {', '.join(allowed)}")
    md5 = entry.get("md5")
    if md5 is not None and not MD5_RE.match(str(md5)):
        raise ValueError(f"{where} ({name}): md5 {md5!r} is not 32 lowercase hex digits")
    if entry["origin"] == "url" and not str(entry.get("url", "")).startswith(("http://", "https://")):
        raise ValueError(f"{where} ({name}): origin url needs an http(s) 'url'")
    for key in ("path", "extract_to", "provides", "md5_file"):
        value = entry.get(key)
        if value and (Path(value).is_absolute() or ".." in Path(value).parts):
            raise ValueError(f"{where} ({name}): {key} {value!r} must be relative, without '..'")
    shape = entry.get("input_shape")
    if shape is not None:
        shapes = shape if isinstance(shape, dict) else {"": shape}
        if entry["kind"] not in ("model", "weights") or not all(
                isinstance(dims, list) and dims and all(isinstance(d, int) and d > 0 for d in dims)
                for dims in shapes.values()):
            raise ValueError(f"{where} ({name}): input_shape must be a model's [D1, D2, ...] or {{input: [D1, ...]}} "
                             f"of positive integers, got {shape!r}")
    if entry.get("detector") is not None and (entry["kind"] != "model" or not isinstance(entry["detector"], dict)):
        raise ValueError(f"{where} ({name}): detector must be a mapping (head, preprocess, ...) of a model entry, "
                         f"got {entry['detector']!r}")
    known = set(Asset.__dataclass_fields__)
    unknown = set(entry) - known
    if unknown:
        raise ValueError(f"{where} ({name}): unknown field(s) {', '.join(sorted(unknown))}")
    return Asset(**{**entry, "md5": md5, "required": bool(entry.get("required", False))})


def load_manifest(path: Path = MANIFEST_PATH) -> list[Asset]:
    """Every asset of a manifest file; a clear error naming the entry that is malformed."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"asset manifest {path} not found")
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = data.get("assets") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a top-level 'assets:' list")
    assets, seen = [], set()
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"{path}: assets[{index}] is not a mapping")
        asset = _check(entry, f"{path}: assets[{index}]")
        if asset.name in seen:
            raise ValueError(f"{path}: asset name {asset.name!r} appears twice")
        seen.add(asset.name)
        assets.append(asset)
    return assets


def find_asset(assets: list[Asset], name: str) -> Asset:
    for asset in assets:
        if asset.name == name:
            return asset
    raise ValueError(f"unknown asset {name!r}; known: {', '.join(a.name for a in assets)}")
