"""The kernel registry and its switch: use_reference() as a call and as a context manager, the
NABLAB_REFERENCE environment variable, and select() handing calls to kernels only when they take them."""

import os
import subprocess
import sys

import numpy as np

import nablab
from nablab import kernels, ops
from nablab.kernels.cpu.conv import Conv2dNHWC
from nablab.nn import functional as F


def _conv_node(stride):
    x = nablab.tensor(np.ones((1, 2, 5, 5)), requires_grad=True)
    w = nablab.tensor(np.ones((3, 2, 3, 3)), requires_grad=True)
    return type(F.conv2d(x, w, stride=stride, padding=1).creator)


def test_select_gives_a_kernel_only_for_the_calls_it_takes_and_none_on_the_reference_path():
    assert not kernels.reference_only()
    assert _conv_node(1) is Conv2dNHWC
    assert _conv_node(2) is ops.Conv2d  # stride 2: the kernel does not take it
    with kernels.use_reference():
        assert kernels.reference_only() and _conv_node(1) is ops.Conv2d
        with kernels.use_reference(False):
            assert _conv_node(1) is Conv2dNHWC
        assert kernels.reference_only()
    assert not kernels.reference_only() and _conv_node(1) is Conv2dNHWC


def test_use_reference_as_a_call_switches_until_switched_back():
    try:
        kernels.use_reference()
        assert _conv_node(1) is ops.Conv2d
    finally:
        kernels.use_reference(False)
    assert _conv_node(1) is Conv2dNHWC


def test_register_and_select_for_any_callable():
    def reference(x):
        return "reference"

    def kernel(x):
        return "kernel"

    kernels.register(reference, kernel, when=lambda x: x > 0)
    try:
        assert kernels.select(reference, 1) is kernel and kernels.select(reference, -1) is reference
        assert kernels.registered(reference) == (kernel,)
        with kernels.use_reference():
            assert kernels.select(reference, 1) is reference
    finally:
        del kernels._registry[reference]


def test_the_environment_variable_starts_a_process_on_the_reference_path():
    code = ("import nablab, numpy as np; from nablab.nn import functional as F; "
            "x = nablab.tensor(np.ones((1, 2, 5, 5)), requires_grad=True); "
            "print(nablab.kernels.reference_only(), type(F.conv2d(x, x[:, :, :3, :3]).creator).__name__)")
    for value, expected in (("1", "True Conv2d"), ("0", "False Conv2dNHWC")):
        env = {**os.environ, "NABLAB_REFERENCE": value}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.split() == expected.split()
