"""``split``, ``inspect`` and ``build-model``: cut an ONNX model the way seed 001's split_onnx.py does, look at
candidate split points, and export a built-in model."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from harness.cli import UserError


def _indices(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of node indices") from None


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part) for part in text.replace("x", ",").split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a shape like 3,1600,2560") from None
    if not dims or min(dims) <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: dimensions must be positive")
    return dims


def _fmt_shape(shape: Any) -> str:
    return "?" if shape is None else "x".join("?" if d is None else str(d) for d in shape) or "scalar"


def _measure(model_path: Path, plans: dict, input_shape: tuple[int, ...] | None) -> dict[int, dict[str, tuple]]:
    """Actual cut tensor shapes from one run on a zero input (for models with symbolic dimensions)."""
    if input_shape is None:
        return {}
    from harness.split import FeatureExtractor, SplitPlanner

    planner = SplitPlanner(model_path)
    inputs = planner.model_inputs
    if len(inputs) != 1:
        raise UserError(f"--input-shape needs a model with one input; {model_path} has {len(inputs)}")
    extractor = FeatureExtractor(planner.model, list(plans))
    name = next(iter(inputs))
    arrays = extractor.run({name: np.zeros(input_shape, dtype=np.float32)})
    return {index: {t: (a.shape, a.nbytes) for t, a in cut.items()} for index, cut in arrays.items()}


def _rows(plans: dict, measured: dict) -> list[dict]:
    rows = []
    for index, plan in plans.items():
        row = plan.describe()
        if index in measured:
            for tensor in row["cut"]:
                shape, nbytes = measured[index][tensor["name"]]
                tensor["shape"], tensor["bytes"] = list(shape), int(nbytes)
            row["total_bytes"] = sum(t["bytes"] for t in row["cut"])
        rows.append(row)
    return rows


def _print_cut(row: dict) -> None:
    for tensor in row["cut"]:
        size = "?" if tensor["bytes"] is None else tensor["bytes"]
        print(f"  {tensor['name']}  {tensor['dtype']}  {_fmt_shape(tensor['shape'])}  {size} bytes")
    total = "?" if row["total_bytes"] is None else row["total_bytes"]
    print(f"  total: {len(row['cut'])} tensor(s), {total} bytes")


def _where(args: argparse.Namespace) -> str:
    if args.before and args.after:
        raise UserError("give --before or --after, not both")
    return "after" if args.after else "before"


def cmd_split(args: argparse.Namespace) -> int:
    from harness.split import SplitPlanner, part_file_names, save_model_atomic, split_model

    where = _where(args)
    planner = SplitPlanner(args.model)
    plan = planner.plan(index=args.at, node=args.node, where=where,
                        pass_inputs=args.pass_inputs)
    part1, part2 = split_model(planner.model, plan)
    name1, name2 = part_file_names(Path(args.model).stem, plan)
    out1, out2 = args.out_dir / name1, args.out_dir / name2
    save_model_atomic(part1, out1)
    save_model_atomic(part2, out2)
    row = _rows({plan.node_index: plan}, _measure(Path(args.model), {plan.node_index: plan}, args.input_shape))[0]
    row.update(part1=str(out1), part2=str(out2), part1_nodes=len(part1.graph.node), part2_nodes=len(part2.graph.node))
    if args.json:
        print(json.dumps(row, indent=1))
        return 0
    print(f"cut {row['where']} node {row['index']} {row['node']!r} ({row['op_type']})")
    _print_cut(row)
    print(f"part 1: {out1} ({row['part1_nodes']} nodes)")
    print(f"part 2: {out2} ({row['part2_nodes']} nodes)")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    from harness.split import SplitPlanner

    where = _where(args)
    planner = SplitPlanner(args.model)
    if not args.at:
        nodes = [{"index": i, "node": n.name, "op_type": n.op_type} for i, n in enumerate(planner.nodes)]
        if args.json:
            print(json.dumps({"node_count": len(nodes), "nodes": nodes}, indent=1))
        else:
            print(f"{len(nodes)} nodes")
            for node in nodes:
                print(f"{node['index']:>6}  {node['op_type']:<16} {node['node']}")
        return 0
    plans = {index: planner.plan(index=index, where=where, pass_inputs=args.pass_inputs) for index in args.at}
    rows = _rows(plans, _measure(Path(args.model), plans, args.input_shape))
    if args.json:
        print(json.dumps({"node_count": len(planner.nodes), "where": where, "splits": rows}, indent=1))
        return 0
    print(f"{len(planner.nodes)} nodes; cuts {where} each node")
    print(f"{'index':>6}  {'op_type':<12} {'cut':>3}  {'bytes':>12}  node")
    for row in rows:
        total = "?" if row["total_bytes"] is None else row["total_bytes"]
        print(f"{row['index']:>6}  {row['op_type']:<12} {len(row['cut']):>3}  {total:>12}  {row['node']}")
        for tensor in row["cut"]:
            size = "?" if tensor["bytes"] is None else tensor["bytes"]
            print(f"{'':>6}    {_fmt_shape(tensor['shape']):<20} {size:>12}  {tensor['name']}")
    return 0


def cmd_build_model(args: argparse.Namespace) -> int:
    import shutil

    from harness.models import MODELS

    builder = MODELS.get(args.name)
    source = builder()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(f".{args.out.name}.tmp")  # copy then rename: never a half-written model
    try:
        shutil.copyfile(source, tmp)
        tmp.replace(args.out)
    finally:
        tmp.unlink(missing_ok=True)
    print(json.dumps({"model": args.name, "path": str(args.out), "bytes": args.out.stat().st_size})
          if args.json else f"{args.name}: {args.out} ({args.out.stat().st_size} bytes)")
    return 0


def _model_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="ONNX model file")
    parser.add_argument("--after", action="store_true", help="cut after the node instead of before it")
    parser.add_argument("--before", action="store_true", help="cut before the node (default)")
    parser.add_argument("--pass-inputs", action="store_true",
                        help="allow part 2 to read the raw model input too (fed the same input)")
    parser.add_argument("--input-shape", type=_shape, default=None,
                        help="run once on a zero input of this shape to measure symbolic cut shapes, e.g. 3,1600,2560")
    parser.add_argument("--json", action="store_true", help="print JSON")


def register(subparsers: argparse._SubParsersAction) -> None:
    split = subparsers.add_parser("split", help="cut an ONNX model into part 1 and part 2 at a node")
    _model_arg(split)
    where = split.add_mutually_exclusive_group(required=True)
    where.add_argument("--at", type=int, metavar="INDEX", help="node index (position in graph.node)")
    where.add_argument("--node", metavar="NAME", help="node name, e.g. /feature_extractor/.../relu_2/Relu")
    split.add_argument("--out-dir", type=Path, required=True, help="directory for the two part files")
    split.set_defaults(func=cmd_split)

    inspect = subparsers.add_parser("inspect", help="list nodes, or the cut at given node indices")
    _model_arg(inspect)
    inspect.add_argument("--at", type=_indices, default=None, metavar="I,J,...", help="node indices to cut at")
    inspect.set_defaults(func=cmd_inspect)

    build = subparsers.add_parser("build-model", help="export a built-in model (seeded weights) to an ONNX file")
    build.add_argument("name", help="registered model name (ssd_resnet_seeded, retinanet_seeded, ...)")
    build.add_argument("--out", type=Path, required=True, help="destination .onnx file")
    build.add_argument("--json", action="store_true", help="print JSON")
    build.set_defaults(func=cmd_build_model)
