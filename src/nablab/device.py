"""Devices: ``nablab.device("cpu")``, ``nablab.accelerator`` and ``nablab.cuda``, PyTorch's names.

A tensor's device is where its array lives: NumPy arrays on the CPU, CuPy arrays on a GPU. Without
CuPy and a GPU the only device is the CPU; code written for PyTorch (``x.to(device)``,
``torch.accelerator.is_available()``) then runs unchanged on the CPU.
"""

from __future__ import annotations

from .backend import gpu_module, on_host
from .errors import DeviceError

_TYPES = ("cpu", "cuda")


class device:  # noqa: N801 - PyTorch's name
    """A device: ``device("cpu")``, ``device("cuda")``, ``device("cuda:1")``, ``device("cuda", 0)``.

    Compares equal to another device of the same type and index and to its string form
    (``x.device == "cpu"``).
    """

    def __init__(self, type, index: int | None = None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index if index is None else index
        if not isinstance(type, str):
            raise TypeError(f"device() takes a string such as 'cpu' or 'cuda:0', got {type!r}")
        name, _, number = type.partition(":")
        if name not in _TYPES:
            raise RuntimeError(f"unknown device type {name!r}: nablab knows {', '.join(_TYPES)}")
        if number:
            if index is not None:
                raise RuntimeError(f"device {type!r} already names an index, and index={index} was given too")
            if not number.isdigit():
                raise RuntimeError(f"invalid device string {type!r}: the index after ':' must be a number")
            index = int(number)
        if index is not None and (name == "cpu" and index != 0 or index < 0):
            raise RuntimeError(f"invalid device index {index} for {name!r}")
        self.type, self.index = name, index

    def __eq__(self, other):
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"


def gpu_count() -> int:
    """The number of GPUs CuPy can use (0 without CuPy or a GPU; 1 while the strict stand-in is enabled)."""
    module = gpu_module()
    if module is None:
        return 0
    if not hasattr(module, "cuda"):  # nablab.testing.strict_device
        return 1
    try:
        return int(module.cuda.runtime.getDeviceCount())
    except Exception:  # CuPy installed but no driver or device
        return 0


def device_of(array) -> device:
    """The device an array lives on."""
    if on_host(array):
        return device("cpu")
    return device("cuda", int(array.device.id))


def resolve(target) -> device:
    """A device from what ``Tensor.to`` and ``Module.to`` accept; a GPU that is not there is an error."""
    target = device(target)
    if target.type == "cuda" and gpu_count() == 0:
        raise DeviceError("nablab has no CUDA device here: install CuPy (pip install 'nablab[cuda]') and run on a "
                          "machine with an NVIDIA GPU (check nablab.cuda.is_available() or "
                          "nablab.accelerator.is_available() first)")
    return target


class _Default:
    """Where the creation functions put a tensor when no ``device=`` is given."""

    device = device("cpu")


def set_default_device(target) -> None:
    """Make ``target`` the device of new tensors and parameters (``torch.set_default_device``): the creation
    functions (``tensor``, ``zeros``, ``randn``, …) and layers' parameters are made there when no ``device=`` is
    given. ``None`` means the CPU."""
    _Default.device = device("cpu") if target is None else resolve(target)


def get_default_device() -> device:
    """The device new tensors are made on (``torch.get_default_device``)."""
    return _Default.device


def default_or(target):
    """``target``, or the default device when ``target`` is None and the default is not the CPU (else None)."""
    if target is None and _Default.device.type != "cpu":
        return _Default.device
    return target


def model_device(model) -> device:
    """The device of a module's parameters (the CPU for a module without any, or for None)."""
    for p in model.parameters() if model is not None else ():
        return device_of(p.data)
    return device("cpu")
