"""The one home for files: repository paths, atomic writes, file locks and the build cache.

* :func:`atomic_write` / :func:`atomic_write_text`: readers see the old or the new content, never a part.
* :func:`file_lock`: an exclusive ``fcntl`` lock on ``<path>.lock`` (xdist workers, Ray tasks on one host).
* :func:`cached_path`: artefacts the suite makes itself (exported ONNX models, generated datasets, part-1
  features), built once under the lock into a temporary path and renamed into place, so nothing half-built
  is ever visible under the final name and concurrent workers reuse the first build.
"""
from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import fcntl
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

REPO_ROOT = Path(__file__).resolve().parent.parent


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write a file through ``write(handle)`` so that readers see either the old or the new content."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; results and reports are meant to be shared
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda handle: handle.write(data))


@contextlib.contextmanager
def atomic_directory(target: Path) -> Iterator[Path]:
    """Build a directory in a temporary sibling and rename it to ``target`` when the block succeeds: ``target``
    appears complete or not at all (a failed build leaves nothing)."""
    target = Path(target)
    if target.exists():
        raise FileExistsError(f"{target} already exists; remove it or choose another output directory")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        yield tmp_dir
        os.replace(tmp_dir, target)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Exclusive lock on ``<path>.lock`` for a read-modify-write or a build of ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def cache_root() -> Path:
    """``$HARNESS_CACHE_DIR`` or ``<repo>/.cache`` (git-ignored)."""
    root = Path(os.environ.get("HARNESS_CACHE_DIR", REPO_ROOT / ".cache"))
    root.mkdir(parents=True, exist_ok=True)
    return root


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


@lru_cache(maxsize=None)
def code_version(modules: tuple[str, ...] = ("harness",)) -> str:
    """``harness.__version__`` plus the MD5 of the Python sources of ``modules`` (packages: every .py below).

    Part of the key of every cached artefact computed by the suite's code (shards, part-1 features), so an edited
    coder or split engine never reuses a stale result; computed once per process, so a run keys everything with
    the code it started with."""
    import harness

    digest = hashlib.md5()
    for name in sorted(set(modules)):
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None and not spec.submodule_search_locations:
            raise ValueError(f"code module {name!r} cannot be found: name the installed modules a cached "
                             "artefact or shard depends on (e.g. ShardedScenario.shard_code)")
        roots = [Path(p) for p in spec.submodule_search_locations or []]
        files = sorted(f for root in roots for f in root.rglob("*.py")) if roots else [Path(spec.origin)]
        for path in files:
            digest.update(f"{name}:{path.name}:{len(path.parts)}".encode())
            digest.update(path.read_bytes())
    return f"{harness.__version__}+{digest.hexdigest()[:12]}"
