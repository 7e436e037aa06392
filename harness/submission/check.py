"""``check-submission``: refuse a submission before anyone compares its numbers (after MLPerf's checker).

Each problem is one line ``<kind>: <what>``; the kinds are

* ``checksum``     a file does not match SHA256SUMS, is listed but absent, or is present but not listed;
* ``missing-file`` a required member is absent (harness.submission.archive.REQUIRED);
* ``inconsistent`` results.csv, results.json, the report and environment.json disagree with each other;
* ``matrix``       a packed matrix differs from the suite's, is missing, or a cell is not in the suite's matrix;
* ``incomplete``   cells of a group the submission ran are missing (rule in harness.submission.suite);
* ``environment``  environment.json is missing or lacks CPU, GPU, driver, providers, packages or suite version;
* ``assets``       assets.json is missing, empty, lacks an md5 of a present asset, or records a mismatch;
* ``info``         submission.json lacks the organisation or the suite version.

Sums only show that the files were not changed after packing; someone who rewrites the files can rewrite
SHA256SUMS too, so every other check reads the files themselves and holds on its own.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

import yaml

from harness.results import (RUN_CHECK_PREFIX, disagreeing_cells, parse_results_csv, parse_results_json,
                             typed_rows)
from harness.submission.archive import (
    ASSETS, ENVIRONMENT, INFO, MATRIX_DIR, REPORT, REQUIRED, RESULTS_CSV, RESULTS_JSON, SUMS, Submission, parse_sums,
    sha256)
from harness.submission.suite import Suite, cell_id_of

MD5 = re.compile(r"\b[0-9a-f]{32}\b")  # globbed assets list "name=md5" in their message
LIMIT = 5  # examples named per problem; the count says how many more


@dataclass(frozen=True)
class Problem:
    kind: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}"


def _some(items: list[str]) -> str:
    shown = ", ".join(items[:LIMIT])
    return shown + (f" and {len(items) - LIMIT} more" if len(items) > LIMIT else "")


def check_sums(sub: Submission) -> list[Problem]:
    if SUMS not in sub.files:
        return [Problem("checksum", f"no {SUMS} in the submission")]
    sums, bad = parse_sums(sub.files[SUMS].decode("utf-8", errors="replace"))
    problems = [Problem("checksum", f"malformed {SUMS} line {line!r}") for line in bad[:LIMIT]]
    for name, digest in sorted(sums.items()):
        if name not in sub.files:
            problems.append(Problem("checksum", f"{name} is listed in {SUMS} but absent"))
        elif sha256(sub.files[name]) != digest:
            problems.append(Problem("checksum", f"{name} does not match its sha256 in {SUMS}"))
    problems += [Problem("checksum", f"{name} is not listed in {SUMS}") for name in sorted(set(sub.files) - set(sums) - {SUMS})]
    return problems


def check_consistency(sub: Submission, environment: dict[str, Any], raw_json: list[dict[str, Any]]) -> list[Problem]:
    from harness.report.readback import disagreements

    problems = []
    differing = disagreeing_cells(raw_json, parse_results_csv(sub.text(RESULTS_CSV)))
    if differing:
        problems.append(Problem("inconsistent", f"results.csv and results.json disagree on {len(differing)} "
                                f"cell(s): {_some(differing)}"))
    rows = typed_rows(raw_json, sub.label)
    problems += [Problem("inconsistent", f"report.html and results.json: {line}")
                 for line in disagreements(sub.text(REPORT), rows)]
    ids = Counter(str(r.get("test_id", "")) for r in rows if r.get("test_id"))
    twice = sorted(i for i, n in ids.items() if n > 1)
    if twice:
        problems.append(Problem("inconsistent", f"{len(twice)} test id(s) recorded more than once: {_some(twice)}"))
    if ENVIRONMENT in sub.files:
        packed = sub.json(ENVIRONMENT)
        changed = sorted(k for k, v in environment.items() if packed.get(k) != v)
        if changed:
            problems.append(Problem("inconsistent", f"environment.json differs from the environment results.json "
                                    f"recorded in {_some(changed)}"))
    return problems


def check_matrix_and_cells(sub: Submission, rows: list[dict[str, Any]], suite: Suite) -> tuple[list[Problem], list[str]]:
    problems, notes = [], []
    packed = {name[len(MATRIX_DIR) + 1:-5]: name for name in sub.files
              if name.startswith(MATRIX_DIR + "/") and name.endswith(".yaml")}
    scenarios = sorted({str(r["scenario_name"]) for r in rows})
    for name in sorted(set(packed) | {s for s in scenarios if suite.knows(s)}):
        if not suite.knows(name):
            problems.append(Problem("matrix", f"{packed[name]} names no scenario of this suite"))
        elif name not in packed:
            problems.append(Problem("matrix", f"no {MATRIX_DIR}/{name}.yaml for scenario {name} of the results"))
        elif yaml.safe_load(sub.files[packed[name]]) != yaml.safe_load(suite.matrix_path(name).read_bytes()):
            problems.append(Problem("matrix", f"{packed[name]} differs from the suite's {suite.matrix_path(name)}"))
    for name in scenarios:
        if not suite.knows(name):
            notes.append(f"scenario {name} is not one of this suite's scenarios: its rows are not checked for "
                         "completeness")
            continue
        mine = [r for r in rows if r["scenario_name"] == name
                and not str(r.get("test_id", "")).startswith(RUN_CHECK_PREFIX)]  # the run's own checks: no cells
        # every cell row names its cell (cell_id); rows written before the column existed: from the test id
        run_ids = {i for i in (r.get("cell_id") or cell_id_of(str(r.get("test_id", ""))) for r in mine) if i}
        devices = tuple(sorted({str(r.get("device")) for r in mine if r.get("device")})) or ("cpu",)
        try:
            missing, unknown, not_run = suite.missing_cells(name, run_ids, devices)
        except Exception as exc:  # the suite cannot enumerate its own cells: completeness is unknown, refuse
            problems.append(Problem("incomplete", f"cannot enumerate the cells of scenario {name}: {exc}"))
            continue
        if unknown:
            problems.append(Problem("matrix", f"{len(unknown)} cell(s) of {name} are not in the suite's matrix: "
                                    f"{_some(unknown)}"))
        for group, ids in sorted(missing.items()):
            where = "/".join(str(v) for _, v in group)
            problems.append(Problem("incomplete", f"{name} {where}: {len(ids)} cell(s) missing: {_some(ids)}"))
        notes += [f"{name} {'/'.join(str(v) for _, v in g)}: not run ({n} cells)" for g, n in sorted(not_run.items())]
    return problems, notes


def check_facts(sub: Submission) -> list[Problem]:
    from harness.environment import missing_facts

    problems = []
    if ENVIRONMENT in sub.files:
        lacking = missing_facts(sub.json(ENVIRONMENT))
        if lacking:
            problems.append(Problem("environment", f"environment.json lacks {', '.join(lacking)}"))
    if ASSETS in sub.files:
        assets = sub.json(ASSETS)
        if not isinstance(assets, list) or not assets:
            problems.append(Problem("assets", "assets.json lists no asset md5s"))
        else:
            for entry in assets:
                name, status = entry.get("name"), entry.get("status")
                if status == "mismatch":
                    problems.append(Problem("assets", f"asset {name}: md5 {entry.get('actual_md5')} does not match "
                                            f"the expected {entry.get('expected_md5')}"))
                elif status in ("ok", "unchecked") and not entry.get("actual_md5") and not MD5.search(str(entry.get("message"))):
                    problems.append(Problem("assets", f"asset {name} is present but records no md5"))
    if INFO in sub.files:
        info = sub.json(INFO)
        if not str(info.get("organisation", "")).strip():
            problems.append(Problem("info", "submission.json names no organisation"))
        if not info.get("suite"):
            problems.append(Problem("info", "submission.json records no suite version"))
    return problems


def check(sub: Submission, suite: Suite | None = None) -> tuple[list[Problem], list[str]]:
    """(problems, notes) of a submission; no problems means it is accepted."""
    suite = suite or Suite()
    problems = check_sums(sub)
    problems += [Problem("missing-file", f"{name} is absent") for name in REQUIRED if name not in sub.files]
    notes: list[str] = []
    try:
        environment, raw = parse_results_json(sub.text(RESULTS_JSON), RESULTS_JSON) if RESULTS_JSON in sub.files \
            else ({}, [])
        if all(name in sub.files for name in (RESULTS_CSV, RESULTS_JSON, REPORT)):
            problems += check_consistency(sub, environment, raw)
        rows = sub.results()[1] if RESULTS_JSON in sub.files or RESULTS_CSV in sub.files else []
        found, notes = check_matrix_and_cells(sub, rows, suite)
        problems += found + check_facts(sub)
    except (ValueError, UnicodeDecodeError, AttributeError, TypeError) as exc:  # unreadable member
        problems.append(Problem("inconsistent", f"a member cannot be read: {exc}"))
    return problems, notes
