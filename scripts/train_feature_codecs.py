#!/usr/bin/env python
"""Train seed 003's learnt feature coders at one split of the embedded SSD and ship them as one weights bundle.

The detector is the shipped ``ssd_small.onnx`` loaded into its torch architecture and frozen: part 1 and
part 2 stay bit for bit the models the ``ssd`` cells run, so a coder is trained for the part 2 it will feed.
At the cut module of the ONNX split (``training.compression_augment.find_cut_module``) a forward hook replaces
the features by the coder's reconstruction; the loss is seed 003's

    L = R + lambda * (L_det + beta * D)

R: the entropy model's bits per element of the cut feature map (-Σ log2 p(ŷ) / elements), L_det: the SSD
multibox loss of the frozen part 2 on the reconstruction (training.losses), D: the feature MSE normalised by
the features' mean square, a small guide (``--beta``, recorded) that keeps the early steps from wandering
while L_det is still flat. CompressAI's auxiliary quantile loss trains the entropy bottlenecks' medians on a
second optimiser, as CompressAI's own examples do.

Variants (each resumable from ``.cache/feature_codecs/<variant>.pt``, atomic checkpoints):
  learnt   prior in {factorized, hyper} x N_r x lambda   (``--nr``, ``--lambdas``, ``--priors``)
  scalable hyperprior layers of N_r channels (``--scalable-layers``), the task loss of every number l of layers
           received weighted by 2^(l-1)
  pca      principal components of the cut features over calibration images (channel vectors per position),
           plus a learnt 1x1 convolution after the reconstruction from l layers, for each l

Batch ``s`` is images ``s*B .. s*B+B-1`` of the training stream at ``--data-offset`` (held out from the
detector's own training when the offset is past it). The bundle (``harness/assets/feature_codecs_ssd_small.pt``,
md5 beside it) holds every finished variant with its entropy tables already built (``update(force=True)``), so
that every machine range-codes with the same integer CDFs.

    nice .venv/bin/python scripts/train_feature_codecs.py --steps 600 --threads 1
"""
from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.coders.learnt_nets import FeatureCodecNet, ScalableFeatureCodecNet, rate_bits  # noqa: E402
from harness.coders.learnt_bundle import (  # noqa: E402
    BUNDLE_PATH, pca_basis, strip_rebuilt, variant_key, weights_digest,
)
from harness.datasets.synthetic_shapes import EVAL_SEED, NUM_CLASSES  # noqa: E402
from harness.detection.ssd.default_boxes import DefaultBoxesConfig, default_boxes_xywh  # noqa: E402
from harness.detection.ssd.ssd_small import ssd_from_onnx  # noqa: E402
from training.compression_augment import find_cut_module  # noqa: E402
from training.losses import multibox_loss  # noqa: E402
from training.loop import save_checkpoint, warmup_cosine_lr, write_md5_sidecar  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from train_ssd_small import make_batch  # noqa: E402

ASSETS = REPO / "harness" / "assets"
CACHE = REPO / ".cache" / "feature_codecs"


class Detector:
    """The frozen shipped SSD with a hook at the cut module that swaps in whatever ``self.replace`` returns."""

    def __init__(self, onnx_path: Path, split: int) -> None:
        self.config = DefaultBoxesConfig()
        self.anchors = default_boxes_xywh(self.config)
        self.model = ssd_from_onnx(str(onnx_path), NUM_CLASSES, self.config)
        for parameter in self.model.parameters():
            parameter.requires_grad_(False)
        probe = make_batch(0, 1, self.anchors, self.config, seed=EVAL_SEED)[0]
        self.cut = find_cut_module(self.model, onnx_path, split, probe)
        self.replace = None
        self.features: torch.Tensor | None = None
        module = dict(self.model.named_modules())[self.cut.module_name]
        module.register_forward_hook(self._hook)

    def _hook(self, module, inputs, output):
        self.features = output.detach().clone()
        # contiguous: part 2 views its head outputs, which a permuted (PCA) or channels-last tensor breaks
        return None if self.replace is None else self.replace(self.features).contiguous()

    def batch(self, step: int, batch_size: int, offset: int):
        return make_batch(step + offset, batch_size, self.anchors, self.config)

    def features_of(self, images: torch.Tensor) -> torch.Tensor:
        self.replace = None
        with torch.no_grad():
            self.model(images)
        return self.features

    def loss_with(self, images, gt_locs, gt_labels, replace) -> torch.Tensor:
        """Multibox loss of part 2 on ``replace(features)`` (gradients flow into ``replace`` only)."""
        self.replace = replace
        try:
            locs, logits = self.model(images)
        finally:
            self.replace = None
        return multibox_loss(locs, logits, gt_locs, gt_labels)


