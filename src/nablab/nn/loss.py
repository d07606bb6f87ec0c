"""Loss layers, for code written in PyTorch's ``criterion = nn.CrossEntropyLoss()`` style."""

from __future__ import annotations

from . import functional as F
from .module import Module


class CrossEntropyLoss(Module):
    """Fused softmax cross-entropy of logits against integer labels (see ``F.cross_entropy``)."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, logits, labels):
        return F.cross_entropy(logits, labels, self.reduction)


class MSELoss(Module):
    """Mean squared error."""

    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = reduction

    def forward(self, x, target):
        return F.mse_loss(x, target, self.reduction)

__all__ = ["CrossEntropyLoss", "MSELoss"]
