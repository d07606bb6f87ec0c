"""Loss and accuracy of a model over a loader, in eval mode and without recording a graph.

A classifier's logits (N, C) are scored against labels (N,); a language model's logits (N, T, V)
against the next tokens (N, T), every one of the N·T positions counting as one prediction
(:func:`per_token`), so means are per token, not per sequence.
"""

from __future__ import annotations

import numpy as np

from ..backend import read
from ..device import model_device
from ..grad_mode import no_grad
from ..nn import functional as F
from ..nn.modes import evaluating


def per_token(logits, targets):
    """``(logits, targets)`` with a sequence's positions flattened into the batch: (N, T, V), (N, T) →
    (N·T, V), (N·T,); a classifier's (N, C), (N,) are returned as they are."""
    if logits.ndim == 3:
        return logits.reshape(-1, logits.shape[-1]), targets.reshape(-1)
    return logits, targets


def evaluate(model, loader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` over ``loader`` (per example, or per token for a
    language model); every module keeps its own mode. The batches go to the model's device, and the
    sums stay there (in float64) until the one read at the end."""
    device = model_device(model)
    total_loss, correct, count = 0.0, 0, 0
    with evaluating(model), no_grad():
        for x, y in loader:
            logits, y = per_token(model(x.to(device)), y.to(device))
            total_loss = total_loss + F.cross_entropy(logits, y, reduction="sum").data.astype(np.float64)
            correct = correct + (logits.data.argmax(axis=1) == y.data).sum()
            count += len(y)
    total_loss, correct = read(total_loss, correct)  # one wait for a GPU
    return float(total_loss) / max(count, 1), int(correct) / max(count, 1)
