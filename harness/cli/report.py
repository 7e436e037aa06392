"""``report``, ``compare`` and ``bd-rate``: the cross-check commands.

Exit status: 0 success / runs agree; 1 bad input (one-line ``error:``); 3 ``compare`` found breaches,
cells present in one run only, or problems in a submission it was given (harness.submission.check).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
from pathlib import Path

from harness.cli import UserError

RUNS_DIFFER = 3


def _report(args: argparse.Namespace) -> int:
    from harness.report.html import write_report

    path = write_report(args.results_dir, anchor_family=args.anchor, anchor_split=args.anchor_split,
                        slowest=args.slowest, cloud_anchor=args.cloud_anchor)
    print(path)
    return 0


def _compare(args: argparse.Namespace) -> int:
    from harness.submission.compare import compare_runs

    result = compare_runs(args.run_a, args.run_b, cross_platform=True if args.cross_platform else None)
    if args.json:
        print(json.dumps(result.as_dict(), indent=1, sort_keys=True, default=str))
    else:
        print("\n".join(result.lines()))
    return 0 if result.ok else RUNS_DIFFER


def read_curve_csv(path: Path) -> tuple[list[float], list[float]]:
    """``rate,metric`` columns of a CSV file (header required), as floats."""
    if not path.is_file():
        raise UserError(f"{path} not found: give a CSV file with columns rate,metric")
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields = [f.strip() for f in reader.fieldnames or []]
        if "rate" not in fields or "metric" not in fields:
            raise UserError(f"{path}: header must name columns 'rate' and 'metric' (found {fields or 'none'})")
        rates, metrics = [], []
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): v for k, v in row.items() if k}
            try:
                rate, metric = float(row["rate"]), float(row["metric"])
            except (TypeError, ValueError):
                raise UserError(f"{path}:{line}: rate and metric must be numbers, got "
                                f"{row.get('rate')!r}, {row.get('metric')!r}") from None
            rates.append(rate)
            metrics.append(metric)
    return rates, metrics


def _bd_rate(args: argparse.Namespace) -> int:
    from harness.report.bd import Curve, bd_delta

    anchor = Curve.from_points(str(args.anchor), *read_curve_csv(args.anchor))
    test = Curve.from_points(str(args.test), *read_curve_csv(args.test))
    result = bd_delta(anchor, test, args.method).as_dict()
    if result["bd_rate_percent"] is not None and not math.isfinite(result["bd_rate_percent"]):
        result["bd_rate_percent"] = str(result["bd_rate_percent"])
    print(json.dumps(result, indent=1, sort_keys=True))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    report = subparsers.add_parser("report", help="rebuild RESULTS_DIR/report.html from results.csv/json (pivot "
                                   "tables per scenario, structure results, BD tables, seed figures)")
    report.add_argument("results_dir", type=Path, metavar="RESULTS_DIR")
    report.add_argument("--anchor", metavar="CODER", help="anchor codec family of the BD tables, e.g. nncodec or "
                        "qlayer:lossless=zlib (default: nncodec, else the first family forming a curve)")
    report.add_argument("--anchor-split", metavar="N", help="anchor split of the split-vs-split BD table "
                        "(default: the lowest split)")
    report.add_argument("--slowest", type=int, default=10, metavar="K", help="how many slowest combinations to list")
    report.add_argument("--cloud-anchor", metavar="CODER", help="cloud-only (ssd_cloud) family of the BD-KBPI-mAP "
                        "tables, e.g. jpeg:chroma=444 (default: hevc-image:chroma=444)")
    report.set_defaults(func=_report)

    compare = subparsers.add_parser("compare", help="cross-check two results folders or submissions (.zip) within "
                                    "tolerances.yaml; exit 3 on a breach, a cell present in one run only or a "
                                    "submission check-submission refuses")
    compare.add_argument("run_a", type=Path, metavar="A", help="results folder or submission .zip")
    compare.add_argument("run_b", type=Path, metavar="B", help="results folder or submission .zip")
    compare.add_argument("--json", action="store_true", help="print the comparison as JSON")
    compare.add_argument("--cross-platform", action="store_true",
                         help="judge with the cross-platform bands of tolerances.yaml and match cells without their "
                              "device (automatic when the runs recorded different platforms)")
    compare.set_defaults(func=_compare)

    bd = subparsers.add_parser("bd-rate", help="Bjontegaard delta of two rate,metric CSV curves, as JSON")
    bd.add_argument("--anchor", type=Path, required=True, metavar="A.csv")
    bd.add_argument("--test", type=Path, required=True, metavar="T.csv")
    bd.add_argument("--method", choices=["cubic", "pchip"], default="cubic",
                    help="cubic: VCEG-M33 polynomial fit (seed 002; default); pchip: JVET CTC interpolation")
    bd.set_defaults(func=_bd_rate)
