"""``quantize`` and ``prune``: derive a device model from an ONNX model (harness.derive), printing size, sparsity
and node counts (``--json`` for one JSON object). Bad input gets a one-line error and no output file."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from harness.cli import UserError
from harness.split.graph import load_model


def calibration_feeds(model: Path, folder: Path | None) -> list[dict[str, Any]]:
    """One feed per ``.npz`` file of ``folder`` (sorted by name), each checked against the model's inputs."""
    from harness.split import SplitPlanner
    from harness.split.inputs import read_inputs

    if folder is None:
        return []
    if not folder.is_dir():
        raise UserError(f"--calibration {folder}: not a folder (a folder of .npz files, one set of inputs each)")
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise UserError(f"--calibration {folder} holds no .npz file (one set of the model's inputs by input name each)")
    planner = SplitPlanner(model)
    return [read_inputs(planner, path) for path in files]


def _report(args: argparse.Namespace, derived: Any) -> int:
    from harness.derive import model_figures

    figures = {"method": derived.method, "output": str(derived.path), **model_figures(derived.path),
               **{k: v for k, v in derived.details.items() if k != "prepared"}}
    if args.json:
        print(json.dumps(figures, sort_keys=True))
    else:
        print(f"{derived.method}: {derived.path} ({figures['file_bytes']} bytes, {figures['zlib_bytes']} zlib-coded); "
              f"{figures['nodes']} nodes ({figures['quantized_nodes']} quantization nodes); sparsity "
              f"{figures['sparsity']:.4f} of {figures['weights']} weights")
    return 0


def _check_finetune(args: argparse.Namespace) -> None:
    if args.finetune_steps < 0:
        raise UserError(f"--finetune-steps {args.finetune_steps}: give 0 (no re-training) or more")
    if args.checkpoint is not None and not args.finetune_steps:
        raise UserError("--checkpoint holds the state of a re-training: give --finetune-steps N too")


def _torch_builder(model: Path, option: str) -> None:
    """Refuse, before any work, a model no torch builder accepts (re-training needs the torch model)."""
    from harness.derive.torch_models import torch_model_for

    try:
        torch_model_for(model, option)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def cmd_quantize(args: argparse.Namespace) -> int:
    from harness.derive.quantize import quantize

    load_model(args.model)  # the split engine's check: a clear error for a missing or broken file
    _check_finetune(args)
    if args.finetune_steps:
        if args.mode != "static":
            raise UserError("--finetune-steps re-trains under static QDQ's simulated rounding: use --mode static")
        _torch_builder(args.model, "--finetune-steps")
    feeds = calibration_feeds(args.model, args.calibration)
    if args.accuracy_aware is not None:
        from harness.derive.quantize import quantize_accuracy_aware

        if args.mode != "static":
            raise UserError("--accuracy-aware keeps nodes of a static QDQ model in float: use --mode static")
        if args.finetune_steps:
            raise UserError("--accuracy-aware and --finetune-steps are two ways to recover accuracy: give one")
        return _report(args, quantize_accuracy_aware(args.model, args.out, feeds, args.accuracy_aware, args.calibrate,
                                                     op_types=args.op_types))
    return _report(args, quantize(args.model, args.out, args.mode, feeds, args.calibrate, op_types=args.op_types,
                                  finetune_steps=args.finetune_steps, checkpoint=args.checkpoint))


def cmd_prune(args: argparse.Namespace) -> int:
    from harness.derive.prune import prune_global

    load_model(args.model)
    if not 0.0 <= args.sparsity < 1.0:
        raise UserError(f"--sparsity {args.sparsity}: give a fraction in [0, 1)")
    _check_finetune(args)
    if args.structured or args.finetune_steps:
        _torch_builder(args.model, "--structured" if args.structured else "--finetune-steps")
    if args.structured:
        from harness.derive.structured import prune_structured

        return _report(args, prune_structured(args.model, args.out, args.sparsity, args.finetune_steps,
                                              args.checkpoint))
    return _report(args, prune_global(args.model, args.out, args.sparsity, args.finetune_steps, args.checkpoint))


def _op_types(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names or not all(name.isidentifier() for name in names):
        raise argparse.ArgumentTypeError(f"{text!r}: give operator types separated by commas, e.g. Conv,MatMul")
    return names


def _finetune_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--finetune-steps", type=int, default=0, metavar="N",
                        help=f"{what}; needs the model's torch builder (harness.derive.torch_models)")
    parser.add_argument("--checkpoint", type=Path, default=None, metavar="FILE",
                        help="with --finetune-steps: resume the re-training from FILE if it exists, and keep its "
                             "state there (every 50 steps and at the end)")


def register(subparsers: argparse._SubParsersAction) -> None:
    quantize = subparsers.add_parser("quantize", help="post-training INT8 quantization (onnxruntime.quantization)")
    quantize.add_argument("model", type=Path, help="ONNX model file")
    quantize.add_argument("--out", type=Path, required=True, help="destination .onnx file")
    quantize.add_argument("--mode", choices=["static", "dynamic"], default="static",
                          help="static: QDQ, per-channel, calibrated; dynamic: activation scales at run time")
    quantize.add_argument("--calibration", type=Path, default=None, metavar="DIR",
                          help="folder of .npz files, each one set of the model's inputs by input name (static)")
    quantize.add_argument("--calibrate", choices=["minmax", "percentile"], default="minmax",
                          help="calibration of the activation ranges (static)")
    quantize.add_argument("--accuracy-aware", type=float, default=None, metavar="NMSE",
                          help="keep the most sensitive nodes in float until the outputs' NMSE to FP32 on the "
                               "calibration data is at most NMSE (static)")
    quantize.add_argument("--op-types", type=_op_types, default=None, metavar="OPS",
                          help="comma-separated operator types to quantize (default: every type the quantizer "
                               "knows); Conv keeps a graph's in-graph post-processing (box decoding, NMS) in float")
    _finetune_arguments(quantize, "static: first re-train the float weights for N seeded steps of the model's own "
                                  "loss under simulated int8 rounding (quantization-aware)")
    quantize.add_argument("--json", action="store_true", help="print JSON")
    quantize.set_defaults(func=cmd_quantize)
    prune = subparsers.add_parser("prune", help="global magnitude pruning of the weights (torch.nn.utils.prune)")
    prune.add_argument("model", type=Path, help="ONNX model file")
    prune.add_argument("--sparsity", type=float, required=True, help="fraction of the weights set to zero, in [0, 1)")
    prune.add_argument("--out", type=Path, required=True, help="destination .onnx file")
    prune.add_argument("--structured", action="store_true",
                       help="channel pruning that shrinks the graph (needs the model's torch builder)")
    _finetune_arguments(prune, "re-train the pruned model for N seeded steps of its own loss (global pruning "
                               "keeps its zeros)")
    prune.add_argument("--json", action="store_true", help="print JSON")
    prune.set_defaults(func=cmd_prune)
