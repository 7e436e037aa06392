"""Where every asset lives: the layout of ``--data-dir`` (and of the repository and cache) comes from the
manifest, references/assets.yaml, and from nowhere else.

Detectors, datasets, model loaders, the ASR weight finder and the CLI ask :func:`asset_path` (where the suite
reads an asset) or :func:`require_asset` (the same, or :class:`AssetMissing` naming the manifest path and
the asset); ``assets verify`` prints the same locations, so a member who places files where verify says is
a member whose real-asset tests run.

What the suite reads is ``provides`` when the manifest has one (what ``assets fetch`` extracts an archive
to, e.g. ``coco/val2017``), else ``path``. Manifest paths are relative to the entry's ``root``: ``repo``
(this repository), ``cache`` (:func:`harness.files.cache_root`) or ``data_dir`` (the user's ``--data-dir``).
"""
from __future__ import annotations

import functools
from pathlib import Path

from harness.assetstore.digest import md5_of, read_md5_sidecar
from harness.assetstore.manifest import MANIFEST_PATH, Asset, find_asset, load_manifest
from harness.files import REPO_ROOT, cache_root

MANIFEST_NAME = "references/assets.yaml"


class AssetMissing(FileNotFoundError):
    """An asset is not where the manifest says; the message names the asset, its path and how to obtain it."""


@functools.lru_cache(maxsize=8)
def _manifest(path: Path, mtime_ns: int) -> tuple[Asset, ...]:
    return tuple(load_manifest(path))


def manifest_assets(manifest: Path = MANIFEST_PATH) -> list[Asset]:
    """The manifest's assets, parsed once per file version."""
    manifest = Path(manifest)
    mtime = manifest.stat().st_mtime_ns if manifest.is_file() else 0
    return list(_manifest(manifest, mtime))


def manifest_asset(name: str, manifest: Path = MANIFEST_PATH) -> Asset:
    return find_asset(manifest_assets(manifest), name)


def relative_location(asset: Asset) -> str:
    """What the suite reads, relative to the asset's root: ``provides`` (extracted content) or ``path``."""
    return asset.provides or asset.path


def root_dir(asset: Asset, data_dir: Path | None, repo_root: Path = REPO_ROOT,
             cache_dir: Path | None = None) -> Path | None:
    """The folder the asset's paths are relative to; None for a data-dir asset without ``--data-dir``."""
    if asset.root == "repo":
        return Path(repo_root)
    if asset.root == "cache":
        return Path(cache_dir) if cache_dir is not None else cache_root()
    return Path(data_dir) if data_dir is not None else None


def asset_path(name: str, data_dir: Path | None = None, manifest: Path = MANIFEST_PATH) -> Path:
    """Where the suite reads asset ``name`` (existing or not); AssetMissing when it lives under
    ``--data-dir`` and none was given."""
    asset = manifest_asset(name, manifest)
    base = root_dir(asset, data_dir)
    if base is None:
        raise AssetMissing(f"asset {name!r} lives under --data-dir at {relative_location(asset)} ({MANIFEST_NAME}); "
                           f"pass --data-dir DIR holding DIR/{relative_location(asset)}: {asset.obtain}")
    return base / relative_location(asset)


def require_asset(name: str, data_dir: Path | None = None, manifest: Path = MANIFEST_PATH) -> Path:
    """:func:`asset_path` when it exists, else AssetMissing saying where to put it and how to obtain it."""
    path = asset_path(name, data_dir, manifest)
    if not path.exists():
        asset = manifest_asset(name, manifest)
        raise AssetMissing(f"asset {name!r} not found at {path} ({relative_location(asset)} under "
                           f"{'--data-dir' if asset.root == 'data_dir' else asset.root}, {MANIFEST_NAME}): "
                           f"{asset.obtain}")
    return path


def asset_with_file_name(file_name: str, manifest: Path = MANIFEST_PATH) -> Asset:
    """The manifest entry whose path ends in ``file_name`` (e.g. a torchaudio weight file)."""
    for asset in manifest_assets(manifest):
        if Path(asset.path).name == file_name:
            return asset
    raise ValueError(f"no entry of {MANIFEST_NAME} has a path ending in {file_name!r}; add one (name, path, "
                     "obtain) so that its place under --data-dir is defined")


def sidecar_path(asset: Asset, repo_root: Path = REPO_ROOT) -> Path | None:
    """Where the shipped md5 sidecar the manifest names for ``asset`` lives (None if it names none): sidecars
    live in the repository, beside the shipped file, wherever the asset itself is read from."""
    return Path(repo_root) / asset.md5_file if asset.md5_file else None


def verified_asset(name: str, data_dir: Path | None = None, manifest: Path = MANIFEST_PATH) -> Path:
    """:func:`require_asset`, and when the manifest knows the asset's md5 (``md5``, or the ``md5_file``
    sidecar in the repository) the file's md5 checked against it, so that a loader never runs on a damaged or
    swapped file: ValueError naming the file and both digests otherwise. A declared sidecar that is absent
    is AssetMissing like the asset itself, since without it the file cannot be checked."""
    path = require_asset(name, data_dir, manifest)
    asset = manifest_asset(name, manifest)
    expected, source = asset.md5, MANIFEST_NAME
    sidecar = sidecar_path(asset)
    if expected is None and sidecar is not None:
        expected, source = read_md5_sidecar(sidecar), sidecar.name
        if expected is None:
            raise AssetMissing(f"md5 sidecar {sidecar} of asset {name!r} ({MANIFEST_NAME}) is missing or holds no "
                               f"md5, so {path} cannot be checked: {asset.obtain}")
    if expected is not None:
        actual = _md5_of_version(path, *_version(path))
        if actual != expected:
            raise ValueError(f"{path} has md5 {actual}, {source} says {expected}: the file is damaged or was "
                             "replaced without updating its checksum")
    return path


def _version(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=64)
def _md5_of_version(path: Path, mtime_ns: int, size: int) -> str:
    """md5 of one version of a file: a model loaded by every cell of a run is hashed once, and a file replaced
    in between (another mtime or size) is hashed again."""
    return md5_of(path)
