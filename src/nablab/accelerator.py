"""``nablab.accelerator``: PyTorch's device-agnostic questions (``torch.accelerator``).

The only accelerator nablab knows is a CUDA GPU through CuPy; without one, ``is_available()`` is
False and ``current_accelerator()`` None, so a script falls back to ``device("cpu")`` as it would
with PyTorch on a machine without a GPU.
"""

from __future__ import annotations

from .device import device, gpu_count


def is_available() -> bool:
    return gpu_count() > 0


def current_accelerator(check_available: bool = False) -> device | None:
    """The accelerator device (``device("cuda")``), or None when there is none."""
    return device("cuda") if gpu_count() > 0 else None


def device_count() -> int:
    return gpu_count()
