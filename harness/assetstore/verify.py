"""Presence and md5 of every manifest asset.

Semantics (``assets verify`` exits non-zero when ``failed`` is true):

* ``ok``: present and its md5 matches (manifest ``md5`` or the shipped ``md5_file`` sidecar);
* ``extracted``: the archive is gone but what it ``provides`` is there (not re-hashed);
* ``unchecked``: present but no expected md5 is known; the computed md5 is printed for cross-checks;
* ``mismatch``: present with a different md5 -> failure, whatever the asset;
* ``missing``: absent; a failure only for ``required`` (shipped) assets, otherwise reported with how
  to obtain it (the suite then uses its embedded defaults);
* ``on-demand``: a built/generated artefact not built yet (made on first use; not a failure);
* ``skipped``: lives under --data-dir and none was given.

A folder's md5 is the md5 of its ``md5sum``-style listing: one ``<md5>  <relative posix path>`` line per
file, sorted by path, so ``find . -type f | sort | xargs md5sum`` reproduces it.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass
from pathlib import Path

from harness.assetstore.manifest import Asset
from harness.assetstore.paths import relative_location, root_dir
from harness.files import REPO_ROOT

CHUNK = 1 << 20
FAILING = {"mismatch"}


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def md5_tree(folder: Path) -> str:
    files = sorted((p for p in folder.rglob("*") if p.is_file()), key=lambda p: p.relative_to(folder).as_posix())
    listing = "".join(f"{md5_file(p)}  {p.relative_to(folder).as_posix()}\n" for p in files)
    return hashlib.md5(listing.encode("utf-8")).hexdigest()


def md5_of(path: Path) -> str:
    return md5_tree(path) if path.is_dir() else md5_file(path)


def read_md5_sidecar(path: Path) -> str | None:
    """First 32-hex-digit token of a ``.md5`` file (``md5sum`` output or a bare digest)."""
    if not path.is_file():
        return None
    match = re.search(r"\b[0-9a-fA-F]{32}\b", path.read_text(encoding="utf-8", errors="replace"))
    return match.group(0).lower() if match else None


@dataclass
class AssetStatus:
    name: str
    origin: str
    status: str
    path: str
    expected_md5: str | None
    actual_md5: str | None
    message: str
    required: bool = False
    location: str = ""  # where the suite reads it (``provides`` or ``path`` under its root): place it there

    @property
    def failed(self) -> bool:
        return self.status in FAILING or (self.status == "missing" and self.required)

    def as_dict(self) -> dict:
        return {**asdict(self), "failed": self.failed}


def verify_asset(asset: Asset, data_dir: Path | None, repo_root: Path = REPO_ROOT,
                 cache_root: Path | None = None) -> AssetStatus:
    base = root_dir(asset, data_dir, repo_root, cache_root)
    location = str(base / relative_location(asset)) if base is not None else relative_location(asset)

    def status(state: str, path: str, actual: str | None, message: str, expected: str | None = None) -> AssetStatus:
        return AssetStatus(asset.name, asset.origin, state, path, expected, actual, message, asset.required, location)

    if base is None:
        return status("skipped", asset.path, None, f"not checked: no --data-dir given; {asset.obtain}")
    expected = asset.md5
    if asset.md5_file:
        sidecar = read_md5_sidecar(repo_root / asset.md5_file)
        expected = expected or sidecar
    if any(ch in asset.path for ch in "*?["):
        # cache lock files and hidden build folders are not the artefact
        matches = sorted(m for m in Path(base).glob(asset.path) if not m.name.endswith(".lock") and not m.name.startswith("."))
        if not matches:
            state = "on-demand" if asset.origin in ("built", "generated") else "missing"
            return status(state, str(Path(base) / asset.path), None, f"not present: {asset.obtain}", expected)
        digests = ", ".join(f"{m.name}={md5_of(m)}" for m in matches)
        return status("unchecked", str(Path(base) / asset.path), None, f"present: {digests}", expected)
    path = Path(base) / asset.path
    if path.exists():
        actual = md5_of(path)
        if expected is None:
            why = f"no md5 sidecar {asset.md5_file}" if asset.md5_file else "no published md5"
            return status("unchecked", str(path), actual, f"present, {why}; md5 {actual}")
        if actual != expected:
            return status("mismatch", str(path), actual, f"md5 {actual} != expected {expected}: corrupt or "
                          f"a different version; {asset.obtain}", expected)
        return status("ok", str(path), actual, "present, md5 matches", expected)
    if asset.provides and (Path(base) / asset.provides).exists():
        return status("extracted", str(Path(base) / asset.provides), None,
                      "archive not kept; extracted content present (not re-hashed)", expected)
    if asset.origin in ("built", "generated"):
        return status("on-demand", str(path), None, f"not built yet: {asset.obtain}", expected)
    prefix = "required asset missing" if asset.required else "missing (optional)"
    return status("missing", str(path), None, f"{prefix}: expected at {location}; {asset.obtain}", expected)


def verify_assets(assets: list[Asset], data_dir: Path | None, repo_root: Path = REPO_ROOT,
                  cache_root: Path | None = None) -> list[AssetStatus]:
    if data_dir is not None and not Path(data_dir).is_dir():
        raise NotADirectoryError(f"--data-dir {data_dir} is not a directory")
    return [verify_asset(a, data_dir, repo_root, cache_root) for a in assets]
