"""The committed training script: loss goes down, runs are reproducible and resumable."""
from __future__ import annotations

import math

import numpy as np
import torch

from training.loop import warmup_cosine_lr
from training.losses import multibox_loss


def test_a_few_training_steps_reduce_the_loss(train_script, tmp_path):
    torch.set_num_threads(1)
    _, losses, info = train_script.train(8, batch_size=4, lr=3e-3, warmup=1, checkpoint=None, log_every=0)
    assert len(losses) == 8 and all(math.isfinite(v) for v in losses)
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:2])
    assert info["steps_done"] == 8


def test_interrupted_run_resumes_to_the_same_weights(train_script, tmp_path):
    torch.set_num_threads(1)
    full, full_losses, _ = train_script.train(4, batch_size=2, lr=1e-3, warmup=1, checkpoint=None, log_every=0)
    ckpt = tmp_path / "ckpt.pt"
    # max_minutes=0 stops after the first step, leaving a checkpoint; resume finishes the schedule.
    train_script.train(4, batch_size=2, lr=1e-3, warmup=1, max_minutes=0, checkpoint=ckpt, log_every=0)
    assert torch.load(ckpt, weights_only=False)["step"] == 1
    resumed, resumed_losses, _ = train_script.train(4, batch_size=2, lr=1e-3, warmup=1, checkpoint=ckpt,
                                                    resume=True, log_every=0)
    assert resumed_losses == full_losses
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_schedule_warms_up_then_decays(train_script):
    lrs = [warmup_cosine_lr(s, 100, 1.0, 10) for s in range(100)]
    assert lrs[0] == 0.1 and lrs[9] == 1.0 and lrs[10] == 1.0
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] > 0.02


def test_multibox_loss_known_answers():
    gt_locs = torch.zeros(1, 5, 4)
    gt_labels = torch.tensor([[2, 0, 0, 0, 0]])
    logits = torch.zeros(1, 5, 3)
    # uniform logits: one positive + 3 hard negatives, each CE = ln 3; no loc error
    assert torch.isclose(multibox_loss(torch.zeros(1, 5, 4), logits, gt_locs, gt_labels), torch.tensor(4 * math.log(3)))
    # a loc error of 2 on one coordinate of the positive adds smooth-L1 = 2 - 0.5
    pred_locs = torch.zeros(1, 5, 4)
    pred_locs[0, 0, 1] = 2.0
    assert torch.isclose(multibox_loss(pred_locs, logits, gt_locs, gt_labels), torch.tensor(4 * math.log(3) + 1.5))
    # the hard negatives are the highest-loss background anchors
    logits[0, 4, 1] = 5.0
    expected = 3 * math.log(3) + float(torch.nn.functional.cross_entropy(logits[0, 4:5], torch.tensor([0])))
    assert torch.isclose(multibox_loss(torch.zeros(1, 5, 4), logits, gt_locs, gt_labels), torch.tensor(expected))
