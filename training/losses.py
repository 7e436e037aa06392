"""SSD multibox loss as NVIDIA ssd_resnet's ``Loss``: smooth L1 on positives + cross-entropy with 3:1 hard negatives."""
from __future__ import annotations

import torch
import torch.nn.functional as F


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
