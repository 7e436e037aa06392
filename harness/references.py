"""References (expected metrics) and tolerances: data files at the repository root, read and written here.

``references/expected_metrics.json`` is a nested JSON object; each scenario owns one top-level key
(``coders``, ``ssd``, ``retinanet``, ``asr``, ...) and tests address cells by a key path.
``tolerances.yaml`` says, per metric name, how far a measured value may lie from its reference.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from harness.files import REPO_ROOT, atomic_write_text, file_lock

REFERENCES_PATH = REPO_ROOT / "references" / "expected_metrics.json"
TOLERANCES_PATH = REPO_ROOT / "tolerances.yaml"


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
    with file_lock(path):  # several xdist workers may record at once
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


@dataclass(frozen=True)
class Gate:
    """Which bands judge a cell: the same platform's (``cross_platform=False``), or the cross-platform bands of
    tolerances.yaml; ``sizes_follow_inference``: whether the cell's bitstream sizes follow values inferred on
    the platform (only then do the value-dependent sizes take a cross-platform band)."""

    cross_platform: bool = False
    sizes_follow_inference: bool = False

    def describe(self) -> str:
        return "cross-platform bands" if self.cross_platform else "same-platform tolerances"


SAME_PLATFORM = Gate()


def _tolerance(spec: dict[str, Any]) -> Tolerance:
    return Tolerance(abs=float(spec.get("abs", 0.0)), rel=float(spec.get("rel", 0.0)))


def tolerance_for(metric: str, tolerances: dict[str, Any] | None = None, gate: Gate = SAME_PLATFORM) -> Tolerance:
    """Tolerance of a metric name; unknown metrics get ``default``. Under a cross-platform gate, the metric's
    entry of ``cross_platform.metrics`` where it has one (a value-dependent size only when the cell's sizes
    follow inference), else the same-platform tolerance."""
    tolerances = load_tolerances() if tolerances is None else tolerances
    same = _tolerance((tolerances.get("metrics") or {}).get(metric, tolerances.get("default", {})))
    if not gate.cross_platform:
        return same
    section = tolerances.get("cross_platform") or {}
    if metric in (section.get("value_dependent_sizes") or []) and not gate.sizes_follow_inference:
        return same
    spec = (section.get("metrics") or {}).get(metric)
    return same if spec is None else _tolerance(spec)


def compare_metrics(measured: dict[str, float], expected: dict[str, float], tolerances: dict[str, Any] | None = None,
                    gate: Gate = SAME_PLATFORM) -> list[str]:
    """Breaches as readable lines; empty when every metric is within tolerance. A measured gating metric that
    the reference lacks is a breach too: a reference recorded before a metric was added gates nothing of it."""
    tolerances = load_tolerances() if tolerances is None else tolerances
    breaches = []
    for name, want in expected.items():
        if name not in measured:
            breaches.append(f"{name}: not measured (reference {want!r})")
            continue
        got = measured[name]
        if isinstance(want, (int, float)) and isinstance(got, (int, float)):
            tol = tolerance_for(name, tolerances, gate)
            if not tol.accepts(float(got), float(want)):
                breaches.append(f"{name}: measured {got!r}, reference {want!r}, tolerance {tol.describe()}")
        elif got != want:
            breaches.append(f"{name}: measured {got!r}, reference {want!r}")
    breaches += [f"{name}: measured {measured[name]!r}, but the reference records no {name}; record it with "
                 "--update-references" for name in measured if name not in expected]
    return breaches


class ReferenceBreach(AssertionError):
    """Measured metrics outside their tolerance: a typed failure that the run summary counts as "out of
    tolerance" without reading message text."""

    def __init__(self, key: str, breaches: list[str], verdicts: list[str]) -> None:
        self.key, self.breaches, self.verdicts = key, breaches, verdicts
        super().__init__(f"{key} outside tolerance:\n  " + "\n  ".join(breaches))


class NoReference(AssertionError):
    """No reference recorded for a cell (on its platform or on the reference platform): told apart from a
    breach, the run summary counts it as "no reference" and its results row says ``no_reference``."""

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


def verdict_lines(measured: dict[str, Any], expected: dict[str, Any], tolerances: dict[str, Any],
                  gate: Gate = SAME_PLATFORM) -> list[str]:
    """One line per reference metric: measured, reference, tolerance and pass/FAIL (the same formula as
    :func:`compare_metrics`, which gives the failing lines)."""
    failing = {line.split(":", 1)[0] for line in compare_metrics(measured, expected, tolerances, gate)}
    lines = []
    for name, want in expected.items():
        tol = tolerance_for(name, tolerances, gate)
        verdict = "FAIL" if name in failing else "pass"
        lines.append(f"{name}: measured {measured.get(name, 'not measured')!r}, reference {want!r}, "
                     f"tolerance {tol.describe()}: {verdict}")
    return lines


def check_against_reference(keys: Sequence[str], measured: dict[str, Any], tolerances: dict[str, Any] | None = None,
                            *, update: bool = False, path: Path = REFERENCES_PATH,
                            gate: Gate = SAME_PLATFORM) -> list[str]:
    """Record (``update``) or compare measured metrics with the reference at ``keys``. Returns the verdict
    lines; raises ReferenceBreach naming the key when a metric is out of tolerance, NoReference when there is
    no reference."""
    tolerances = load_tolerances() if tolerances is None else tolerances
    key = "/".join(keys)
    if update:
        set_reference(keys, measured, path)
        return [f"{name}: recorded {value!r}" for name, value in measured.items()]
    expected = get_reference(keys, path)
    if expected is None:
        raise NoReference(key, f"no reference at {key} in {path.name}; run with --update-references to record one")
    verdicts = verdict_lines(measured, expected, tolerances, gate)
    breaches = compare_metrics(measured, expected, tolerances, gate)
    if breaches:
        raise ReferenceBreach(key, breaches, verdicts)
    return verdicts
