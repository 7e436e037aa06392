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

A folder's md5 is defined in harness.assetstore.digest (the md5 of its ``md5sum``-style listing).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from harness.assetstore.digest import md5_of, read_md5_sidecar
from harness.assetstore.manifest import Asset
from harness.assetstore.paths import relative_location, root_dir, sidecar_path
from harness.files import REPO_ROOT

FAILING = {"mismatch"}


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
    sidecar = sidecar_path(asset, repo_root)
    if sidecar is not None:
        expected = expected or read_md5_sidecar(sidecar)
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
