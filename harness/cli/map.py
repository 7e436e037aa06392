"""``python -m harness map``: score COCO detections against COCO ground truth in one metric style, as JSON."""
from __future__ import annotations

import argparse
import inspect
import json
import math
from pathlib import Path

from harness.cli import UserError
from harness.metrics import METRIC_STYLES
from harness.metrics.coco_data import load_detections, load_ground_truth


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "map", help="detection accuracy of COCO results against COCO ground truth (JSON on stdout)",
        description="Score a COCO results list against COCO ground truth. coco: pycocotools' twelve stats "
                    "(fractions, -1 = no data); voc and calc_map: mAP in percent and per_class keyed by "
                    "category id with its name. See docs/metrics.md.")
    parser.add_argument("--gt", required=True, type=Path,
                        help="COCO ground-truth JSON (images, annotations, categories)")
    parser.add_argument("--dt", required=True, type=Path,
                        help="COCO results JSON: [{image_id, category_id, bbox, score}]")
    parser.add_argument("--style", required=True, choices=METRIC_STYLES.names(), help="metric style")
    parser.add_argument("--threshold", type=float, default=None,
                        help="calc_map only: keep predictions with score > T (default 0.5, as calc_map.py)")
    parser.add_argument("--include-crowd", action="store_true",
                        help="calc_map only: score iscrowd boxes as ordinary ground truth (default: drop them)")
    parser.set_defaults(func=run_map)


def run_map(args: argparse.Namespace) -> int:
    report = METRIC_STYLES.get(args.style)
    options: dict[str, object] = {}
    if args.threshold is not None:
        if not math.isfinite(args.threshold):
            raise UserError(f"--threshold must be a finite number, got {args.threshold}")
        options["score_threshold"] = args.threshold
    if args.include_crowd:
        options["include_crowd"] = True
    accepted = inspect.signature(report).parameters
    for option in options:
        if option not in accepted:
            flag = "--threshold" if option == "score_threshold" else "--" + option.replace("_", "-")
            raise UserError(f"{flag} does not apply to --style {args.style} (only to calc_map)")
    ground_truth = load_ground_truth(args.gt)
    detections = load_detections(args.dt, ground_truth)
    print(json.dumps(report(ground_truth, detections, **options), indent=1))
    return 0
