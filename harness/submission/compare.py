"""The cross-check: diff two runs cell by cell within tolerances.yaml.

Cells are matched by scenario/model/data set/device/split/coder/metric. Every other column is compared
except references (``ref_*``), the test id and the columns that measure the machine
(:func:`harness.results.is_machine_column`: times, latencies, peak memory, crossover bandwidths), which are
listed side by side as information, never as a breach. Each column is judged
with the tolerance of the metric it holds: ``rec_perf``/``anc_perf`` with the row's ``metric_name``, the
columns of ``TOLERANCE_NAMES`` with the name given there, any other column (``mse``, ...) with its own
name (``default`` when tolerances.yaml does not list it). So the same tolerances gate a run against its
references and two runs against each other.

A side may be a submission (.zip) instead of a folder: its rows are read from the archive, and every problem
``check-submission`` finds in it is listed as ``REFUSED`` and makes the runs differ: numbers of a submission
the checker refuses are not trusted. That is why the comparison lives beside the checker: it builds on it
(and on the report's reading of results folders), never the other way round.
"""
from __future__ import annotations

import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.references import load_tolerances, tolerance_for
from harness.report.load import as_float, cell_key, cell_name, load_results
from harness.results import KEY_COLUMNS, is_machine_column
from harness.submission.archive import Submission
from harness.submission.check import check

# column -> tolerance name in tolerances.yaml (None: the row's metric_name); other columns: their own name
TOLERANCE_NAMES: dict[str, str | None] = {
    "anc_perf": None,
    "rec_perf": None,
    "anc_size": "uncompressed_bytes",
    "feature_nmse": "nmse",
    "output_nmse": "nmse",
}


def tolerance_name(column: str) -> str | None:
    """The tolerance a column is judged with: the table above, the metric a detection style declares for its
    results column (map_voc -> voc, map_coco_AP -> AP, ...), else the column's own name."""
    if column in TOLERANCE_NAMES:
        return TOLERANCE_NAMES[column]
    from harness.metrics import headlines

    return next((h.name for _, h in headlines() if h.column == column), column)
NOT_COMPARED = set(KEY_COLUMNS) | {"test_id", "unique_tag"}


def compared_columns(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    columns = set(a) | set(b)
    return sorted(c for c in columns if c not in NOT_COMPARED and not is_machine_column(c) and not c.startswith("ref_"))


def machine_columns_side_by_side(cells_a: dict[str, dict[str, Any]], cells_b: dict[str, dict[str, Any]]) -> list[str]:
    """One information line per machine-dependent column: its median in A and in B over the cells both hold."""
    import statistics

    lines = []
    shared = sorted(set(cells_a) & set(cells_b))
    columns = sorted({c for name in shared for c in (*cells_a[name], *cells_b[name]) if is_machine_column(c)})
    for column in columns:
        pairs = [(as_float(cells_a[n].get(column)), as_float(cells_b[n].get(column))) for n in shared]
        pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
        if pairs:
            lines.append(f"{column}: median A {statistics.median(a for a, _ in pairs):.6g}, "
                         f"B {statistics.median(b for _, b in pairs):.6g} over {len(pairs)} cells "
                         "(machine-dependent, not gated)")
    return lines


@dataclass
class Comparison:
    compared_cells: int = 0
    breaches: list[dict[str, Any]] = field(default_factory=list)
    only_in_a: list[str] = field(default_factory=list)
    only_in_b: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    information: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.breaches or self.only_in_a or self.only_in_b or self.refused)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "compared_cells": self.compared_cells, "breaches": self.breaches,
                "only_in_a": self.only_in_a, "only_in_b": self.only_in_b, "notes": self.notes,
                "refused": self.refused, "information": self.information}

    def lines(self) -> list[str]:
        out = [f"REFUSED {line}" for line in self.refused]
        out += [f"BREACH {b['cell']}: {b['column']} A={b['a']!r} B={b['b']!r} ({b['reason']})" for b in self.breaches]
        out += [f"ONLY IN A {name}" for name in self.only_in_a]
        out += [f"ONLY IN B {name}" for name in self.only_in_b]
        out += [f"note: {n}" for n in self.notes]
        out += [f"info: {line}" for line in self.information]
        verdict = "runs agree" if self.ok else "runs differ"
        out.append(f"{verdict}: {self.compared_cells} cells compared, {len(self.breaches)} breaches, "
                   f"{len(self.only_in_a)} only in A, {len(self.only_in_b)} only in B"
                   + (f", {len(self.refused)} submission problems" if self.refused else ""))
        return out


