"""``python -m harness <command>``: every module of this package that defines ``register(subparsers)``
adds its own sub-commands, so a new command is one new module.

Contract for commands: print the result (JSON where the command has ``--json`` or is JSON-only) on stdout;
on bad input raise :class:`UserError` (or a ``ValueError``/``OSError``), which becomes a one-line reason on
stderr and exit status 1.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from typing import Sequence


class UserError(Exception):
    """A problem with the user's input: reported as one line, exit status 1."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m harness",
        description="FS_AI4Media conformance and cross-check suite: coders, split engine, metrics, reports.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__, __name__ + "."), key=lambda i: i.name):
        if info.name.rsplit(".", 1)[-1].startswith("_"):
            continue
        module = importlib.import_module(info.name)
        if hasattr(module, "register"):
            module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        result = args.func(args)
    except (UserError, ValueError, OSError, KeyError) as exc:
        reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {reason}", file=sys.stderr)
        return 1
    return int(result or 0)
