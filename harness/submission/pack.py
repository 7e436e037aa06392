"""``submit``: pack a results folder into one checked submission file.

What goes in (layout in harness.submission): results.csv and results.json as the run wrote them, the report
rebuilt from them (so it agrees with them and shows this submission's asset md5s), the environment the run
recorded (facts it lacks, e.g. from an older suite, are described here and listed under
``completed_at_submit``), ``assets verify`` of this machine, the suite version, the matrix file of every
scenario present, and SHA256SUMS over all of it. The archive is checked with the same checker
``check-submission`` uses before anything is written: a submission the checker would refuse is not written.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.submission.archive import (
    ASSETS,
    ENVIRONMENT,
    INFO,
    MATRIX_DIR,
    REPORT,
    RESULTS_CSV,
    RESULTS_JSON,
    SUMS,
    Submission,
    sums_text,
)
from harness.submission.suite import Suite

FORMAT = 1


class SubmissionRefused(ValueError):
    """The packed submission fails the checks; ``problems`` holds one line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"the submission would be refused ({len(problems)} problem(s)); first: {problems[0]}")
        self.problems = problems


def _dump(value: Any) -> bytes:
    return (json.dumps(value, indent=1, sort_keys=True, default=str) + "\n").encode("utf-8")


def completed_environment(recorded: dict[str, Any]) -> dict[str, Any]:
    """The run's environment; required facts it lacks are described on this machine and listed."""
    from harness.environment import describe_environment, missing_facts

    missing = missing_facts(recorded)
    if not missing:
        return dict(recorded)
    here = describe_environment(with_assets=False)
    return {**recorded, **{key: here[key] for key in missing}, "completed_at_submit": missing}


def pack(results_dir: Path, organisation: str, data_dir: Path | None = None, suite: Suite | None = None) -> Submission:
    """The submission of a results folder, in memory (unchecked)."""
    from harness.assetstore.manifest import load_manifest
    from harness.assetstore.verify import verify_assets
    from harness.environment import suite_version
    from harness.report.html import build_report
    from harness.report.load import load_results

    suite = suite or Suite()
    results_dir = Path(results_dir)
    if not organisation.strip() or not organisation.isprintable():
        raise ValueError(f"--organisation {organisation!r}: give the submitting company's name")
    missing = [n for n in ("results.csv", "results.json") if not (results_dir / n).is_file()]
    if missing:
        raise FileNotFoundError(f"{results_dir} lacks {', '.join(missing)}: submit the --results-dir of a run")
    environment, rows = load_results(results_dir)
    assets = [s.as_dict() for s in verify_assets(load_manifest(), data_dir)]
    scenarios = sorted({str(r["scenario_name"]) for r in rows})
    files: dict[str, bytes] = {
        RESULTS_CSV: (results_dir / "results.csv").read_bytes(),
        RESULTS_JSON: (results_dir / "results.json").read_bytes(),
        REPORT: build_report(results_dir, assets=assets).encode("utf-8"),
        ENVIRONMENT: _dump(completed_environment(environment)),
        ASSETS: _dump(assets),
    }
    for name in scenarios:
        path = suite.matrix_path(name)
        if path is not None and path.is_file():
            files[f"{MATRIX_DIR}/{name}.yaml"] = path.read_bytes()
    files[INFO] = _dump({"format": FORMAT, "organisation": organisation.strip(), "suite": suite_version(),
                         "scenarios": scenarios, "rows": len(rows), "made_by": "python -m harness submit"})
    files[SUMS] = sums_text(files).encode("utf-8")
    return Submission(str(results_dir), files)


def submit(results_dir: Path, organisation: str, out: Path, data_dir: Path | None = None,
           suite: Suite | None = None) -> list[str]:
    """Pack, check, write ``out`` atomically; returns the checker's notes. Raises SubmissionRefused."""
    from harness.submission.check import check

    submission = pack(results_dir, organisation, data_dir, suite)
    problems, notes = check(submission, suite)
    if problems:
        raise SubmissionRefused([str(p) for p in problems])
    submission.write(out)
    return notes
