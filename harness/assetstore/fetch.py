"""Download a public asset with resume and md5 check, and extract archives safely.

* Resume: the download goes to ``<file>.part``; a later call asks for the rest with an HTTP Range request
  (a server that answers 200 instead of 206 restarts it from zero).
* Nothing half-written under the final name: ``.part`` is renamed only after its md5 matched; a mismatch
  deletes ``.part`` (resuming a corrupt file would never heal) and is an error.
* Safe extraction: every member is checked before anything is written: no absolute path, no ``..``, no
  link leading out of the target (zip symbolic links are refused outright), no device or FIFO files. The
  archive is unpacked into a temporary folder beside the target (tar with ``filter="data"`` too) and its
  entries are renamed into place only when all went well and none would replace an existing file; folders
  that already exist are merged into (two archives sharing a top folder, as LibriSpeech's subsets).
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
import stat
import tarfile
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

from harness.assetstore.manifest import Asset
from harness.assetstore.digest import md5_file
from harness.files import file_lock

CHUNK = 1 << 20


class UnsafeArchiveError(ValueError):
    """An archive member would land outside the target or is not a plain file, folder or inner link."""


def _part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def download(url: str, dest: Path, expected_md5: str | None, timeout: float = 60.0,
             progress: Callable[[int], None] | None = None) -> str:
    """Download ``url`` to ``dest`` (resuming ``dest.part``); returns the md5 of the complete file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(dest)
    with file_lock(part):
        offset = part.stat().st_size if part.exists() else 0
        request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                content_range = response.headers.get("Content-Range", "")
                if status == 206 and not content_range.startswith(f"bytes {offset}-"):
                    raise OSError(f"{url}: server answered range {content_range!r} to a resume at byte {offset}")
                mode = "ab" if status == 206 else "wb"  # 200: the server ignored Range, start over
                with open(part, mode) as handle:
                    for block in iter(lambda: response.read(CHUNK), b""):
                        handle.write(block)
                        if progress:
                            progress(len(block))
                    handle.flush()
                    os.fsync(handle.fileno())
        except urllib.error.HTTPError as exc:
            if exc.code != 416 or not offset:  # 416: nothing left to send, .part is already complete
                raise OSError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
        except urllib.error.URLError as exc:
            raise OSError(f"download of {url} failed: {exc.reason}; run again to resume from "
                          f"{part}") from None
        actual = md5_file(part)
        if expected_md5 and actual != expected_md5:
            part.unlink()
            raise ValueError(f"md5 of {url} is {actual}, expected {expected_md5}: download discarded "
                             f"({dest} not written); try again or check the manifest")
        os.replace(part, dest)
    return actual


def _check_member_name(archive: Path, name: str) -> None:
    if not name or name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        raise UnsafeArchiveError(f"{archive}: member {name!r} has an absolute path; refusing to extract")
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        raise UnsafeArchiveError(f"{archive}: member {name!r} climbs out of the target with '..'; "
                                 "refusing to extract")


def _check_link(archive: Path, name: str, target: str) -> None:
    if target.startswith(("/", "\\")):
        raise UnsafeArchiveError(f"{archive}: link {name!r} points to absolute path {target!r}; refusing to extract")
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(name), target))
    if resolved == ".." or resolved.startswith("../"):
        raise UnsafeArchiveError(f"{archive}: link {name!r} -> {target!r} points out of the target; "
                                 "refusing to extract")


def check_archive(archive: Path) -> str:
    """``"tar"`` or ``"zip"`` after checking every member; :class:`UnsafeArchiveError` otherwise."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                _check_member_name(archive, info.filename)
                mode = info.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a symbolic link; "
                                             "links in zip archives are refused")
                if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
                    raise UnsafeArchiveError(f"{archive}: member {info.filename!r} is a device or FIFO")
        return "zip"
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as bundle:
            for member in bundle.getmembers():
                _check_member_name(archive, member.name)
                if member.isdev():
                    raise UnsafeArchiveError(f"{archive}: member {member.name!r} is a device or FIFO file; "
                                             "refusing to extract")
                if member.issym():
                    _check_link(archive, member.name, member.linkname)
                elif member.islnk():
                    _check_member_name(archive, member.linkname)
                elif not (member.isfile() or member.isdir()):
                    raise UnsafeArchiveError(f"{archive}: member {member.name!r} has unsupported type")
        return "tar"
    raise ValueError(f"{archive} is neither a tar nor a zip archive")


def _is_real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _clashes(source: Path, target: Path, prefix: str = "") -> list[str]:
    """Paths of ``source`` that would replace something in ``target``; folders present on both sides merge
    (LibriSpeech's test-clean and dev-clean archives both unpack into ``LibriSpeech/``)."""
    found = []
    for child in sorted(source.iterdir()):
        there = target / child.name
        if _is_real_dir(child) and _is_real_dir(there):
            found += _clashes(child, there, f"{prefix}{child.name}/")
        elif there.exists() or there.is_symlink():
            found.append(prefix + child.name)
    return found


def _merge(source: Path, target: Path) -> None:
    for child in sorted(source.iterdir()):
        there = target / child.name
        if _is_real_dir(child) and _is_real_dir(there):
            _merge(child, there)
        else:
            os.replace(child, there)


def safe_extract(archive: Path, target: Path) -> list[str]:
    """Extract ``archive`` into ``target``; returns the top-level names it added. All or nothing."""
    kind = check_archive(archive)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.extract-"))
    try:
        if kind == "tar":
            with tarfile.open(archive) as bundle:
                bundle.extractall(staging, filter="data")
        else:
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(staging)
        entries = sorted(p.name for p in staging.iterdir())
        clashes = _clashes(staging, target)
        if clashes:
            raise FileExistsError(f"{target}: {', '.join(clashes[:5])} already exist(s); remove to extract "
                                  f"{archive.name} again")
        _merge(staging, target)
        return entries
    except tarfile.TarError as exc:
        raise UnsafeArchiveError(f"{archive}: {exc}; nothing extracted") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_asset(asset: Asset, data_dir: Path) -> dict:
    """Download (unless already present with the right md5) and extract one ``url`` asset."""
    if asset.origin != "url":
        raise ValueError(f"asset {asset.name!r} is {asset.origin}, not downloadable: {asset.obtain}")
    if not Path(data_dir).is_dir():
        raise NotADirectoryError(f"--data-dir {data_dir} is not a directory; create it first")
    dest = Path(data_dir) / asset.path
    summary: dict = {"name": asset.name, "path": str(dest), "downloaded": False, "extracted": []}
    if dest.exists() and asset.md5 and md5_file(dest) == asset.md5:
        summary["md5"] = asset.md5
    else:
        if dest.exists():
            dest.unlink()  # wrong content under the final name: replace it
        summary["md5"] = download(str(asset.url), dest, asset.md5)
        summary["downloaded"] = True
    summary["md5_verified"] = bool(asset.md5)
    if asset.extract_to:
        if asset.provides and (Path(data_dir) / asset.provides).exists():
            summary["note"] = f"{asset.provides} already present; not extracted again"
        else:
            summary["extracted"] = safe_extract(dest, Path(data_dir) / asset.extract_to)
    return summary
