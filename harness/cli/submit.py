"""``submit`` and ``check-submission``: one checked file per cross-check run (harness.submission).

Exit status: 0 written / accepted; 1 bad input (one-line ``error:``); 3 ``check-submission`` refused the
submission (one line per problem on stdout, then a verdict line). ``submit`` refuses to write a submission
that the checker would refuse: it prints the problems on stderr and exits 1.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REFUSED = 3


def _submit(args: argparse.Namespace) -> int:
    from harness.submission.pack import SubmissionRefused, submit

    if args.out.suffix != ".zip":
        raise ValueError(f"--out {args.out}: a submission is a .zip file; name it FILE.zip")
    try:
        notes = submit(args.results_dir, args.organisation, args.out, data_dir=args.data_dir)
    except SubmissionRefused as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        raise
    for line in notes:
        print(f"note: {line}")
    print(args.out)
    return 0


def _check(args: argparse.Namespace) -> int:
    from harness.submission.archive import Submission
    from harness.submission.check import check

    problems, notes = check(Submission.open(args.submission))
    if args.json:
        print(json.dumps({"ok": not problems, "problems": [vars(p) for p in problems], "notes": notes},
                         indent=1, sort_keys=True))
    else:
        print("\n".join([str(p) for p in problems] + [f"note: {n}" for n in notes]))
        print(f"submission refused: {len(problems)} problem(s)" if problems else "submission accepted")
    return REFUSED if problems else 0


def register(subparsers: argparse._SubParsersAction) -> None:
    submit = subparsers.add_parser("submit", help="pack a results folder into a checked submission .zip "
                                   "(results, report, environment, asset md5s, suite version, matrices, SHA256SUMS)")
    submit.add_argument("results_dir", type=Path, metavar="RESULTS_DIR")
    submit.add_argument("--organisation", required=True, metavar="NAME", help="the submitting company")
    submit.add_argument("--out", type=Path, required=True, metavar="FILE.zip")
    submit.add_argument("--data-dir", type=Path, help="the --data-dir of the run, so real assets get their md5")
    submit.set_defaults(func=_submit)

    check = subparsers.add_parser("check-submission", help="check a submission .zip; one line per problem, "
                                  "exit 3 when refused")
    check.add_argument("submission", type=Path, metavar="FILE.zip")
    check.add_argument("--json", action="store_true", help="print problems and notes as JSON")
    check.set_defaults(func=_check)