def _index(rows: list[dict[str, Any]], label: str, notes: list[str]) -> dict[str, dict[str, Any]]:
    """Rows by cell name; a cell recorded more than once is told apart by its test id (and noted)."""
    names = Counter(cell_name(cell_key(row)) for row in rows)
    by_name: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = cell_name(cell_key(row))
        if names[name] > 1:
            name = f"{name} [{row.get('test_id', '')}]"
        if name in by_name:
            raise ValueError(f"run {label}: cell {name} is recorded twice with the same test_id; "
                             "the results folder is inconsistent")
        by_name[name] = row
    notes += [f"run {label} records {name} {count} times; matched by test_id"
              for name, count in sorted(names.items()) if count > 1]
    return by_name


def _compare_cell(name: str, a: dict[str, Any], b: dict[str, Any], tolerances: dict[str, Any]) -> list[dict[str, Any]]:
    breaches = []
    for column in compared_columns(a, b):
        tol_name = tolerance_name(column)
        in_a, in_b = a.get(column) not in (None, ""), b.get(column) not in (None, "")
        if not in_a and not in_b:
            continue
        if in_a != in_b:
            breaches.append({"cell": name, "column": column, "a": a.get(column), "b": b.get(column),
                             "reason": "value present in one run only"})
            continue
        va, vb = as_float(a[column]), as_float(b[column])
        if va is None or vb is None:
            if a[column] != b[column]:
                breaches.append({"cell": name, "column": column, "a": a[column], "b": b[column],
                                 "reason": "non-numeric values differ"})
            continue
        tolerance = tolerance_for(tol_name or str(a.get("metric_name", "")), tolerances)
        if not tolerance.accepts(vb, va):  # A is the reference side: rel tolerance scales with |A|
            breaches.append({"cell": name, "column": column, "a": va, "b": vb,
                             "reason": f"|B-A|={abs(vb - va):.6g} beyond tolerance {tolerance.describe()}"})
    return breaches


def submission_problems(path: Path, label: str, suite: Any = None) -> list[str]:
    """check-submission's problems of a submission side (nothing for a folder)."""
    path = Path(path)
    if not (path.is_file() and zipfile.is_zipfile(path)):
        return []
    return [f"{label} ({path.name}) {problem}" for problem in check(Submission.open(path), suite)[0]]


def compare_runs(dir_a: Path, dir_b: Path, tolerances: dict[str, Any] | None = None, suite: Any = None) -> Comparison:
    """A and B are results folders or submissions; ``suite`` (:class:`harness.submission.suite.Suite`) checks the
    latter."""
    tolerances = load_tolerances() if tolerances is None else tolerances
    result = Comparison()
    result.refused = submission_problems(dir_a, "A", suite) + submission_problems(dir_b, "B", suite)
    cells_a = _index(load_results(dir_a)[1], "A", result.notes)
    cells_b = _index(load_results(dir_b)[1], "B", result.notes)
    result.only_in_a = sorted(set(cells_a) - set(cells_b))
    result.only_in_b = sorted(set(cells_b) - set(cells_a))
    for name in sorted(set(cells_a) & set(cells_b)):
        result.compared_cells += 1
        result.breaches += _compare_cell(name, cells_a[name], cells_b[name], tolerances)
    result.information = machine_columns_side_by_side(cells_a, cells_b)
    return result
