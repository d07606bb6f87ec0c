"""Fast kernels, kept apart from the reference ops they speed up, and the switch that turns them off.

Every op in :mod:`nablab.ops` and every update rule in :mod:`nablab.optim` is the textbook version:
short, device-generic, with its derivation in the docstring. A *kernel* is a faster
implementation of one of them for the cases it handles (a CPU convolution working channels-last,
an optimizer updating in cache-sized blocks, a Linear and its ReLU as one node); it registers
itself here with a predicate saying which calls it takes::

    kernels.register(ops.Conv2d, Conv2dNHWC, when=lambda x, w, b=None, **p: p["stride"] == 1 ...)

and :func:`select` hands each call the first kernel that takes it, or the reference when none
does. A kernel computes the same function as its reference (the same numbers, or the same up to
float rounding where it orders its sums differently); the tests run both and compare them.

``use_reference()`` (or the environment variable ``NABLAB_REFERENCE=1``) runs everything on the
reference path: to read what runs, to test the kernels against it, or to rule a kernel out when
something looks wrong. It works as a call and as a context manager::

    nablab.kernels.use_reference()           # from now on, in every thread
    with nablab.kernels.use_reference():     # inside the block only
        ...
"""

from __future__ import annotations

import os

from ..backend import _GPU, on_host

#: reference → ((when, kernel), ...) in the order the kernels were registered
_registry: dict = {}


def _env_reference() -> bool:
    return os.environ.get("NABLAB_REFERENCE", "").strip().lower() not in ("", "0", "false", "no")


class _Switch:
    """The process-wide flag: True while every call goes to the reference."""

    reference = _env_reference()


state = _Switch()


class use_reference:  # noqa: N801 - used as a function and as a context manager, like torch.no_grad
    """Run every op and update on its reference implementation (``enabled=False``: on the kernels).

    Takes effect at the call; as a context manager it restores the previous setting on exit.
    """

    def __init__(self, enabled: bool = True):
        self.previous = state.reference
        state.reference = bool(enabled)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        state.reference = self.previous
        return False


def reference_only() -> bool:
    """True while the kernels are switched off."""
    return state.reference


def register(reference, kernel, when) -> None:
    """Offer ``kernel`` for the calls of ``reference`` for which ``when(*args, **params)`` is true."""
    _registry[reference] = _registry.get(reference, ()) + ((when, kernel),)


def _on_cpu(args) -> bool:
    """True unless an array among ``args`` lives on a GPU (asked only where there is one)."""
    return _GPU.module is None or all(on_host(a) for a in args if hasattr(a, "shape"))


def select(reference, *args, **params):
    """The implementation to run ``reference(*args, **params)`` with: the first registered kernel
    whose predicate accepts the call, else ``reference`` itself (always, under :func:`use_reference`,
    and for arrays on a GPU: the kernels here are CPU kernels)."""
    candidates = _registry.get(reference)
    if candidates and not state.reference and _on_cpu(args):
        for when, kernel in candidates:
            if when(*args, **params):
                return kernel
    return reference


def registered(reference=None):
    """The kernels registered for ``reference`` (for all references: a dict), for inspection."""
    if reference is None:
        return {ref: tuple(k for _, k in pairs) for ref, pairs in _registry.items()}
    return tuple(k for _, k in _registry.get(reference, ()))
