"""``assets verify`` and ``assets fetch``: the asset manifest (references/assets.yaml) on the command line.

``assets verify`` exits 3 when a required asset is missing or any present asset has the wrong md5 (see
harness/assetstore/verify.py for the states); optional assets that are absent are listed with how to get
them and do not fail. A missing asset's line says where it is expected (``expected at D/...``; ``location``
in ``--json``): the suite reads it exactly there (harness.assetstore.paths), so placing files where verify
says makes the real-asset tests run.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

CHECK_FAILED = 3


def _verify(args: argparse.Namespace) -> int:
    from harness.assetstore.manifest import load_manifest
    from harness.assetstore.verify import verify_assets

    statuses = verify_assets(load_manifest(args.manifest), args.data_dir)
    failed = [s for s in statuses if s.failed]
    if args.json:
        print(json.dumps({"ok": not failed, "assets": [s.as_dict() for s in statuses]}, indent=1, sort_keys=True))
    else:
        width = max(len(s.name) for s in statuses) if statuses else 0
        for s in statuses:
            print(f"{'FAIL' if s.failed else '    '} {s.name:<{width}}  {s.status:<10} {s.message}")
        print(f"{len(statuses)} assets: {len(failed)} failing" + ("" if args.data_dir else
              "; data-dir assets skipped (give --data-dir D to check them)"))
    return CHECK_FAILED if failed else 0


def _fetch(args: argparse.Namespace) -> int:
    from harness.assetstore.fetch import fetch_asset
    from harness.assetstore.manifest import find_asset, load_manifest

    summary = fetch_asset(find_asset(load_manifest(args.manifest), args.name), args.data_dir)
    print(json.dumps(summary, indent=1, sort_keys=True))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    from harness.assetstore.manifest import MANIFEST_PATH

    assets = subparsers.add_parser("assets", help="verify or fetch the assets of references/assets.yaml")
    commands = assets.add_subparsers(dest="assets_command", required=True, metavar="ACTION")
    verify = commands.add_parser("verify", help="check presence and md5 of every asset; exit 3 when a required "
                                 "one is missing or any has a wrong md5")
    verify.add_argument("--data-dir", type=Path, help="folder with the real assets (models, COCO, LibriSpeech, ...)")
    verify.add_argument("--json", action="store_true", help="print the states as JSON")
    verify.add_argument("--manifest", type=Path, default=MANIFEST_PATH, help=argparse.SUPPRESS)
    verify.set_defaults(func=_verify)
    fetch = commands.add_parser("fetch", help="download a public asset (resume, md5 check, safe extraction)")
    fetch.add_argument("name", metavar="NAME")
    fetch.add_argument("--data-dir", type=Path, required=True, help="where to put it (must exist)")
    fetch.add_argument("--manifest", type=Path, default=MANIFEST_PATH, help=argparse.SUPPRESS)
    fetch.set_defaults(func=_fetch)
