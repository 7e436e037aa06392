"""``python -m harness bitinc`` / ``bitinc-apply``: bit-incremental model delivery (seed 001 §10.6).

    python -m harness bitinc MODEL --low-bits 8 --high-bits 16 [--update exact|lossy:qp=Q] --out-dir D \\
        [--bandwidth 10,50] [--json] [--data-dir DIR]
    python -m harness bitinc-apply --base D/low.bin --update D/update.bin --out state.pt

MODEL is a registered model (asr_small, ssd_small, vgg16_chest, resnet18_voc, mobilenet_v2_voc, vgg16) or a
PyTorch state_dict file (.pt, loaded with ``weights_only=True``). ``bitinc`` writes D/low.bin, D/update.bin,
D/high.bin (containers: ``python -m harness decode`` reads them) and the float32 state_dicts the clients
reconstruct, D/low.pt, D/low_plus_update.pt, D/high.pt; integer tensors (num_batches_tracked) are carried
exactly. Everything is computed before the first file is written, each file atomically, so bad input leaves
nothing behind. ``bitinc-apply`` is the incremental client: it applies one or more updates (a chain) to a
low-precision bitstream and refuses an update made for another base.
"""
from __future__ import annotations

import argparse
import io
import json
from pathlib import Path
from typing import Any

from harness.cli import UserError
from harness.files import atomic_write


def load_state(model: str, data_dir: Path | None):
    """(state as numpy arrays, subject or None) of a registered model name or a state_dict file."""
    from harness.bitinc.subjects import SUBJECTS, load_subject

    if model in SUBJECTS:
        subject = load_subject(model, data_dir)
        return subject.state, subject
    path = Path(model)
    if not path.is_file():
        raise UserError(f"{model}: neither a registered model ({', '.join(SUBJECTS.names())}) nor a state_dict file")
    return read_state_dict(path), None


def read_state_dict(path: Path) -> dict:
    import pickle
    import zipfile

    import torch

    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: not a PyTorch file loadable with weights_only=True ({first})") from None
    if not isinstance(loaded, dict) or not loaded or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in loaded.items()):
        hint = " (it holds a 'state_dict' entry: save that dict alone)" if isinstance(loaded, dict) and \
            "state_dict" in loaded else ""
        raise UserError(f"{path}: not a state_dict (a non-empty dict of name -> tensor){hint}; save one with "
                        "torch.save(model.state_dict(), path)")
    return {name: (t.float() if t.dtype == torch.bfloat16 else t).detach().cpu().contiguous().numpy()
            for name, t in loaded.items()}


def _bandwidths(text: str | None) -> list[float]:
    if not text:
        return []
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"--bandwidth {text!r}: expected comma-separated Mbit/s, e.g. 10,50") from None
    if not values or any(not v > 0 for v in values):
        raise UserError(f"--bandwidth {text!r}: every bandwidth must be a positive number of Mbit/s")
    return values


def _torch_bytes(state: dict) -> bytes:
    import numpy as np
    import torch

    buffer = io.BytesIO()
    torch.save({name: torch.from_numpy(np.array(value, copy=True)) for name, value in state.items()}, buffer)
    return buffer.getvalue()


def summary(result: Any, subject: Any, bandwidths: list[float], out_dir: Path) -> dict[str, Any]:
    from harness.bitinc.pipeline import STATES, STREAMS
    from harness.coders import container_spec

    streams = {name: {"file": str(out_dir / f"{name}.bin"),
                      "coder": container_spec(result.data[name]), "bytes": len(result.data[name]),
                      "encode_s": result.timing[name].encode, "decode_s": result.timing[name].decode,
                      "reconstruct_s": result.timing[name].reconstruct, "startup_s": result.timing[name].startup}
               for name in STREAMS}
    accuracy = None
    if subject is not None and subject.evaluate is not None:
        scores = {state: subject.evaluate(result.states[state]) for state in STATES}
        accuracy = {"metric": subject.metric_name, "unit": "percent", "data_set": subject.data_set_name,
                    **{state: value for state, (value, _) in scores.items()},
                    "evaluate_s": {state: seconds for state, (_, seconds) in scores.items()}}
    return {
        "low_bits": result.low_bits, "high_bits": result.high_bits, "update": result.mode.label,
        "load_s": subject.load_seconds if subject is not None else None,
        "quantise_s": result.quantise_seconds, "streams": streams, "bit_exact": result.exact_match(),
        "state_dicts": {state: str(out_dir / f"{state}.pt") for state in STATES},
        "tensors": result.steps, "accuracy": accuracy,
        "bandwidths_mbps": {f"{b:g}": result.times_at(b) for b in bandwidths},
        "crossover": {k: {"wins": c.wins, "mbps": c.mbps} for k, c in result.crossovers().items()},
    }


