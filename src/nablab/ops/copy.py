"""Ops that copy a tensor: ``clone`` (same device, new memory) and the move between devices."""

from __future__ import annotations

from ..backend import on_host, to_device, to_host
from ..function import Function


class Clone(Function):
    """y = a copy of x in new memory;  dL/dx = dL/dy."""

    saves_inputs = False

    def forward(self, x):
        return x.copy()

    def backward(self, gy):
        return (gy,)


def _move(array, target_type: str):
    """``array`` on the device type ``target_type`` ("cpu" or "cuda"), itself if it is there already."""
    return to_device(array) if target_type == "cuda" else to_host(array)


class ToDevice(Function):
    """y = x on another device (the same values);  dL/dx = dL/dy moved back to x's device."""

    saves_inputs = False

    def __init__(self, device_type: str):
        self.device_type = device_type

    def forward(self, x):
        self.source = "cpu" if on_host(x) else "cuda"
        return _move(x, self.device_type)

    def backward(self, gy):
        return (_move(gy, self.source),)
