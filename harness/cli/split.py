"""``split``, ``inspect`` and ``build-model``: cut an ONNX model the way seed 001's split_onnx.py does, look at
candidate split points, and export a built-in model."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.cli import UserError


def _indices(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of node indices") from None


def add_input_options(parser: argparse.ArgumentParser) -> None:
    """``--input-shape`` (repeatable) and ``--inputs``: what a command runs the model on (harness.split.inputs)."""
    parser.add_argument("--input-shape", action="append", default=None, metavar="[NAME=]D1,D2,...",
                        help="shape of a model input whose dimensions are symbolic: 1,3,320,320 for a single input, "
                             "repeat NAME=1,3,320,320 for several (seeded tensors of that shape are run)")
    parser.add_argument("--inputs", type=Path, default=None, metavar="FILE.npz",
                        help="real input tensors by input name (e.g. a preprocessed photograph)")


def feeds_from(args: argparse.Namespace, planner: Any) -> Any:
    """The ModelInputs of ``--inputs`` / ``--input-shape`` (None when neither is given)."""
    from harness.split.inputs import input_shapes, model_inputs

    if args.inputs is None and not args.input_shape:
        return None
    return model_inputs(planner, input_shapes(args.input_shape), args.inputs)


def _fmt_shape(shape: Any) -> str:
    return "?" if shape is None else "x".join("?" if d is None else str(d) for d in shape) or "scalar"


def _measure(args: argparse.Namespace, planner: Any, plans: dict) -> dict[int, dict[str, tuple]]:
    """Actual cut tensor shapes and bytes from one run on the command's inputs (for symbolic dimensions and
    data-dependent cuts); nothing when no input is given."""
    from harness.split import FeatureExtractor

    inputs = feeds_from(args, planner)
    if inputs is None:
        return {}
    arrays = FeatureExtractor(planner.model, list(plans.values())).run(inputs.feeds[0])
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
    row = _rows({plan.node_index: plan}, _measure(args, planner, {plan.node_index: plan}))[0]
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
    if args.layers:
        return _print_layers(args, planner)
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
    rows = _rows(plans, _measure(args, planner, plans))
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


def _print_layers(args: argparse.Namespace, planner: Any) -> int:
    """The layer boundaries ``sweep-splits`` measures: configuration k cuts before the node that starts layer k
    (harness.split.layers), so these are the meaningful split points of any graph (Constant nodes excluded)."""
    from harness.split.layers import LayerSplitter

    splitter = LayerSplitter(planner)
    # configuration k (1..N-1) keeps k layers on the device: it cuts before the anchor of layer k + 1
    boundaries = [{"k": k, "index": splitter.layers[k].start, "node": planner.nodes[splitter.layers[k].start].name,
                   "op_type": planner.nodes[splitter.layers[k].start].op_type} for k in range(1, splitter.count)]
    if args.json:
        print(json.dumps({"node_count": len(planner.nodes), "layers": splitter.count, "boundaries": boundaries},
                         indent=1))
        return 0
    print(f"{splitter.count} layers over {len(planner.nodes)} nodes; configuration k keeps k layers on the device "
          f"and cuts before node INDEX (k = 0: all in the network; k = {splitter.count}: all on the device)")
    print(f"{'k':>4} {'index':>6}  {'op_type':<16} node")
    for row in boundaries:
        print(f"{row['k']:>4} {row['index']:>6}  {row['op_type']:<16} {row['node']}")
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


def cmd_prepare_model(args: argparse.Namespace) -> int:
    from harness.models.prepare import prepare_model, save_prepared

    model, done = prepare_model(args.model, opset=args.opset, fold=not args.no_fold)
    save_prepared(model, args.out)
    done["output"] = str(args.out)
    print(json.dumps(done) if args.json else
          f"{args.out}: {done['nodes']} nodes at opset {done['opset']}; {done['constants_moved']} Constant node(s) "
          f"made initializers, {done['batch_norm_folded']} BatchNormalization folded")
    return 0


def _model_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", type=Path, help="ONNX model file")
    parser.add_argument("--after", action="store_true", help="cut after the node instead of before it")
    parser.add_argument("--before", action="store_true", help="cut before the node (default)")
    parser.add_argument("--pass-inputs", action="store_true",
                        help="allow part 2 to read the raw model input too (fed the same input)")
    add_input_options(parser)
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
    inspect.add_argument("--layers", action="store_true",
                         help="list the layer boundaries (the configurations sweep-splits measures) with the node "
                              "index and name each starts at")
    inspect.set_defaults(func=cmd_inspect)

    prepare = subparsers.add_parser("prepare-model", help="Constant weights to initializers, opset conversion, "
                                                            "BatchNormalization folding (harness.models.prepare)")
    prepare.add_argument("model", type=Path, help="ONNX model file")
    prepare.add_argument("--out", type=Path, required=True, help="destination .onnx file")
    prepare.add_argument("--opset", type=int, default=None, help="convert to this default-domain opset")
    prepare.add_argument("--no-fold", action="store_true", help="keep BatchNormalization nodes")
    prepare.add_argument("--json", action="store_true", help="print JSON")
    prepare.set_defaults(func=cmd_prepare_model)
    build = subparsers.add_parser("build-model", help="export a built-in model (seeded weights) to an ONNX file")
    build.add_argument("name", help="registered model name (ssd_resnet_seeded, retinanet_seeded, ...)")
    build.add_argument("--out", type=Path, required=True, help="destination .onnx file")
    build.add_argument("--json", action="store_true", help="print JSON")
    build.set_defaults(func=cmd_build_model)
