"""The training losses of the embedded models: SSD's multibox loss has its home beside the SSD head
(harness.detection.ssd.loss), where the derivation's fine-tuning uses it too."""
from harness.detection.ssd.loss import multibox_loss

__all__ = ["multibox_loss"]
