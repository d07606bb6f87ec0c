"""Switching a model's train/eval mode for a block and giving every module back its own mode.

``model.eval()`` … ``model.train(was_training)`` sets every sub-module to the top-level flag on
the way back, so a sub-module the user had put in evaluation mode (a frozen BatchNorm inside a
training model) would be training again. :func:`evaluating` records each module's
own ``training`` flag and restores exactly those flags, whatever happens in the block.
"""

from __future__ import annotations

import contextlib

__all__ = ["evaluating"]


@contextlib.contextmanager
def evaluating(model):
    """``with evaluating(model): …`` runs the block with ``model`` in evaluation mode (``model.eval()``);
    afterwards every module has the ``training`` flag it had before (also when the block raises)."""
    saved = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, flag in saved:
            object.__setattr__(module, "training", flag)

