"""A build cache for artefacts the suite makes itself (exported ONNX models, generated datasets, part-1 features).

Safe under pytest-xdist: the first process to need an artefact builds it under an exclusive file lock into a
temporary path and renames it into place; the others wait on the lock and then reuse it. Nothing half-built is
ever visible under the final name.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from harness.references import REPO_ROOT


def cache_root() -> Path:
    """``$HARNESS_CACHE_DIR`` or ``<repo>/.cache`` (git-ignored)."""
    root = Path(os.environ.get("HARNESS_CACHE_DIR", REPO_ROOT / ".cache"))
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextlib.contextmanager
def file_lock(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cached_path(relative: str, build: Callable[[Path], None]) -> Path:
    """Path of a cached artefact (file or directory), built by ``build(tmp_path)`` on first use.

    ``relative`` should encode everything the artefact depends on (for example a version or a hash of
    its parameters), so that a changed recipe never reuses a stale artefact.
    """
    final = cache_root() / relative
    if final.exists():
        return final
    with file_lock(final):
        if final.exists():
            return final
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp_dir = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}."))
        try:
            tmp = tmp_dir / final.name
            build(tmp)
            if not tmp.exists():
                raise RuntimeError(f"cache builder for {relative} did not create {tmp}")
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return final
