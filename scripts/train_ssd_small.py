#!/usr/bin/env python
"""Train the embedded SSD-small detector on the synthetic shapes stream, evaluate it and ship it as ONNX.

Seeded and deterministic on CPU: batch ``s`` is always images ``s*B .. s*B+B-1`` of the training stream,
weights start from ``torch.manual_seed(seed)``. Checkpoints every ``--checkpoint-every`` steps (atomic) so a
stopped run resumes where it was with ``--resume``. At the end (or with ``--export-only``): ONNX export
(dynamo=False, eval mode so batch norm is folded), md5, model JSON, and scores on the held-out 50 images.

    nice .venv/bin/python scripts/train_ssd_small.py --steps 1500 --threads 1 --max-minutes 45
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.datasets.synthetic_shapes import CATEGORIES, EVAL_SEED, IMAGE_SIZE, NUM_CLASSES, TRAIN_SEED, generate_sample  # noqa: E402
from harness.detection.ssd.default_boxes import DefaultBoxesConfig, assign_targets, default_boxes_xywh  # noqa: E402
from harness.detection.ssd.multibox_loss import multibox_loss  # noqa: E402
from harness.detection.ssd.preprocess import preprocess  # noqa: E402
from harness.detection.ssd.ssd_small import SSD  # noqa: E402

ASSETS = REPO / "harness" / "assets"
DEFAULT_CKPT = REPO / ".cache" / "ssd_small" / "checkpoint.pt"
OPSET = 13


def make_batch(step: int, batch_size: int, anchors: np.ndarray, config: DefaultBoxesConfig,
               seed: int = TRAIN_SEED) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs and targets of training step ``step`` (deterministic)."""
    samples = [generate_sample(seed, step * batch_size + i) for i in range(batch_size)]
    images = torch.from_numpy(preprocess(np.stack([s.image for s in samples])))
    locs, labels = zip(*(assign_targets(s.boxes / IMAGE_SIZE, s.labels, anchors, config) for s in samples))
    return images, torch.from_numpy(np.stack(locs)), torch.from_numpy(np.stack(labels))


def lr_at(step: int, total: int, base_lr: float, warmup: int) -> float:
    """Linear warm-up then cosine decay to 2% of the base rate."""
    if step < warmup:
        return base_lr * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return base_lr * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * progress)))


