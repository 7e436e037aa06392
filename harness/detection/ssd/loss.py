"""SSD multibox loss as NVIDIA ssd_resnet's ``Loss``: smooth L1 on positives + cross-entropy with 3:1 hard negatives,
and the training batches of the generated shapes stream it is computed on (targets by ``assign_targets``)."""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from harness.detection.ssd.default_boxes import DefaultBoxesConfig, assign_targets


def multibox_loss(pred_locs: torch.Tensor, pred_logits: torch.Tensor, gt_locs: torch.Tensor,
                  gt_labels: torch.Tensor, neg_ratio: int = 3) -> torch.Tensor:
    """Mean over images of (loc + conf loss) / number of positives; shapes (B, N, 4), (B, N, C), (B, N, 4), (B, N)."""
    positive = gt_labels > 0
    num_pos = positive.sum(dim=1)
    loc = (F.smooth_l1_loss(pred_locs, gt_locs, reduction="none").sum(dim=2) * positive).sum(dim=1)
    ce = F.cross_entropy(pred_logits.permute(0, 2, 1), gt_labels, reduction="none")
    # Hard negative mining: the neg_ratio * num_pos background anchors with the largest loss.
    neg_ce = ce.clone()
    neg_ce[positive] = 0
    _, order = neg_ce.sort(dim=1, descending=True)
    _, rank = order.sort(dim=1)
    negative = rank < torch.clamp(neg_ratio * num_pos, max=positive.size(1)).unsqueeze(-1)
    conf = (ce * (positive | negative)).sum(dim=1)
    total = loc + conf
    has_pos = (num_pos > 0).float()
    return (total * has_pos / num_pos.float().clamp(min=1e-6)).mean()


def shapes_batch(step: int, batch_size: int, anchors: np.ndarray, config: DefaultBoxesConfig,
                 seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Inputs and targets of training step ``step``: images ``step*B .. step*B+B-1`` of the generated stream
    ``seed`` (deterministic), preprocessed, with each default box's offsets and label."""
    from harness.datasets.synthetic_shapes import IMAGE_SIZE, generate_sample
    from harness.detection.ssd.preprocess import preprocess

    samples = [generate_sample(seed, step * batch_size + i) for i in range(batch_size)]
    images = torch.from_numpy(preprocess(np.stack([s.image for s in samples])))
    locs, labels = zip(*(assign_targets(s.boxes / IMAGE_SIZE, s.labels, anchors, config) for s in samples))
    return images, torch.from_numpy(np.stack(locs)), torch.from_numpy(np.stack(labels))
