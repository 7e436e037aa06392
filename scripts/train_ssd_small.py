#!/usr/bin/env python
"""Train the embedded SSD-small detector on the synthetic shapes stream, evaluate it and ship it as ONNX.

Seeded and deterministic on CPU: batch ``s`` is always images ``s*B .. s*B+B-1`` of the training stream,
weights start from ``torch.manual_seed(seed)`` (or from a shipped ONNX file, ``--init-onnx``). Checkpoints
every ``--checkpoint-every`` steps (atomic) so a stopped run resumes where it was with ``--resume``. At the end (or with ``--export-only``): ONNX export
(dynamo=False, eval mode so batch norm is folded), md5, model JSON, and scores on the held-out 50 images.

    nice .venv/bin/python scripts/train_ssd_small.py --steps 1500 --threads 1 --max-minutes 45

Compression-augmented fine-tuning of part 2 (seed 002 §3.3; training.compression_augment): part 1
of the shipped model is frozen up to split 90, the cut features of every sample are coded at a QP drawn from
{lossless, 22, 27, 32, 37} (HEVC, Q-layer 8 bits, channel tiling) and part 2 learns on the decoded ones:

    nice .venv/bin/python scripts/train_ssd_small.py --finetune-part2-at 90 --steps 500 --lr 5e-4 --warmup 20 \
        --data-offset 4800 --threads 2 --augment-workers 2 --select-perfect-from 0
"""
from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.files import atomic_write_bytes, atomic_write_text  # noqa: E402
from harness.datasets.synthetic_shapes import CATEGORIES, EVAL_SEED, IMAGE_SIZE, NUM_CLASSES, TRAIN_SEED  # noqa: E402
from harness.detection.ssd.default_boxes import DefaultBoxesConfig, default_boxes_xywh  # noqa: E402
from harness.detection.ssd.ssd_small import SSD, ssd_from_onnx  # noqa: E402
from training.compression_augment import SEED_002_CODERS, CompressionAugmentation, find_cut_module  # noqa: E402
from harness.detection.ssd.loss import multibox_loss, shapes_batch  # noqa: E402
from training.loop import save_checkpoint, warmup_cosine_lr, write_md5_sidecar  # noqa: E402

ASSETS = REPO / "harness" / "assets"
DEFAULT_CKPT = REPO / ".cache" / "ssd_small" / "checkpoint.pt"
OPSET = 13