def run_bitinc(args: argparse.Namespace) -> int:
    from harness.bitinc.delivery import UpdateMode
    from harness.coders.nested_grid import check_bits
    from harness.bitinc.pipeline import STATES, deliver

    low, high = check_bits(args.low_bits, "--low-bits"), check_bits(args.high_bits, "--high-bits")
    if low >= high:
        raise UserError(f"--low-bits {low} must be below --high-bits {high}")
    mode = UpdateMode.parse(args.update)
    bandwidths = _bandwidths(args.bandwidth)
    state, subject = load_state(args.model, Path(args.data_dir) if args.data_dir else None)
    result = deliver(state, low, high, mode)
    out_dir = Path(args.out_dir)
    report = summary(result, subject, bandwidths, out_dir)
    report["model"] = args.model
    files = {out_dir / f"{name}.bin": result.data[name] for name in ("low", "update", "high")}
    files.update({out_dir / f"{state}.pt": _torch_bytes(result.states[state]) for state in STATES})
    for path, data in files.items():  # all computed above: a failure before here writes nothing
        atomic_write(path, lambda handle, data=data: handle.write(data))
    if args.json:
        print(json.dumps(report, sort_keys=True))
    else:
        for name, s in report["streams"].items():
            print(f"{name:7s} {s['coder']:<52s} {s['bytes']:>12d} bytes  start-up {s['startup_s']:.3f} s -> {s['file']}")
        if report["accuracy"]:
            acc = report["accuracy"]
            print(f"{acc['metric']} (%): low {acc['low']:.3f}, low+update {acc['low_plus_update']:.3f}, "
                  f"direct {acc['high']:.3f}")
        print(f"low + update == direct bit for bit: {report['bit_exact']}")
    return 0


def run_apply(args: argparse.Namespace) -> int:
    from harness.bitinc.delivery import Client

    client = Client()
    base = Path(args.base)
    if not base.is_file():
        raise UserError(f"{base}: no such file (expected low.bin written by 'python -m harness bitinc')")
    client.receive_model(base.read_bytes())
    for update in args.update:
        path = Path(update)
        if not path.is_file():
            raise UserError(f"{path}: no such file (expected an update.bin written by 'python -m harness bitinc')")
        client.receive_update(path.read_bytes())
    data = _torch_bytes(client.state)
    atomic_write(Path(args.out), lambda handle: handle.write(data))
    print(json.dumps({"base": str(base), "updates": args.update, "out": args.out, "tensors": len(client.state)}))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    cmd = subparsers.add_parser("bitinc", help="bit-incremental delivery: low model, update, direct model")
    cmd.add_argument("model", metavar="MODEL", help="registered model name or a state_dict .pt file")
    cmd.add_argument("--low-bits", type=int, required=True, metavar="L", help="precision of the first model")
    cmd.add_argument("--high-bits", type=int, required=True, metavar="H", help="full precision (> L), at most 31")
    cmd.add_argument("--update", default="exact", metavar="MODE",
                     help="exact (low + update == direct, bit for bit) or lossy:qp=Q (float difference by NNCodec)")
    cmd.add_argument("--out-dir", required=True, metavar="D", help="where the bitstreams and state_dicts go")
    cmd.add_argument("--bandwidth", metavar="MBPS,...", help="downlink bandwidths (Mbit/s), e.g. 10,50")
    cmd.add_argument("--data-dir", metavar="DIR", help="real assets for models that need them")
    cmd.add_argument("--json", action="store_true", help="print the report as one JSON object")
    cmd.set_defaults(func=run_bitinc)

    apply = subparsers.add_parser("bitinc-apply", help="apply bit-incremental updates to a low-precision model")
    apply.add_argument("--base", required=True, metavar="LOW.BIN", help="the low-precision bitstream")
    apply.add_argument("--update", required=True, action="append", metavar="UPDATE.BIN",
                       help="an update bitstream (repeat for a chain, in order)")
    apply.add_argument("--out", required=True, metavar="STATE.PT", help="the reconstructed float32 state_dict")
    apply.set_defaults(func=run_apply)
