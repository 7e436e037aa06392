"""``python -m harness encode`` / ``decode``: code the tensors of an .npz file with one coder and back.

    python -m harness encode --coder nncodec:qp=-26 --in x.npz --out x.bin
    python -m harness decode --in x.bin --out y.npz

Each prints one line with the sizes (tensor bytes, container bytes, ratio), or a JSON object with --json.
Outputs are written atomically (temporary file + rename), so a failed run leaves no partial file.
"""
from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from harness.cli import UserError
from harness.files import atomic_write


def _tensor_bytes(tensors: dict[str, np.ndarray]) -> int:
    return sum(int(a.nbytes) for a in tensors.values())


def load_npz(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise UserError(f"{path}: no such file (expected an .npz of named tensors, e.g. from numpy.savez)")
    with open(path, "rb") as handle:
        head = handle.read(6)
    if head == b"\x93NUMPY":
        raise UserError(f"{path}: is a single .npy array, not an .npz archive; save it with numpy.savez(path, name=array)")
    if not head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise UserError(f"{path}: not an .npz archive (starts with {head!r}); save tensors with numpy.savez")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise UserError(f"{path}: not a readable .npz archive ({exc})") from None


def _report(args: argparse.Namespace, summary: dict[str, Any]) -> None:
    if args.json:
        print(json.dumps(summary, sort_keys=True))
    else:
        print(f"{summary['coder']}: tensors {summary['tensor_bytes']} bytes, container {summary['container_bytes']} "
              f"bytes, ratio {summary['ratio']:.4f} (container/tensors) -> {summary['output']}")


def run_encode(args: argparse.Namespace) -> int:
    from harness.coders import make_coder

    coder = make_coder(args.coder)
    tensors = load_npz(Path(args.inp))
    data = coder.encode(tensors)
    atomic_write(Path(args.out), lambda handle: handle.write(data))
    tensor_bytes = _tensor_bytes(tensors)
    _report(args, {"coder": coder.spec, "tensors": len(tensors), "tensor_bytes": tensor_bytes,
                   "container_bytes": len(data), "ratio": len(data) / tensor_bytes, "output": str(args.out)})
    return 0


def run_decode(args: argparse.Namespace) -> int:
    from harness.coders import container_spec
    from harness.coders.isolation import decode_untrusted

    path = Path(args.inp)
    if not path.is_file():
        raise UserError(f"{path}: no such file (expected a bitstream written by 'python -m harness encode')")
    data = path.read_bytes()
    spec = container_spec(data)
    tensors = decode_untrusted(data)  # another party's bitstream: a native decoder crash must not take us down
    atomic_write(Path(args.out), lambda handle: np.savez(handle, **tensors))
    tensor_bytes = _tensor_bytes(tensors)
    _report(args, {"coder": spec, "tensors": len(tensors), "tensor_bytes": tensor_bytes,
                   "container_bytes": len(data), "ratio": len(data) / tensor_bytes, "output": str(args.out)})
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    encode = subparsers.add_parser("encode", help="code the tensors of an .npz file into one bitstream")
    encode.add_argument("--coder", required=True, metavar="SPEC",
                        help="coder spec name[:key=value,...], e.g. raw, fp16, nncodec:qp=-26, qlayer:bits=8,lossless=png")
    encode.add_argument("--in", dest="inp", required=True, metavar="X.NPZ", help="input tensors (numpy .npz)")
    encode.add_argument("--out", required=True, metavar="X.BIN", help="output bitstream")
    encode.add_argument("--json", action="store_true", help="print the sizes as one JSON object")
    encode.set_defaults(func=run_encode)

    decode = subparsers.add_parser("decode", help="decode a bitstream back into an .npz file")
    decode.add_argument("--in", dest="inp", required=True, metavar="X.BIN", help="bitstream from 'encode'")
    decode.add_argument("--out", required=True, metavar="Y.NPZ", help="output tensors (numpy .npz)")
    decode.add_argument("--json", action="store_true", help="print the sizes as one JSON object")
    decode.set_defaults(func=run_decode)
