"""Loss and accuracy of a model over a loader, in eval mode and without recording a graph."""

from __future__ import annotations

from ..grad_mode import no_grad
from ..nn import functional as F
from ..nn.modes import evaluating


def evaluate(model, loader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` over ``loader``; every module keeps its own mode."""
    total_loss, correct, count = 0.0, 0, 0
    with evaluating(model), no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.data.argmax(axis=1) == y.data).sum())
            count += len(y)
    return total_loss / max(count, 1), correct / max(count, 1)