def distortion(recon: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return ((recon - x) ** 2).mean() / (x ** 2).mean().clamp(min=1e-12)


def _entropy_bottlenecks(net: torch.nn.Module) -> list:
    from compressai.entropy_models import EntropyBottleneck
    return [m for m in net.modules() if isinstance(m, EntropyBottleneck)]


def train_net(name: str, net: torch.nn.Module, step_loss, args, log) -> dict:
    """Shared loop: main + auxiliary optimisers, warm-up/cosine schedule, atomic resumable checkpoints."""
    main_params = [p for n, p in net.named_parameters() if not n.endswith("quantiles")]
    aux_params = [p for n, p in net.named_parameters() if n.endswith("quantiles")]
    optimizer = torch.optim.Adam(main_params, lr=args.lr)
    aux = torch.optim.Adam(aux_params, lr=1e-3) if aux_params else None
    checkpoint = CACHE / f"{name}.pt"
    start, history, elapsed_before = 0, [], 0.0
    if checkpoint.exists():
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        if aux is not None:
            aux.load_state_dict(state["aux"])
        start, history, elapsed_before = state["step"], state["history"], state["elapsed_s"]
        log(f"{name}: resumed at step {start}")
    t0 = time.monotonic()
    net.train()
    for step in range(start, args.steps):
        torch.manual_seed(args.seed * 1_000_003 + step)  # additive noise of the entropy models, per step
        for group in optimizer.param_groups:
            group["lr"] = warmup_cosine_lr(step, args.steps, args.lr, args.warmup)
        loss, parts = step_loss(step)
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{name}: loss became {loss.item()} at step {step}; lower --lr")
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(main_params, args.clip)
        optimizer.step()
        if aux is not None:
            aux.zero_grad()
            aux_loss = sum(m.loss() for m in _entropy_bottlenecks(net))
            aux_loss.backward()
            aux.step()
        history.append(parts)
        elapsed = elapsed_before + time.monotonic() - t0
        done = step + 1 == args.steps
        if (step + 1) % args.log_every == 0 or done:
            recent = {k: round(float(np.mean([h[k] for h in history[-args.log_every:]])), 4) for k in parts}
            log(f"{name}: step {step + 1}/{args.steps} {recent} elapsed {elapsed:.0f}s")
        if (step + 1) % args.checkpoint_every == 0 or done:
            state = {"net": net.state_dict(), "optimizer": optimizer.state_dict(), "step": step + 1,
                     "history": history, "elapsed_s": elapsed}
            if aux is not None:
                state["aux"] = aux.state_dict()
            save_checkpoint(state, checkpoint)
    net.eval()
    from compressai.entropy_models import GaussianConditional
    from harness.coders.learnt_nets import scale_table
    for module in net.modules():  # the integer CDF tables every machine range-codes with
        if isinstance(module, GaussianConditional):
            module.update_scale_table(scale_table(), force=True)
    for bottleneck in _entropy_bottlenecks(net):
        bottleneck.update(force=True)
    final = {k: round(float(np.mean([h[k] for h in history[-50:]])), 5) for k in history[-1]} if history else {}
    return {"steps": args.steps, "batch_size": args.batch_size, "lr": args.lr, "beta": args.beta, "clip": args.clip,
            "seed": args.seed, "data_offset": args.data_offset, "train_seconds": round(elapsed_before + time.monotonic() - t0, 1),
            "final": final}


def learnt_variant(detector: Detector, prior: str, nr: int, lam: float, args, log, init: dict | None = None) -> dict:
    """One rate point; ``init``: a trained variant of the same prior and N_r to fine-tune from (CompressAI's
    usual way to a rate sweep: one long training, then each lambda from it), for ``--finetune-steps``."""
    from harness.coders.learnt import _load_state

    channels = detector.cut_shape[0]
    torch.manual_seed(args.seed)
    net = FeatureCodecNet(channels, nr, prior)
    if init is not None:
        _load_state(net, init["state_dict"])
        args = argparse.Namespace(**{**vars(args), "steps": args.finetune_steps, "warmup": 0})
    elements = float(np.prod(detector.cut_shape))

    def step_loss(step):
        images, gt_locs, gt_labels = detector.batch(step, args.batch_size, args.data_offset)
        x = detector.features_of(images)
        recon, likelihoods = net(x)
        bpe = rate_bits(likelihoods) / (len(x) * elements)
        det = detector.loss_with(images, gt_locs, gt_labels, lambda _: recon)
        dist = distortion(recon, x)
        return bpe + lam * (det + args.beta * dist), {"bpe": bpe.item(), "det": det.item(), "dist": dist.item()}

    key = variant_key("learnt", prior=prior, nr=nr, lam=lam)
    info = train_net(key, net, step_loss, args, log)
    if init is not None:
        info["fine_tuned_from"] = variant_key("learnt", prior=prior, nr=nr, lam=init["lambda"])
    return {"kind": "learnt", "prior": prior, "nr": nr, "lambda": lam, "state_dict": net.state_dict(),
            "training": info}


def scalable_variant(detector: Detector, nr: int, layers: int, lam: float, args, log) -> dict:
    channels = detector.cut_shape[0]
    torch.manual_seed(args.seed)
    net = ScalableFeatureCodecNet(channels, nr, layers)
    elements = float(np.prod(detector.cut_shape))

    def stage_loss(stage: int):
        """Stage ``stage`` (1..layers): the first ``stage`` layers, each number l <= stage of layers received
        weighted by 2^(l-1) (later layers pay for themselves only by what they add)."""
        def step_loss(step):
            images, gt_locs, gt_labels = detector.batch(step + (stage - 1) * stage_steps, args.batch_size,
                                                        args.data_offset)
            x = detector.features_of(images)
            recons, likelihoods = net(x)
            recons, likelihoods = recons[:stage], likelihoods[:stage]
            bpe = sum(rate_bits(lik) for lik in likelihoods) / (len(x) * elements)
            dets = [detector.loss_with(images, gt_locs, gt_labels, lambda _, r=r: r) for r in recons]
            dists = [distortion(r, x) for r in recons]
            weights = [2.0 ** l for l in range(stage)]
            task = sum(w * (d + args.beta * e) for w, d, e in zip(weights, dets, dists)) / sum(weights)
            return bpe + lam * task, {"bpe": bpe.item(), "det_1": dets[0].item(), "det_last": dets[-1].item(),
                                      "dist_last": dists[-1].item()}
        return step_loss

    # progressive (a curriculum): layer 1 is first trained alone, as a single-rate coder; then each stage adds
    # a layer and trains all received so far. Trained jointly from the start, the layers after the first
    # learnt nothing in a test run (every extra layer only cost bits while layer 1 was still poor).
    key = variant_key("learnt-scalable", nr=nr, lam=lam)
    stage_steps = max(1, args.steps // layers)
    infos = []
    for stage in range(1, layers + 1):
        sub = argparse.Namespace(**{**vars(args), "steps": stage_steps, "warmup": args.warmup if stage == 1 else 0})
        infos.append(train_net(f"{key}-stage{stage}", net, stage_loss(stage), sub, log))
    info = {**infos[-1], "stages": [i["final"] for i in infos], "steps": stage_steps * layers,
            "train_seconds": round(sum(i["train_seconds"] for i in infos), 1), "schedule": "progressive"}
    return {"kind": "learnt-scalable", "nr": nr, "layers": layers, "lambda": lam, "state_dict": net.state_dict(),
            "training": info}


def pca_variant(detector: Detector, components: int, layers: int, args, log) -> dict:
    calibration = [detector.features_of(detector.batch(i, args.batch_size, args.data_offset + 10_000)[0])
                   for i in range(args.pca_batches)]
    mean, basis = pca_basis(torch.cat(calibration).numpy(), components * layers)
    channels = detector.cut_shape[0]
    mean_t, basis_t = torch.from_numpy(mean), torch.from_numpy(basis)  # (C,), (K, C)
    refiners = {}
    for received in range(1, layers + 1):
        torch.manual_seed(args.seed)
        conv = torch.nn.Sequential(torch.nn.Conv2d(channels, channels, 1), torch.nn.ReLU())
        with torch.no_grad():  # start at the identity: the refinement can only learn to improve the PCA
            conv[0].weight.copy_(torch.eye(channels).view(channels, channels, 1, 1))
            conv[0].bias.zero_()
        kept = basis_t[:components * received]

        def reconstruct(x, kept=kept):
            v = x.permute(0, 2, 3, 1) - mean_t
            return ((v @ kept.T) @ kept + mean_t).permute(0, 3, 1, 2).contiguous()

        def step_loss(step, conv=conv, reconstruct=reconstruct):
            images, gt_locs, gt_labels = detector.batch(step, args.batch_size, args.data_offset)
            x = detector.features_of(images)
            recon = conv(reconstruct(x))
            det = detector.loss_with(images, gt_locs, gt_labels, lambda _: recon)
            dist = distortion(recon, x)
            return det + args.beta * dist, {"det": det.item(), "dist": dist.item()}

        sub = argparse.Namespace(**{**vars(args), "steps": args.pca_steps})
        info = train_net(variant_key("pca-refine", layers=received), conv, step_loss, sub, log)
        refiners[received] = {"state_dict": conv.state_dict(), "training": info}
    return {"kind": "pca", "components_per_layer": components, "layers": layers, "mean": mean, "basis": basis,
            "calibration_images": args.pca_batches * args.batch_size, "refiners": refiners}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", type=int, default=90)
    parser.add_argument("--detector", type=Path, default=ASSETS / "ssd_small.onnx")
    parser.add_argument("--priors", default="hyper,factorized")
    parser.add_argument("--nr", default="16,32")
    parser.add_argument("--lambdas", default="0.0025,0.01,0.04,0.16")
    parser.add_argument("--init-lambda", type=float, default=0.08,
                        help="the rate point trained from scratch; the others are fine-tuned from it")
    parser.add_argument("--finetune-steps", type=int, default=300)
    parser.add_argument("--factorized-nr", type=int, default=16, help="N_r of the factorized-prior variants")
    parser.add_argument("--scalable-layers", type=int, default=4)
    parser.add_argument("--scalable-nr", type=int, default=8)
    parser.add_argument("--scalable-lambda", type=float, default=0.04)
    parser.add_argument("--repack", action="store_true", help="rewrite the bundle's variants as shipped now")
    parser.add_argument("--retrain-scalable", action="store_true", help="replace the bundle's scalable variant")
    parser.add_argument("--pca-components", type=int, default=4, help="principal components per PCA layer")
    parser.add_argument("--pca-batches", type=int, default=8)
    parser.add_argument("--pca-steps", type=int, default=150)
    parser.add_argument("--only", default="learnt,scalable,pca")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--beta", type=float, default=1.0)
    parser.add_argument("--clip", type=float, default=10.0, help="gradient norm clipping of the main optimiser")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data-offset", type=int, default=4800)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--log-every", type=int, default=25)
    parser.add_argument("--checkpoint-every", type=int, default=50)
    parser.add_argument("--out", type=Path, default=BUNDLE_PATH)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    CACHE.mkdir(parents=True, exist_ok=True)
    log = lambda message: print(message, flush=True)  # noqa: E731
    detector = Detector(args.detector, args.split)
    probe = detector.features_of(detector.batch(0, 1, args.data_offset)[0])
    detector.cut_shape = tuple(probe.shape[1:])
    bundle = torch.load(args.out, map_location="cpu", weights_only=False) if args.out.exists() else None
    header = {"detector": args.detector.name, "detector_md5": hashlib.md5(args.detector.read_bytes()).hexdigest(),
              "split": args.split, "tensor": detector.cut.tensor_name, "shape": list(detector.cut_shape),
              "torch": torch.__version__, "command": " ".join(["scripts/train_feature_codecs.py", *(argv or sys.argv[1:])])}
    if bundle is None or bundle["tensor"] != header["tensor"]:
        bundle = {**header, "variants": {}}
    log(f"cut {detector.cut.tensor_name} {detector.cut_shape} at torch module {detector.cut.module_name}")
    only = set(args.only.split(","))

    def ship(key: str, variant: dict) -> None:
        if "state_dict" in variant:
            variant["state_dict"] = strip_rebuilt(variant["state_dict"])
        variant["digest"] = weights_digest(variant)
        bundle["variants"][key] = variant
        bundle.update({k: v for k, v in header.items() if k != "command"})
        save_checkpoint(bundle, args.out)
        log(f"shipped {key} into {args.out.name} (md5 {write_md5_sidecar(args.out)})")

    if args.repack:  # variants shipped before the bundle left the rebuilt tables out
        for key, variant in list(bundle["variants"].items()):
            ship(key, variant)
        return 0
    lambdas = [float(x) for x in args.lambdas.split(",")]
    if "learnt" in only:
        first = args.init_lambda if args.init_lambda in lambdas else lambdas[0]
        ordered = [first] + [lam for lam in lambdas if lam != first]
        jobs = [(p, nr, lam) for p in args.priors.split(",")
                for nr in ([int(x) for x in args.nr.split(",")] if p == "hyper" else [args.factorized_nr])
                for lam in ordered]
        for prior, nr, lam in jobs:
            key = variant_key("learnt", prior=prior, nr=nr, lam=lam)
            base = bundle["variants"].get(variant_key("learnt", prior=prior, nr=nr, lam=first))
            if key not in bundle["variants"]:
                ship(key, learnt_variant(detector, prior, nr, lam, args, log, None if lam == first else base))
    if "scalable" in only:
        key = variant_key("learnt-scalable", nr=args.scalable_nr, lam=args.scalable_lambda)
        if args.retrain_scalable:
            bundle["variants"].pop(key, None)
        if key not in bundle["variants"]:
            ship(key, scalable_variant(detector, args.scalable_nr, args.scalable_layers, args.scalable_lambda,
                                       args, log))
    if "pca" in only:
        key = variant_key("pca", components=args.pca_components)
        if key not in bundle["variants"]:
            ship(key, pca_variant(detector, args.pca_components, args.scalable_layers, args, log))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
