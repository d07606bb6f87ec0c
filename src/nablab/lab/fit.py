"""A plain training loop: epochs of minibatch steps with a progress bar, evaluation per epoch.

(The lab issue grows this into the Trainer with run folders, checkpoints and reports.)
"""

from __future__ import annotations

import time

import numpy as np

from ..grad_mode import no_grad
from ..nn import functional as F


def evaluate(model, loader) -> tuple[float, float]:
    """Mean cross-entropy and accuracy of ``model`` over ``loader``, in eval mode, without a graph."""
    was_training = model.training
    model.eval()
    total_loss, correct, count = 0.0, 0, 0
    with no_grad():
        for x, y in loader:
            logits = model(x)
            total_loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += int((logits.data.argmax(axis=1) == y.data).sum())
            count += len(y)
    model.train(was_training)
    return total_loss / max(count, 1), correct / max(count, 1)


def _progress(iterable, total, desc, enabled):
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the lab extra brings tqdm; without it, one line per epoch is printed
        return iterable
    # disable=None: no bar when the output is not a terminal (logs, CI) — the epoch lines remain
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True, disable=None)


def fit(model, optimizer, train_loader, val_loader=None, epochs: int = 10, scheduler=None,
        progress: bool = True, log=print) -> dict:
    """Train ``model`` with cross-entropy; returns the history of losses and accuracies.

    History keys: ``loss`` (per step), ``train_loss``/``train_acc`` (running means per epoch),
    ``val_loss``/``val_acc`` (per epoch, when ``val_loader`` is given), ``lr``, ``seconds``.
    """
    history = {k: [] for k in ("loss", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds")}
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        model.train()
        losses, correct, count = [], 0, 0
        bar = _progress(train_loader, len(train_loader), f"epoch {epoch}/{epochs}", progress)
        for x, y in bar:
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            value = loss.item()
            if not np.isfinite(value):
                raise FloatingPointError(f"the loss became {value} at epoch {epoch}, step {len(losses) + 1}; "
                                         "is the learning rate too high?")
            losses.append(value)
            correct += int((logits.data.argmax(axis=1) == y.data).sum())
            count += len(y)
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{value:.4f}", acc=f"{correct / count:.3f}", refresh=False)
        history["loss"] += losses
        history["train_loss"].append(float(np.mean(losses)))
        history["train_acc"].append(correct / max(count, 1))
        history["lr"].append(optimizer.param_groups[0]["lr"])
        line = f"epoch {epoch}/{epochs}: loss {history['train_loss'][-1]:.4f}, train acc {history['train_acc'][-1]:.4f}"
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, val_loader)
            history["val_loss"].append(val_loss)
            history["val_acc"].append(val_acc)
            line += f", val loss {val_loss:.4f}, val acc {val_acc:.4f}"
        if scheduler is not None:
            scheduler.step()
        history["seconds"].append(time.perf_counter() - start)
        if log is not None:
            log(line)
    return history
