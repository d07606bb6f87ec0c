"""Every test here runs with a "cuda" device: the strict stand-in (nablab.testing.strict_device), or,
with ``NABLAB_TEST_GPU=cupy``, a real GPU through CuPy (see device_checks.py)."""

import pytest
from device_checks import ON_GPU

import nablab
from nablab.testing import strict_device


@pytest.fixture(autouse=True)
def stand_in_gpu():
    if ON_GPU:
        if not nablab.cuda.is_available():
            pytest.fail("NABLAB_TEST_GPU=cupy, but CuPy sees no GPU here")
        yield nablab.backend.gpu_module()
        return
    with strict_device.enable() as xp:
        yield xp
