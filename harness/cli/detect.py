"""``select``: seed 000's selection of the first N images on which the anchor detector scores perfectly."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness.cli import UserError


def _select(args: argparse.Namespace) -> int:
    from harness.detection.datasets import coco_folder_dataset
    from harness.detection.detectors import DETECTORS
    from harness.detection.selection import select_perfect
    from harness.references import atomic_write_text

    detector = DETECTORS.get(args.detector)(args.data_dir)
    if not args.instances.is_file():
        raise UserError(f"{args.instances} not found (a COCO instances JSON)")
    if not args.images.is_dir():
        raise UserError(f"{args.images} is not a directory of images")
    dataset = coco_folder_dataset("selection-pool", args.instances, args.images, origin="user-provided")
    chosen = select_perfect(detector, dataset, args.count, style=args.style)
    if len(chosen) < args.count:
        raise UserError(f"only {len(chosen)} of the {len(dataset.image_ids())} images score perfectly with "
                        f"{args.detector}; fewer than the {args.count} asked for, nothing written")
    header = (f"# first {args.count} images of {args.instances.name} on which {args.detector} scores 100 "
              f"({args.style}), in dataset order\n")
    atomic_write_text(args.out, header + "".join(f"{i}\n" for i in chosen))
    print(json.dumps({"selected": chosen, "out": str(args.out)}))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("select", help="write seed 000's selection list (first N perfectly detected images)")
    parser.add_argument("--detector", default="ssd_resnet", help="registered detector (ssd_resnet, ssd_small)")
    parser.add_argument("--data-dir", type=Path, help="where the detector's model lies (ssd_resnet.onnx)")
    parser.add_argument("--instances", type=Path, required=True, help="COCO instances JSON of the image pool")
    parser.add_argument("--images", type=Path, required=True, help="folder of the pool's images")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--style", default="calc_map", choices=["calc_map", "voc"])
    parser.add_argument("--out", type=Path, required=True, help="selection list to write (one image id a line)")
    parser.set_defaults(func=_select)
