"""The array module behind a tensor: NumPy on the CPU, CuPy (or the strict stand-in) on the GPU.

Ops never branch on the device; they ask the arrays which module they belong to, as Chainer's
``cuda.get_array_module`` does, and call that module's functions. The GPU's module is CuPy when it
is installed, or :mod:`nablab.testing.strict_device`'s ``xp`` while that is enabled (the stand-in
that tests the device paths on the CPU); :func:`gpu_module` says which, None when there is no GPU.
Moving between the two goes through :func:`to_device` and :func:`to_host`.
"""

from __future__ import annotations

import numpy as np

from .errors import DeviceError

try:  # CuPy is an optional extra; without it everything runs on NumPy.
    import cupy as _cupy
except ImportError:  # pragma: no cover - depends on the machine
    _cupy = None


class _GPU:
    """The GPU's array module (CuPy, the stand-in or None)."""

    module = _cupy


def get_array_module(*arrays):
    """Return the module that owns the given arrays: ``numpy``, or the GPU's (CuPy or the stand-in)."""
    gpu = _GPU.module
    return np if gpu is None else gpu.get_array_module(*arrays)


def gpu_module():
    """The array module of the GPU (CuPy, or the stand-in while enabled), None without one."""
    return _GPU.module


def set_gpu_module(module):
    """Make ``module`` the GPU's array module (None: no GPU); returns the previous one."""
    previous, _GPU.module = _GPU.module, module
    return previous


def on_host(array) -> bool:
    """True for a NumPy array (or scalar), False for one on the GPU."""
    return isinstance(array, (np.ndarray, np.generic)) or get_array_module(array) is np


def to_device(array):
    """``array`` on the GPU (itself if it is there already): an upload."""
    gpu = _GPU.module
    if gpu is None:
        raise DeviceError("nablab has no CUDA device here: install CuPy (pip install 'nablab[cuda]') and run on a "
                          "machine with an NVIDIA GPU")
    return gpu.asarray(array)


def to_host(array):
    """``array`` as a NumPy array (itself if it is one already): a download, which waits for the GPU.
    Checks deferred on the device (:func:`check`) are settled first."""
    if on_host(array):
        return array
    settle_checks()
    return array.get()


#: the checks of device values not read yet: (failed flag on the GPU, error class, message function)
_pending: list = []
#: how many checks may wait for a read before they are settled anyway (each holds its arrays)
MAX_PENDING = 256


def check(failed, error: type, message) -> None:
    """Raise ``error(message())`` if the boolean ``failed`` (a 0-d array) is true.

    On the host at once. On a GPU the flag stays there until the next read of the device
    (:func:`to_host`, ``Tensor.item()``, ``.numpy()``, the trainer's read of its losses), as PyTorch's
    device-side asserts do, so that checking an index does not make the GPU wait; ``message`` is
    called only when the check fails (it may read the device to name the culprit).
    """
    if on_host(failed):
        if failed:
            raise error(message())
        return
    _pending.append((failed, error, message))
    if len(_pending) >= MAX_PENDING:  # a loop that never reads the device: settle now and then, not hold them all
        settle_checks()


def read(*arrays) -> list:
    """The arrays (small ones: the trainer's losses, a sum) on the host, with every deferred check settled,
    in one download from a GPU: one wait instead of one per array and per check."""
    device = [a for a in arrays if not on_host(a)]
    if not device:
        return list(arrays)
    xp = get_array_module(device[0])
    pending = _pending[:]
    _pending.clear()
    flat = [xp.asarray(a).astype(np.float64).ravel() for a in [flag for flag, _, _ in pending] + list(arrays)]
    host = xp.concatenate(flat).get()
    for failed, (_, error, message) in zip(host, pending):
        if failed:
            raise error(message())
    out, at = [], len(pending)
    for a in arrays:
        size = int(np.prod(a.shape))
        out.append(host[at:at + size].reshape(a.shape).astype(a.dtype))
        at += size
    return out


def settle_checks() -> None:
    """Read every deferred check's flag in one download and raise the first that failed."""
    if not _pending:
        return
    pending = _pending[:]
    _pending.clear()
    xp = get_array_module(pending[0][0])
    flags = xp.stack([flag for flag, _, _ in pending]).get()
    for failed, (_, error, message) in zip(flags, pending):
        if failed:
            raise error(message())


def like(reference, value):
    """``value`` on the device of the array ``reference``: a host array (an index, a count) given with a
    device array is uploaded, as PyTorch moves a CPU index to the GPU tensor it indexes. Anything else
    (numbers, slices, arrays already there) comes back as it is."""
    if isinstance(value, np.ndarray) and not on_host(reference):
        return to_device(value)
    return value


def is_float_dtype(dtype) -> bool:
    """True for the floating dtypes gradients can flow through."""
    return np.dtype(dtype).kind == "f"
