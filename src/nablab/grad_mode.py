"""Switching graph recording on and off: ``nablab.no_grad()`` and ``nablab.enable_grad()``."""

from __future__ import annotations

import contextlib
import threading


class _GradMode(threading.local):
    """Per-thread switch; a thread starts with recording on (the class attribute), so reading it
    never goes through a missing-attribute lookup (this is read by every op)."""

    enabled = True


state = _GradMode()


def is_grad_enabled() -> bool:
    """True while operations record the graph for ``backward``."""
    return state.enabled


def set_grad_enabled(mode: bool) -> None:
    state.enabled = bool(mode)


@contextlib.contextmanager
def _grad_mode(mode: bool):
    previous = is_grad_enabled()
    set_grad_enabled(mode)
    try:
        yield
    finally:
        set_grad_enabled(previous)


def no_grad():
    """Context manager (and decorator) in which no graph is recorded, e.g. for evaluation."""
    return _grad_mode(False)


def inference_mode(mode: bool = True):
    """``no_grad`` under PyTorch's name for it (``mode=False``: recording stays as it is switched now).
    PyTorch's inference tensors (refused later in a graph) have no counterpart: here they are ordinary
    tensors computed without a graph."""
    return _grad_mode(False) if mode else contextlib.nullcontext()


def enable_grad():
    """Context manager that records the graph again inside a ``no_grad`` block."""
    return _grad_mode(True)