def _save_atomic(obj: object, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(steps: int, batch_size: int = 32, lr: float = 3e-3, warmup: int = 100, seed: int = 0,
          max_minutes: float | None = None, checkpoint: Path | None = None, checkpoint_every: int = 50,
          resume: bool = False, log_every: int = 10, log=print, init_from: Path | None = None,
          data_offset: int = 0) -> tuple[SSD, list[float], dict]:
    """Train and return (model in eval mode, per-step losses, run info). Schedules are over ``steps``.

    ``init_from``: start from the weights of an earlier stage's checkpoint (fresh optimiser and schedule);
    ``data_offset``: first batch index of the training stream, so a later stage sees images not seen before.
    """
    if steps <= 0 or batch_size <= 0:
        raise ValueError(f"steps and batch_size must be positive, got {steps} and {batch_size}")
    torch.manual_seed(seed)
    np.random.seed(seed)
    config = DefaultBoxesConfig()
    anchors = default_boxes_xywh(config)
    model = SSD(NUM_CLASSES, config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    start, losses, elapsed_before = 0, [], 0.0
    if init_from is not None:
        model.load_state_dict(torch.load(init_from, map_location="cpu", weights_only=False)["model"])
        log(f"initialised from {init_from}")
    if resume and checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        if state["steps"] != steps or state["batch_size"] != batch_size or state["lr"] != lr:
            raise ValueError(f"checkpoint {checkpoint} was made with other settings; delete it or match them")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, losses, elapsed_before = state["step"], state["losses"], state["elapsed_s"]
        log(f"resumed from {checkpoint} at step {start}")
    t0 = time.monotonic()
    model.train()
    step = start
    for step in range(start, steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, steps, lr, warmup)
        images, gt_locs, gt_labels = make_batch(step + data_offset, batch_size, anchors, config)
        pred_locs, pred_logits = model(images)
        loss = multibox_loss(pred_locs, pred_logits, gt_locs, gt_labels)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"loss became {loss.item()} at step {step}; lower --lr")
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        elapsed = elapsed_before + time.monotonic() - t0
        if log_every and (step + 1) % log_every == 0:
            recent = float(np.mean(losses[-log_every:]))
            log(f"step {step + 1}/{steps} loss {recent:.4f} lr {optimizer.param_groups[0]['lr']:.2e} elapsed {elapsed:.0f}s")
        done = step + 1 == steps
        out_of_time = max_minutes is not None and elapsed > max_minutes * 60
        if checkpoint is not None and ((step + 1) % checkpoint_every == 0 or done or out_of_time):
            _save_atomic({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step + 1,
                          "steps": steps, "batch_size": batch_size, "lr": lr, "losses": losses,
                          "elapsed_s": elapsed}, checkpoint)
        if out_of_time:
            log(f"time budget reached after step {step + 1}")
            break
    model.eval()
    info = {"steps_done": len(losses), "steps_planned": steps, "batch_size": batch_size, "lr": lr,
            "warmup": warmup, "seed": seed, "init_from": str(init_from) if init_from else None,
            "data_offset": data_offset, "train_seconds": round(elapsed_before + time.monotonic() - t0, 1),
            "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None}
    return model, losses, info


def export_onnx(model: SSD, path: Path) -> str:
    """Export (eval mode, legacy exporter folds batch norm) atomically; returns the md5 written beside it."""
    model.eval()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    dummy = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    torch.onnx.export(model, (dummy,), str(tmp), dynamo=False, opset_version=OPSET, input_names=["image"],
                      output_names=["bboxes", "scores"], do_constant_folding=True)
    digest = hashlib.md5(tmp.read_bytes()).hexdigest()
    os.replace(tmp, path)
    md5_tmp = path.with_name(f".{path.name}.md5.tmp")
    md5_tmp.write_text(f"{digest}  {path.name}\n")
    os.replace(md5_tmp, path.with_name(path.name + ".md5"))
    return digest


def _eval_dataset(count: int, indices: list[int] | None):
    """The evaluation set (images 0..count-1 of the held-out stream, or the stream ``indices``) as a dataset."""
    from harness.datasets.coco_folder import IMAGES_DIR, INSTANCES_JSON, eval_set
    from harness.detection.datasets import coco_folder_dataset

    root = eval_set(count, indices=indices)
    return coco_folder_dataset("shapes-eval", root / INSTANCES_JSON, root / IMAGES_DIR, origin="generated")


def evaluate_onnx(onnx_path: Path, count: int = 50, indices: list[int] | None = None) -> dict:
    """Scores of the ONNX model in the three ``harness.metrics`` styles on the evaluation set: images
    0..count-1 of the held-out stream, or the selected stream ``indices``."""
    from harness.detection.detectors import ssd_small_detector
    from harness.detection.inference import detect_rows
    from harness.metrics import score
    from harness.metrics.coco_data import parse_detections

    dataset = _eval_dataset(count, indices)
    gt = dataset.ground_truth
    parsed = parse_detections(detect_rows(ssd_small_detector(onnx_path), dataset), gt)
    coco = score("coco", gt, parsed)
    selection = "none: the first images of the held-out stream" if indices is None else \
        "seed 000 style: the first images of the held-out stream on which the anchor is perfect"
    return {"eval_images": len(indices) if indices else count, "eval_seed": EVAL_SEED, "selection": selection,
            "indices": indices,
            "calc_map": round(score("calc_map", gt, parsed)["mAP"], 2), "voc": round(score("voc", gt, parsed)["mAP"], 2),
            "coco_AP": round(100 * coco["AP"], 2), "coco_AP50": round(100 * coco["AP50"], 2),
            "coco_AP75": round(100 * coco["AP75"], 2), "coco_APs": round(100 * coco["APs"], 2)}


def select_indices(onnx_path: Path, pool: int, count: int = 50) -> list[int]:
    """Seed 000's selection over the first ``pool`` images of the held-out stream with the exported anchor
    (stream indices; the pool's image ids are 1-based stream positions)."""
    from harness.detection.detectors import ssd_small_detector
    from harness.detection.selection import select_perfect

    chosen = select_perfect(ssd_small_detector(onnx_path), _eval_dataset(pool, None), count)
    if len(chosen) < count:
        raise ValueError(f"only {len(chosen)} of the first {pool} held-out images are perfect, {count} needed; "
                         "raise the pool size or train the detector further")
    return [image_id - 1 for image_id in chosen]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after this time")
    parser.add_argument("--checkpoint", type=Path, default=DEFAULT_CKPT)
    parser.add_argument("--checkpoint-every", type=int, default=50)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--init-from", type=Path, default=None, help="weights of an earlier stage's checkpoint")
    parser.add_argument("--data-offset", type=int, default=0, help="first batch index of the training stream")
    parser.add_argument("--export-only", action="store_true", help="export and evaluate the checkpoint, no training")
    parser.add_argument("--select-perfect-from", type=int, default=0, metavar="POOL",
                        help="also score on seed 000's selection: the first 50 of POOL held-out images on which "
                             "the anchor is perfect (reported separately from the plain held-out figure)")
    parser.add_argument("--out", type=Path, default=ASSETS / "ssd_small.onnx")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.export_only:
        if not args.checkpoint.exists():
            raise SystemExit(f"error: no checkpoint at {args.checkpoint}; train first")
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model = SSD(NUM_CLASSES, DefaultBoxesConfig())
        model.load_state_dict(state["model"])
        info = {"steps_done": state["step"], "steps_planned": state["steps"], "batch_size": state["batch_size"],
                "lr": state["lr"], "seed": args.seed, "train_seconds": round(state["elapsed_s"], 1),
                "final_loss": round(float(np.mean(state["losses"][-50:])), 4)}
    else:
        model, _, info = train(args.steps, args.batch_size, args.lr, args.warmup, args.seed, args.max_minutes,
                               args.checkpoint, args.checkpoint_every, args.resume, log=lambda m: print(m, flush=True),
                               init_from=args.init_from, data_offset=args.data_offset)
    digest = export_onnx(model, args.out)
    print(f"exported {args.out} ({args.out.stat().st_size} bytes, md5 {digest})", flush=True)
    scores = {"heldout": evaluate_onnx(args.out)}
    if args.select_perfect_from:
        scores["selected"] = evaluate_onnx(args.out, indices=select_indices(args.out, args.select_perfect_from))
    print(json.dumps(scores), flush=True)
    describe = {
        "model": "ssd_small", "onnx": args.out.name, "md5": digest, "opset": OPSET,
        "parameters": sum(p.numel() for p in model.parameters()),
        "input": {"name": "image", "shape": [1, 3, IMAGE_SIZE, IMAGE_SIZE], "layout": "NCHW RGB",
                  "preprocess": "x/255, minus ImageNet mean, divided by std (harness.detection.ssd.preprocess)"},
        "outputs": {"bboxes": "(1, N, 4) encoded offsets (dx, dy, dw, dh)",
                    "scores": "(1, N, C+1) logits, index 0 = background, index k = category id k"},
        "categories": CATEGORIES, "default_boxes": DefaultBoxesConfig().to_json(),
        "num_default_boxes": int(len(default_boxes_xywh(DefaultBoxesConfig()))),
        "postprocess": {"score_threshold": 0.05, "nms_iou": 0.5, "max_output": 100},
        "training": {**info, "dataset": "harness.datasets.synthetic_shapes", "train_seed": TRAIN_SEED,
                     "optimizer": "AdamW wd 1e-4, linear warm-up + cosine", "threads": args.threads,
                     "torch": torch.__version__},
        "evaluation": scores,
    }
    json_path = args.out.with_suffix(".json")
    tmp = json_path.with_name(f".{json_path.name}.tmp")
    tmp.write_text(json.dumps(describe, indent=1) + "\n")
    os.replace(tmp, json_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
