"""``nablab.cuda``: what ``torch.cuda`` tells a script about NVIDIA GPUs (through CuPy)."""

from __future__ import annotations

from .device import gpu_count


def is_available() -> bool:
    """True when CuPy can reach at least one GPU."""
    return gpu_count() > 0


def device_count() -> int:
    return gpu_count()


def manual_seed(seed: int) -> None:
    """Accepted for PyTorch scripts: nablab has one generator for all devices (``nablab.manual_seed``)."""
    from .random import manual_seed as seed_all

    seed_all(seed)


manual_seed_all = manual_seed
