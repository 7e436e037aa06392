"""The cross-check: diff two runs cell by cell within tolerances.yaml.

Cells are matched by scenario/model/data set/device/split/coder/metric. Every other column is compared
except references (``ref_*``), the test id and the columns that measure the machine
(:func:`harness.results.is_machine_column`: times, latencies, peak memory, crossover bandwidths), which are
listed side by side as information, never as a breach. Each column is judged
with the tolerance of the metric it holds: ``rec_perf``/``anc_perf`` with the row's ``metric_name``, the
columns of ``TOLERANCE_NAMES`` with the name given there, any other column (``mse``, ...) with its own
name (``default`` when tolerances.yaml does not list it). So the same tolerances gate a run against its
references and two runs against each other.

Across platforms (``cross_platform``: asked with ``--cross-platform``, or automatic when the two runs record
different platforms in results.json, e.g. a CUDA run against a CPU run), cells are matched by their identity
without the device and judged with the cross-platform bands of tolerances.yaml (a size takes its band only
where the row says ``sizes_follow_inference``), as the suite gates a CUDA cell against CPU references. The
columns that tell where a difference comes from (``part1_sha256``, ``part2_input_sha256``) and the run's own
labels (``platform``, ``gate``) are information, never a breach.

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

from harness.references import Gate, load_tolerances, tolerance_for
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
NOT_COMPARED = set(KEY_COLUMNS) | {"test_id", "unique_tag", "cell_id", "platform", "reference_platform", "gate",
                                   "sizes_follow_inference"}
# evidence of where two runs part (part 1, the coder, part 2): listed, never gated, since across platforms
# part 1's tensors differ in their last bits by design
EVIDENCE_COLUMNS = ("part1_sha256", "part2_input_sha256")


def compared_columns(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    columns = set(a) | set(b)
    return sorted(c for c in columns if c not in NOT_COMPARED and c not in EVIDENCE_COLUMNS
                  and not is_machine_column(c) and not c.startswith("ref_"))


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


def where_runs_part(cells_a: dict[str, dict[str, Any]], cells_b: dict[str, dict[str, Any]]) -> list[str]:
    """For the cells both runs hold, how many agree on part 1's output and on the tensors entering part 2: a
    cell whose part 1 agrees but whose part-2 input does not points at the coder; one whose part 1 differs
    already points at part 1 (the model, the provider, the pre-processing)."""
    shared = [n for n in sorted(set(cells_a) & set(cells_b))
              if all(cells_a[n].get(c) and cells_b[n].get(c) for c in EVIDENCE_COLUMNS)]
    if not shared:
        return []
    part1 = [n for n in shared if cells_a[n]["part1_sha256"] != cells_b[n]["part1_sha256"]]
    coder = [n for n in shared if n not in part1
             and cells_a[n]["part2_input_sha256"] != cells_b[n]["part2_input_sha256"]]
    lines = [f"part 1 output identical in {len(shared) - len(part1)} of {len(shared)} split cells, part-2 input "
             f"identical in {len(shared) - len(part1) - len(coder)}"]
    if part1:
        lines.append(f"part 1 differs in {len(part1)} cell(s), e.g. {part1[0]}: look at part 1 (model, provider, "
                     "input pre-processing) first")
    if coder:
        lines.append(f"part 1 agrees but the decoded tensors differ in {len(coder)} cell(s), e.g. {coder[0]}: "
                     "the coder (encoder or decoder) parts")
    return lines


def recorded_platforms(environment: dict[str, Any]) -> list[str] | None:
    """The platforms a run recorded in results.json (None for a run written before they were recorded)."""
    run = environment.get("run") if isinstance(environment, dict) else None
    return list(run["platforms"]) if isinstance(run, dict) and run.get("platforms") else None


@dataclass
class Comparison:
    compared_cells: int = 0
    cross_platform: bool = False
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
        return {"ok": self.ok, "cross_platform": self.cross_platform, "compared_cells": self.compared_cells,
                "breaches": self.breaches,
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
        bands = "cross-platform bands" if self.cross_platform else "same-platform tolerances"
        out.append(f"{verdict} ({bands}): {self.compared_cells} cells compared, {len(self.breaches)} breaches, "
                   f"{len(self.only_in_a)} only in A, {len(self.only_in_b)} only in B"
                   + (f", {len(self.refused)} submission problems" if self.refused else ""))
        return out


def _name(row: dict[str, Any], cross_platform: bool) -> str:
    """The cell's name; across platforms without its device (a CUDA cell matches the CPU cell)."""
    return cell_name(cell_key({**row, "device": "*"} if cross_platform else row))


def _index(rows: list[dict[str, Any]], label: str, notes: list[str],
           cross_platform: bool = False) -> dict[str, dict[str, Any]]:
    """Rows by cell name; a cell recorded more than once is told apart by its test id (and noted)."""
    names = Counter(_name(row, cross_platform) for row in rows)
    by_name: dict[str, dict[str, Any]] = {}
    for row in rows:
        name = _name(row, cross_platform)
        if names[name] > 1:
            name = f"{name} [{row.get('test_id', '')}]"
        if name in by_name:
            raise ValueError(f"run {label}: cell {name} is recorded twice with the same test_id; "
                             "the results folder is inconsistent")
        by_name[name] = row
    notes += [f"run {label} records {name} {count} times; matched by test_id"
              for name, count in sorted(names.items()) if count > 1]
    return by_name


def _compare_cell(name: str, a: dict[str, Any], b: dict[str, Any], tolerances: dict[str, Any],
                  cross_platform: bool = False) -> list[dict[str, Any]]:
    gate = Gate(cross_platform, bool(a.get("sizes_follow_inference") or b.get("sizes_follow_inference")))
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
        tolerance = tolerance_for(tol_name or str(a.get("metric_name", "")), tolerances, gate)
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


def compare_runs(dir_a: Path, dir_b: Path, tolerances: dict[str, Any] | None = None, suite: Any = None,
                 cross_platform: bool | None = None) -> Comparison:
    """A and B are results folders or submissions; ``suite`` (:class:`harness.submission.suite.Suite`) checks the
    latter. ``cross_platform``: True/False forces the bands; None decides from the platforms the runs
    recorded (different platforms: cross-platform)."""
    tolerances = load_tolerances() if tolerances is None else tolerances
    result = Comparison()
    result.refused = submission_problems(dir_a, "A", suite) + submission_problems(dir_b, "B", suite)
    (env_a, rows_a), (env_b, rows_b) = load_results(dir_a), load_results(dir_b)
    platforms = recorded_platforms(env_a), recorded_platforms(env_b)
    if cross_platform is None:
        cross_platform = None not in platforms and platforms[0] != platforms[1]
        if cross_platform:
            result.notes.append(f"A ran on {', '.join(platforms[0])}, B on {', '.join(platforms[1])}: judged with "
                                "the cross-platform bands, cells matched without their device")
    result.cross_platform = cross_platform
    cells_a = _index(rows_a, "A", result.notes, cross_platform)
    cells_b = _index(rows_b, "B", result.notes, cross_platform)
    result.only_in_a = sorted(set(cells_a) - set(cells_b))
    result.only_in_b = sorted(set(cells_b) - set(cells_a))
    for name in sorted(set(cells_a) & set(cells_b)):
        result.compared_cells += 1
        result.breaches += _compare_cell(name, cells_a[name], cells_b[name], tolerances, cross_platform)
    result.information = where_runs_part(cells_a, cells_b) + machine_columns_side_by_side(cells_a, cells_b)
    return result
