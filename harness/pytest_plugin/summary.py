"""pytest plugin: one summary line per scenario at the end of a run, and the slowest combinations.

Loaded with the suite's plugin (harness.pytest_plugin). It only reads what pytest already has on the controller,
so it works the same under pytest-xdist: test reports (outcome, markers, duration, the ReferenceBreach flag the
plugin puts in ``user_properties``) and the merged results rows in ``config.stash``.
"""
from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

import pytest

from harness.pytest_plugin.state import (AREA_MARKERS, BREACH_ATTRIBUTE, NO_REFERENCE_ATTRIBUTE, ROWS_KEY,
                                         RUN_FAILURES_KEY, is_xdist_worker, scenario_markers)

SLOWEST = 5


def scenario_of(report: pytest.TestReport) -> str:
    """The scenario marker of a test, else its tests/<area>/ folder."""
    keywords = getattr(report, "keywords", {}) or {}
    # the most specific marker first: a cell of ssd_cloud also carries ssd, and counts under ssd_cloud
    for marker in sorted([*scenario_markers(), *AREA_MARKERS], key=lambda m: (-len(m), m)):
        if marker in keywords:
            return marker
    parts = report.nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" else parts[0]


def _outcome(report: pytest.TestReport) -> str | None:
    if report.when == "call":
        return "xfailed" if hasattr(report, "wasxfail") and report.skipped else report.outcome
    if report.failed:
        return "error"
    if report.skipped:
        return "skipped"
    return None


def _flagged(report: pytest.TestReport, attribute: str) -> bool:
    return any(name == attribute and value for name, value in getattr(report, "user_properties", []))


def summarise(reports: list[pytest.TestReport]) -> dict[str, Counter]:
    counts: dict[str, Counter] = defaultdict(Counter)
    for report in reports:
        outcome = _outcome(report)
        if outcome is None:
            continue
        counts[scenario_of(report)][outcome] += 1
        if report.failed and _flagged(report, BREACH_ATTRIBUTE):
            counts[scenario_of(report)]["outside_tolerance"] += 1
        if report.failed and _flagged(report, NO_REFERENCE_ATTRIBUTE):
            counts[scenario_of(report)]["no_reference"] += 1
    return counts


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if is_xdist_worker(config):
        return
    reports = [r for key in ("passed", "failed", "skipped", "error", "xfailed", "xpassed")
               for r in terminalreporter.stats.get(key, []) if isinstance(r, pytest.TestReport)]
    if not reports:
        return
    rows = config.stash.get(ROWS_KEY, [])
    failing_rows = Counter(str(r.get("scenario_name", "")) for r in rows if r.get("status") == "fail")
    terminalreporter.write_sep("=", "scenario summary")
    for scenario, counts in sorted(summarise(reports).items()):
        line = (f"{scenario}: {counts['passed']} passed, {counts['failed']} failed, {counts['error']} errors, "
                f"{counts['skipped']} skipped; {counts['outside_tolerance']} cells out of tolerance")
        if counts["no_reference"]:
            line += f"; {counts['no_reference']} cells without a reference"
        if failing_rows.get(scenario):
            line += f"; {failing_rows[scenario]} results rows with status fail"
        terminalreporter.write_line(line)
    run_failures = config.stash.get(RUN_FAILURES_KEY, [])
    if run_failures:
        terminalreporter.write_sep("=", f"{len(run_failures)} run check(s) failed", red=True)
        for line in run_failures:
            terminalreporter.write_line(line)
    calls = sorted((r for r in reports if r.when == "call"), key=lambda r: (-r.duration, r.nodeid))[:SLOWEST]
    if calls:
        terminalreporter.write_sep("-", f"slowest {len(calls)} combinations")
        for report in calls:
            terminalreporter.write_line(f"{report.duration:8.2f}s {report.nodeid}")
