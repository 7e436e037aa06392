#!/usr/bin/env python3
"""Train the embedded CTC model (harness/asr/small_model.py) on the synthetic corpus; seeded, single-threaded.

  nice -n 10 python scripts/synthesize_speech.py train --out .cache/asr_small/train.npz
  nice -n 10 python scripts/train_asr_small.py --data .cache/asr_small/train.npz \
      --eval-root harness/assets/asr_small_eval --steps 1400

Noise augmentation (white noise at 5-30 dB SNR, random gain) is drawn from a seeded generator; the run
checkpoints every --checkpoint-every steps to --work (resume with --resume) and finally writes
harness/assets/asr_small.pt (state_dict, loadable with weights_only=True), asr_small.md5 and asr_small.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness.asr.labels import LABELS, encode_transcript  # noqa: E402
from harness.asr.small_model import SmallCtcConfig, SmallCtcModel  # noqa: E402
from harness.asr.synthesis import add_noise  # noqa: E402
from training.loop import save_checkpoint, write_md5_sidecar  # noqa: E402

ASSETS = Path(__file__).resolve().parent.parent / "harness" / "assets"
SEED = 0


def load_corpus(path: Path) -> tuple[list[np.ndarray], list[list[int]]]:
    data = np.load(path)
    audio, offsets = data["audio"], data["offsets"]
    clips = [audio[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
    return clips, [encode_transcript(str(t)) for t in data["texts"]]


def batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Shuffled batches of similar-length utterances (sorted within pools of 50 batches) to limit padding."""
    order = rng.permutation(len(lengths))
    pool = batch_size * 50
    out = []
    for start in range(0, len(order), pool):
        chunk = order[start:start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        out += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [out[i] for i in rng.permutation(len(out))]


def augment(clip: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    audio = clip.astype(np.float32) / 32768.0 * rng.uniform(0.3, 1.0)
    if rng.random() < 0.8:
        audio = add_noise(audio, rng.uniform(5.0, 30.0), rng)
    return np.clip(audio, -1, 1)


def evaluate(model: SmallCtcModel, root: Path) -> float:
    from harness.datasets.librispeech import LibriSpeechSet
    from harness.asr.evaluate import transcribe_set, word_error_rate

    dataset = LibriSpeechSet(root, "test-clean")
    refs, hyps = transcribe_set(model, dataset, LABELS, device="cpu")
    return word_error_rate(refs, hyps).wer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--eval-root", type=Path, default=None)
    parser.add_argument("--steps", type=int, default=1400)
    parser.add_argument("--batch-size", type=int, default=24)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--work", type=Path, default=Path(".cache/asr_small"))
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--out-dir", type=Path, default=ASSETS, help="where asr_small.pt/.md5/.json go")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    rng = np.random.default_rng(SEED)
    clips, targets = load_corpus(args.data)
    lengths = np.array([len(c) for c in clips])
    model = SmallCtcModel(SmallCtcConfig())
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.lr, total_steps=args.steps, pct_start=0.15)
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    step, epoch_batches = 0, []
    ckpt_path = args.work / "checkpoint.pt"
    args.work.mkdir(parents=True, exist_ok=True)
    if args.resume and ckpt_path.exists():
        ckpt = torch.load(ckpt_path, weights_only=False)  # our own checkpoint: holds numpy RNG state
        if ckpt["scheduler"]["total_steps"] != args.steps:
            raise SystemExit(f"{ckpt_path} was written by a run with --steps {ckpt['scheduler']['total_steps']}; "
                             "resume with the same --steps or start afresh without --resume")
        model.load_state_dict(ckpt["model"]); optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"]); step = ckpt["step"]; epoch_batches = ckpt["epoch_batches"]
        rng.bit_generator.state = ckpt["rng"]; torch.set_rng_state(ckpt["torch_rng"])
        print(f"resumed at step {step}", flush=True)
    model.train()
    start, running = time.time(), []
    while step < args.steps:
        if not epoch_batches:
            epoch_batches = batches(lengths, args.batch_size, rng)
        idx = epoch_batches.pop()
        audio = [augment(clips[i], rng) for i in idx]
        n = torch.tensor([len(a) for a in audio])
        wave = torch.zeros(len(audio), int(n.max()))
        for j, a in enumerate(audio):
            wave[j, :len(a)] = torch.from_numpy(a)
        tgt = [torch.tensor(targets[i]) for i in idx]
        emissions, out_lengths = model(wave, n)
        loss = ctc(emissions.transpose(0, 1), torch.cat(tgt), out_lengths, torch.tensor([len(t) for t in tgt]))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step(); scheduler.step(); step += 1
        running.append(loss.item())
        if step % 25 == 0:
            print(f"step {step}/{args.steps} loss {np.mean(running):.3f} lr {scheduler.get_last_lr()[0]:.2e} "
                  f"{(time.time() - start) / 60:.1f} min", flush=True)
            running = []
        if step % args.checkpoint_every == 0 or step == args.steps:
            save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                               "scheduler": scheduler.state_dict(), "step": step, "epoch_batches": epoch_batches,
                               "rng": rng.bit_generator.state, "torch_rng": torch.get_rng_state()}, ckpt_path)
            if args.eval_root:
                model.eval()
                print(f"step {step}: eval WER {evaluate(model, args.eval_root):.4f}", flush=True)
                model.train()
    model.eval()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    weights = args.out_dir / "asr_small.pt"
    save_checkpoint(model.state_dict(), weights)
    write_md5_sidecar(weights)
    info = {"config": SmallCtcConfig().to_dict(), "labels": list(LABELS), "seed": SEED, "steps": args.steps,
            "batch_size": args.batch_size, "lr": args.lr, "train_utterances": len(clips),
            "train_hours": round(float(lengths.sum()) / 16000 / 3600, 3),
            "num_params": sum(p.numel() for p in model.parameters())}
    (args.out_dir / "asr_small.json").write_text(json.dumps(info, indent=1) + "\n")
    print(f"wrote {weights}", flush=True)


if __name__ == "__main__":
    main()