def make_batch(step: int, batch_size: int, anchors: np.ndarray, config: DefaultBoxesConfig,
               seed: int = TRAIN_SEED) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs and targets of training step ``step`` (deterministic; harness.detection.ssd.loss.shapes_batch)."""
    return shapes_batch(step, batch_size, anchors, config, seed)


def train(steps: int, batch_size: int = 32, lr: float = 3e-3, warmup: int = 100, seed: int = 0,
          max_minutes: float | None = None, checkpoint: Path | None = None, checkpoint_every: int = 50,
          resume: bool = False, log_every: int = 10, log=print, init_from: Path | None = None,
          data_offset: int = 0, init_onnx: Path | None = None, augment_split: int | None = None,
          augment_coders: tuple[str, ...] = SEED_002_CODERS, augment_workers: int = 1) -> tuple[SSD, list[float], dict]:
    """Train and return (model in eval mode, per-step losses, run info). Schedules are over ``steps``.

    ``init_from``: start from the weights of an earlier stage's checkpoint (fresh optimiser and schedule);
    ``init_onnx``: start from an exported model (batch norm folded, as shipped);
    ``data_offset``: first batch index of the training stream, so a later stage sees images not seen before;
    ``augment_split``: fine-tune only part 2 of ``init_onnx`` cut at this split, on features coded with one of
    ``augment_coders`` drawn per sample (seed 002 §3.3), coding on ``augment_workers`` processes.
    """
    if steps <= 0 or batch_size <= 0:
        raise ValueError(f"steps and batch_size must be positive, got {steps} and {batch_size}")
    torch.manual_seed(seed)
    np.random.seed(seed)
    config = DefaultBoxesConfig()
    anchors = default_boxes_xywh(config)
    model = SSD(NUM_CLASSES, config) if init_onnx is None else ssd_from_onnx(str(init_onnx), NUM_CLASSES, config)
    pool, augmentation = None, None
    if augment_split is not None:
        if init_onnx is None:
            raise ValueError("compression-augmented fine-tuning starts from an exported model: give init_onnx")
        probe = make_batch(0, 1, anchors, config, seed=EVAL_SEED)[0]
        cut = find_cut_module(model, init_onnx, augment_split, probe)
        if augment_workers > 1:
            from concurrent.futures import ProcessPoolExecutor
            from multiprocessing import get_context
            pool = ProcessPoolExecutor(augment_workers, mp_context=get_context("spawn"))
        augmentation = CompressionAugmentation(cut, augment_coders, seed, pool)
        augmentation.attach(model)
        log(f"compression augmentation at split {augment_split}: {cut.module_name} -> {cut.tensor_name}; "
            f"{len(cut.part1)} layers frozen, {len(cut.part2)} trained; coders {', '.join(augmentation.specs)}")
    origin = {"file": init_onnx.name, "md5": hashlib.md5(init_onnx.read_bytes()).hexdigest()} if init_onnx else None
    settings = {"steps": steps, "batch_size": batch_size, "lr": lr, "init_onnx": origin,
                "augment": augmentation.describe() if augmentation else None}
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=1e-4)
    start, losses, elapsed_before = 0, [], 0.0
    if init_from is not None:
        model.load_state_dict(torch.load(init_from, map_location="cpu", weights_only=False)["model"])
        log(f"initialised from {init_from}")
    if resume and checkpoint is not None and checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        if any(state.get(key) != value for key, value in settings.items()):
            raise ValueError(f"checkpoint {checkpoint} was made with other settings; delete it or match them")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start, losses, elapsed_before = state["step"], state["losses"], state["elapsed_s"]
        log(f"resumed from {checkpoint} at step {start}")
    t0 = time.monotonic()
    model.train()
    if augmentation:
        augmentation.part1_eval(model)
    step = start
    for step in range(start, steps):
        for group in optimizer.param_groups:
            group["lr"] = warmup_cosine_lr(step, steps, lr, warmup)
        images, gt_locs, gt_labels = make_batch(step + data_offset, batch_size, anchors, config)
        if augmentation:
            augmentation.step = step
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
            state = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step + 1,
                     **settings, "losses": losses, "elapsed_s": elapsed}
            save_checkpoint(state, checkpoint)
        if out_of_time:
            log(f"time budget reached after step {step + 1}")
            break
    model.eval()
    if augmentation:
        augmentation.detach()
    if pool is not None:
        pool.shutdown()
    info = {"steps_done": len(losses), "steps_planned": steps, "batch_size": batch_size, "lr": lr,
            "warmup": warmup, "seed": seed, "init_from": str(init_from) if init_from else None,
            "data_offset": data_offset, "train_seconds": round(elapsed_before + time.monotonic() - t0, 1),
            "final_loss": round(float(np.mean(losses[-50:])), 4) if losses else None}
    if origin:
        info["init_onnx"] = origin
    if augmentation:
        info["compression_augmentation"] = augmentation.describe()
    return model, losses, info


def export_onnx(model: SSD, path: Path) -> str:
    """Export (eval mode, legacy exporter folds batch norm) atomically; returns the md5 written beside it."""
    model.eval()
    buffer = io.BytesIO()
    dummy = torch.zeros(1, 3, IMAGE_SIZE, IMAGE_SIZE)
    torch.onnx.export(model, (dummy,), buffer, dynamo=False, opset_version=OPSET, input_names=["image"],
                      output_names=["bboxes", "scores"], do_constant_folding=True)
    atomic_write_bytes(path, buffer.getvalue())
    return write_md5_sidecar(path)


def evaluate_onnx(onnx_path: Path, count: int = 50, indices: list[int] | None = None) -> dict:
    """Scores of an exported ssd_small in the three ``harness.metrics`` styles (harness.detection.evaluation)."""
    from harness.detection.detectors import ssd_small_detector
    from harness.detection.evaluation import evaluate_detector

    return evaluate_detector(ssd_small_detector(onnx_path), count, indices)


def select_indices(onnx_path: Path, pool: int, count: int = 50) -> list[int]:
    """Seed 000's selection over the first ``pool`` held-out images with the exported anchor."""
    from harness.detection.detectors import ssd_small_detector
    from harness.detection import evaluation

    return evaluation.select_indices(ssd_small_detector(onnx_path), pool, count)


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
    parser.add_argument("--out", type=Path, default=None,
                        help="ONNX file to write (default harness/assets/ssd_small.onnx, or ssd_small_cat<SPLIT>.onnx "
                             "with --finetune-part2-at)")
    parser.add_argument("--init-onnx", type=Path, default=None,
                        help="start from an exported model (with --finetune-part2-at: default the shipped ssd_small.onnx)")
    parser.add_argument("--finetune-part2-at", type=int, default=None, metavar="SPLIT",
                        help="compression-augmented fine-tuning (seed 002 §3.3) of part 2 only, at this split")
    parser.add_argument("--augment-coder", action="append", default=None, metavar="SPEC",
                        help="a coder the augmentation draws from (repeat; default seed 002's HEVC lossless, QP 22-37)")
    parser.add_argument("--augment-workers", type=int, default=1, help="processes coding the features")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    finetune = args.finetune_part2_at is not None
    if finetune and args.init_onnx is None:
        args.init_onnx = ASSETS / "ssd_small.onnx"
    if args.out is None:
        args.out = ASSETS / (f"ssd_small_cat{args.finetune_part2_at}.onnx" if finetune else "ssd_small.onnx")
    if args.export_only:
        if not args.checkpoint.exists():
            raise SystemExit(f"error: no checkpoint at {args.checkpoint}; train first")
        state = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
        model = SSD(NUM_CLASSES, DefaultBoxesConfig())
        if state.get("augment"):
            from harness.detection.ssd.ssd_small import fold_batch_norms
            model = fold_batch_norms(model)
        model.load_state_dict(state["model"])
        info = {"steps_done": state["step"], "steps_planned": state["steps"], "batch_size": state["batch_size"],
                "lr": state["lr"], "seed": args.seed, "train_seconds": round(state["elapsed_s"], 1),
                "final_loss": round(float(np.mean(state["losses"][-50:])), 4)}
        if state.get("augment"):
            info["compression_augmentation"] = state["augment"]
        if state.get("init_onnx"):
            info["init_onnx"] = state["init_onnx"]
    else:
        try:
            model, _, info = train(args.steps, args.batch_size, args.lr, args.warmup, args.seed, args.max_minutes,
                                   args.checkpoint, args.checkpoint_every, args.resume,
                                   log=lambda m: print(m, flush=True), init_from=args.init_from,
                                   data_offset=args.data_offset, init_onnx=args.init_onnx,
                                   augment_split=args.finetune_part2_at,
                                   augment_coders=tuple(args.augment_coder or SEED_002_CODERS),
                                   augment_workers=args.augment_workers)
        except ValueError as exc:
            raise SystemExit(f"error: {exc}") from None
    digest = export_onnx(model, args.out)
    print(f"exported {args.out} ({args.out.stat().st_size} bytes, md5 {digest})", flush=True)
    scores = {"heldout": evaluate_onnx(args.out)}
    if args.select_perfect_from:
        scores["selected"] = evaluate_onnx(args.out, indices=select_indices(args.out, args.select_perfect_from))
    if finetune:  # the shipped model's selection, so that both part 2s are scored on the same images
        shipped = json.loads((ASSETS / "ssd_small.json").read_text())["evaluation"]["selected"]
        scores["selected"] = {**evaluate_onnx(args.out, indices=shipped["indices"]),
                              "selection": "the shipped ssd_small's selection (its anchor is perfect there)"}
    print(json.dumps(scores), flush=True)
    describe = {
        "model": args.out.stem, "onnx": args.out.name, "md5": digest, "opset": OPSET,
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
                     "torch": torch.__version__,
                     "command": " ".join(["scripts/train_ssd_small.py", *(sys.argv[1:] if argv is None else argv)])},
        "evaluation": scores,
    }
    atomic_write_text(args.out.with_suffix(".json"), json.dumps(describe, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
