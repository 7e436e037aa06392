"""``sweep-splits``: every layer configuration of an ONNX model, its sizes, latencies and the best split per
uplink bandwidth (harness.split.layers, harness.split.sweep, harness.split.delivery)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from harness.cli import UserError
from harness.cli.split import add_input_options


def _bandwidths(text: str) -> list[float]:
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of Mbit/s values") from None
    if not values or min(values) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: every bandwidth must be > 0 Mbit/s")
    return values


def _cut_points(text: str) -> list[str]:
    points = [part.strip() for part in text.split(",") if part.strip()]
    if not points:
        raise argparse.ArgumentTypeError(f"{text!r}: give node indices or node names, comma-separated")
    return points


def chosen_configs(splitter: Any, points: list[str]) -> list[Any]:
    """The configurations of ``--splits``: a node index, or a node name (the cut before that node)."""
    from harness.split import find_node

    configs = []
    for point in points:
        index = int(point) if point.lstrip("-").isdigit() else find_node(splitter.model, point)
        configs.append(splitter.node_config(index))
    return configs


def run_sweep(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """The sweep JSON and the context of its tables (profiles, downlink, anchors, download times)."""
    from harness.coders import make_coder
    from harness.cli.split import feeds_from
    from harness.split import SplitPlanner
    from harness.split.profiles import load_profile_file
    from harness.split.delivery import anchors, download_ms, latency_rows, sweep_summary
    from harness.split.inputs import model_inputs
    from harness.split.sweep import SplitSweep

    if args.rtt_ms < 0:
        raise UserError(f"--rtt-ms {args.rtt_ms}: a round-trip time must be >= 0")
    if args.repeat < 0:
        raise UserError(f"--repeat {args.repeat}: must be >= 0")
    coder = make_coder(args.coder).spec  # unknown coder: ValueError/RegistryError with the known ones
    setup = load_profile_file(args.profiles)
    profiles = setup["profiles"]
    for name in (args.device_profile, args.network_profile):
        if name not in profiles:
            raise UserError(f"unknown latency profile {name!r} in {setup['path']}; "
                            f"known: {', '.join(sorted(profiles))}")
    delivery = setup["delivery"]
    bandwidths = args.bandwidth or [float(b) for b in delivery.get("uplink_mbps", [10, 50, 100])]
    planner = SplitPlanner(args.model)
    inputs = feeds_from(args, planner) or model_inputs(planner)  # a symbolic input without options: an error naming them
    device_model = None
    if args.device_model is not None:
        from harness.split import load_model

        device_model = load_model(args.device_model)  # a clear error for a missing or broken file
    sweep = SplitSweep(planner.model, inputs.feeds, profiles[args.device_profile],
                       profiles[args.network_profile], args.repeat, device_model)
    chosen = chosen_configs(sweep.splitter, args.splits or [])
    results = [sweep.measure(config, [coder]) for config in sweep.splitter.configs()]
    summary = sweep_summary(sweep.layers, [r.row(coder) for r in results], [r.cost(coder) for r in results],
                            bandwidths, args.rtt_ms)
    summary["inputs"] = inputs.description
    summary["chosen"] = []
    for config in chosen:
        measured = sweep.measure(config, [coder])
        row = {**measured.row(coder), "label": config.label, "index": config.boundary,
               "node": planner.nodes[config.boundary].name}
        row["latency"] = [{key: r[key] for key in ("bandwidth_mbps", "transmission_ms", "total_ms")}
                          for r in latency_rows([measured.cost(coder)], bandwidths, args.rtt_ms)]
        summary["chosen"].append(row)
    summary["device_model"] = str(args.device_model) if args.device_model else None
    downlink = float(delivery.get("downlink_mbps", 50))
    context = {"device": sweep.device.label(), "network": sweep.network.label(), "coder": coder,
               "downlink_mbps": downlink, "anchors": anchors(sweep.layers, int(delivery.get("privacy_layers", 1))),
               "download_ms": {r.config.k: download_ms(r.part1_model_bytes, downlink) for r in results}}
    return summary, context


def print_tables(summary: dict[str, Any], context: dict[str, Any]) -> None:
    print(f"{summary['layers']} layers, {len(summary['configs'])} configurations; coder {context['coder']}")
    print(f"measured on {summary['inputs']}")
    print(f"part 1 on {context['device']}; part 2 on {context['network']}")
    if summary.get("device_model"):
        print(f"part 1 of the derived device model {summary['device_model']} (cut by the tensors' names); "
              "max|diff| against the unsplit network model")
    print(f"{'k':>3} {'cut bytes':>10} {'coded':>10} {'part1 B':>10} {'part2 B':>10} {'part1 ms':>9} "
          f"{'part2 ms':>9} {'dl ms':>8} {'max|diff|':>10} lossless")
    for row in summary["configs"]:
        print(f"{row['k']:>3} {row['intermediate_bytes']:>10} {row['coded_bytes']:>10} {row['part1_model_bytes']:>10} "
              f"{row['part2_model_bytes']:>10} {row['part1_ms']:>9.2f} {row['part2_ms']:>9.2f} "
              f"{context['download_ms'][row['k']]:>8.1f} {row['max_abs_diff']:>10.2e} {row['lossless']}")
    totals = {(r["k"], f"{r['bandwidth_mbps']:g}"): r["total_ms"] for r in summary["latency"]}
    named = context["anchors"]
    print(f"best configuration per uplink bandwidth (end-to-end ms; part-1 download at {context['downlink_mbps']:g} "
          "Mbit/s in column dl ms above):")
    print(f"{'Mbit/s':>7} {'best k':>6} {'ms':>9}  " + "  ".join(f"{n} (k={k})" for n, k in named.items()))
    for bandwidth, k in summary["best"].items():
        anchor_ms = "  ".join(f"{totals[(a, bandwidth)]:>{len(n) + len(str(a)) + 5}.1f}" for n, a in named.items())
        print(f"{bandwidth:>7} {k:>6} {totals[(k, bandwidth)]:>9.1f}  {anchor_ms}")
    if summary["chosen"]:
        print("chosen cuts (--splits): before node INDEX, k layers on the device; end-to-end ms per uplink bandwidth")
        labels = [f"{r['bandwidth_mbps']:g} Mbit/s" for r in summary["chosen"][0]["latency"]]
        header = "".join(f"{label:>14}" for label in labels)
        print(f"{'index':>6} {'k':>3} {'cut bytes':>10} {'coded':>10} {'max|diff|':>10} lossless{header}  node")
        for row in summary["chosen"]:
            totals_ms = "".join(f"{r['total_ms']:>14.1f}" for r in row["latency"])
            print(f"{row['index']:>6} {row['k']:>3} {row['intermediate_bytes']:>10} {row['coded_bytes']:>10} "
                  f"{row['max_abs_diff']:>10.2e} {str(row['lossless']):<8}  {totals_ms}  {row['node']}")


def cmd_sweep_splits(args: argparse.Namespace) -> int:
    summary, context = run_sweep(args)
    if args.json:
        json.dump(summary, sys.stdout, indent=1)
        print()
    else:
        print_tables(summary, context)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    sweep = subparsers.add_parser(
        "sweep-splits", help="sizes, device/network latency and best split per bandwidth of every layer split")
    sweep.add_argument("model", type=Path, help="ONNX model file")
    sweep.add_argument("--coder", default="raw", metavar="SPEC", help="coder of the cut tensors (default raw)")
    sweep.add_argument("--bandwidth", type=_bandwidths, default=None, metavar="B1,B2,...",
                       help="uplink bandwidths in Mbit/s (default: the profiles file's delivery.uplink_mbps)")
    sweep.add_argument("--rtt-ms", type=float, default=0.0, help="round-trip time added to each transmission")
    sweep.add_argument("--profiles", type=Path, default=None, metavar="FILE",
                       help="latency-profile YAML (default matrix/latency_profiles.yaml)")
    sweep.add_argument("--device-profile", default="device", help="profile of part 1 (default: device)")
    sweep.add_argument("--network-profile", default="network", help="profile of part 2 (default: network)")
    sweep.add_argument("--repeat", type=int, default=5, help="steady-state repetitions per part (default 5)")
    sweep.add_argument("--splits", type=_cut_points, default=None, metavar="I,J,NAME,...",
                       help="also measure these cuts (before a node index or a node name), beside every layer boundary")
    sweep.add_argument("--device-model", type=Path, default=None, metavar="DERIVED.onnx",
                       help="a model derived for the device (quantize / prune): its part 1 runs on the device, cut "
                            "at the same tensors by name, before MODEL's part 2")
    add_input_options(sweep)
    sweep.add_argument("--json", action="store_true", help="print the sweep as JSON")
    sweep.set_defaults(func=cmd_sweep_splits)
