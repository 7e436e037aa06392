"""References (expected metrics) and tolerances: data files at the repository root, read and written here.

``references/expected_metrics.json`` is a nested JSON object; each scenario owns one top-level key
(``coders``, ``ssd``, ``retinanet``, ``asr``, ...) and tests address cells by a key path.
``tolerances.yaml`` says, per metric name, how far a measured value may lie from its reference.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterator, Sequence

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCES_PATH = REPO_ROOT / "references" / "expected_metrics.json"
TOLERANCES_PATH = REPO_ROOT / "tolerances.yaml"


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


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    # Several xdist workers may update references at once: serialise read-modify-write.
    lock_path = path.with_suffix(path.suffix + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load_references(path: Path = REFERENCES_PATH) -> dict[str, Any]:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def get_reference(keys: Sequence[str], path: Path = REFERENCES_PATH) -> Any:
    """The reference at a key path, or ``None`` when there is none yet."""
    node: Any = load_references(path)
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def set_reference(keys: Sequence[str], value: Any, path: Path = REFERENCES_PATH) -> None:
    """Store a reference value at a key path (used by ``--update-references``)."""
    with _locked(path):
        data = load_references(path)
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
        atomic_write_text(path, json.dumps(data, indent=1, sort_keys=True) + "\n")


@dataclass(frozen=True)
class Tolerance:
    """``|measured - expected| <= abs + rel * |expected|``."""

    abs: float = 0.0
    rel: float = 0.0

    def accepts(self, measured: float, expected: float) -> bool:
        if isinstance(measured, float) and math.isnan(measured):
            return isinstance(expected, float) and math.isnan(expected)
        return abs(measured - expected) <= self.abs + self.rel * abs(expected)

    def describe(self) -> str:
        return f"abs {self.abs:g} + rel {self.rel:g}"


def load_tolerances(path: Path = TOLERANCES_PATH) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def tolerance_for(metric: str, tolerances: dict[str, Any] | None = None) -> Tolerance:
    """Tolerance of a metric name; unknown metrics get ``default``."""
    tolerances = load_tolerances() if tolerances is None else tolerances
    spec = (tolerances.get("metrics") or {}).get(metric, tolerances.get("default", {}))
    return Tolerance(abs=float(spec.get("abs", 0.0)), rel=float(spec.get("rel", 0.0)))


def compare_metrics(
    measured: dict[str, float], expected: dict[str, float], tolerances: dict[str, Any] | None = None
) -> list[str]:
    """Breaches as readable lines; empty when every expected metric is within tolerance."""
    tolerances = load_tolerances() if tolerances is None else tolerances
    breaches = []
    for name, want in expected.items():
        if name not in measured:
            breaches.append(f"{name}: not measured (reference {want!r})")
            continue
        got = measured[name]
        if isinstance(want, (int, float)) and isinstance(got, (int, float)):
            tol = tolerance_for(name, tolerances)
            if not tol.accepts(float(got), float(want)):
                breaches.append(f"{name}: measured {got!r}, reference {want!r}, tolerance {tol.describe()}")
        elif got != want:
            breaches.append(f"{name}: measured {got!r}, reference {want!r}")
    return breaches
