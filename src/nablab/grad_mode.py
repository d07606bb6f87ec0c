"""Switching graph recording on and off: ``nablab.no_grad()`` and ``nablab.enable_grad()``."""

from __future__ import annotations

import contextlib
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    """True while operations record the graph for ``backward``."""
    return getattr(_state, "enabled", True)


def set_grad_enabled(mode: bool) -> None:
    _state.enabled = bool(mode)


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


def enable_grad():
    """Context manager that records the graph again inside a ``no_grad`` block."""
    return _grad_mode(True)
