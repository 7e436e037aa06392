"""md5 of asset files and folders, and of the ``.md5`` sidecars shipped beside them.

A folder's md5 is the md5 of its ``md5sum``-style listing: one ``<md5>  <relative posix path>`` line per file,
sorted by path, so ``find . -type f | sort | xargs md5sum`` reproduces it.
"""
from __future__ import annotations

import hashlib
import re
from pathlib import Path

CHUNK = 1 << 20


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
