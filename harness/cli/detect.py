"""``select``: seed 000's selection of the first N images on which the anchor detector scores perfectly.

With only ``--data-dir D`` every path is where references/assets.yaml puts it under D: the pool is COCO
val2017 (``coco_val2017_images``, ``coco_annotations_2017``) and the list is written to the place of
``coco_selection_50``, where the ``coco50`` dataset reads it. ``--instances``, ``--images`` and ``--out``
choose other files.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.cli import UserError


def _resolve(given: Path | None, asset: str, data_dir: Path | None, flag: str) -> Path:
    if given is not None:
        return given
    from harness.assetstore.paths import AssetMissing, asset_path

    try:
        return asset_path(asset, data_dir)
    except AssetMissing as exc:
        raise UserError(f"give {flag} or --data-dir: {exc}") from None


def _select(args: argparse.Namespace) -> int:
    from harness.detection.datasets import coco_folder_dataset
    from harness.detection.detectors import DETECTORS
    from harness.detection.selection import select_perfect
    from harness.files import atomic_write_text

    instances = _resolve(args.instances, "coco_annotations_2017", args.data_dir, "--instances")
    images = _resolve(args.images, "coco_val2017_images", args.data_dir, "--images")
    out = _resolve(args.out, "coco_selection_50", args.data_dir, "--out")
    if not instances.is_file():
        raise UserError(f"{instances} not found (a COCO instances JSON)")
    if not images.is_dir():
        raise UserError(f"{images} is not a directory of images")
    detector = DETECTORS.get(args.detector)(args.data_dir)
    dataset = coco_folder_dataset("selection-pool", instances, images, origin="user-provided")
    chosen = select_perfect(detector, dataset, args.count, style=args.style)
    if len(chosen) < args.count:
        raise UserError(f"only {len(chosen)} of the {len(dataset.image_ids())} images score perfectly with "
                        f"{args.detector}; fewer than the {args.count} asked for, nothing written")
    header = (f"# first {args.count} images of {instances.name} on which {args.detector} scores 100 "
              f"({args.style}), in dataset order\n")
    atomic_write_text(out, header + "".join(f"{i}\n" for i in chosen))
    print(json.dumps({"selected": chosen, "out": str(out)}))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("select", help="write seed 000's selection list (first N perfectly detected images)")
    parser.add_argument("--detector", default="ssd_resnet", help="registered detector (ssd_resnet, ssd_small)")
    parser.add_argument("--data-dir", type=Path,
                        help="real assets laid out as references/assets.yaml says (models/ssd_resnet.onnx, coco/...)")
    parser.add_argument("--instances", type=Path, help="COCO instances JSON of the image pool "
                        "(default: coco/annotations/instances_val2017.json under --data-dir)")
    parser.add_argument("--images", type=Path, help="folder of the pool's images (default: coco/val2017 under --data-dir)")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--style", default="calc_map", choices=["calc_map", "voc"])
    parser.add_argument("--out", type=Path, help="selection list to write, one image id a line "
                        "(default: coco/selection_50.txt under --data-dir, where the coco50 dataset reads it)")
    parser.set_defaults(func=_select)
