"""Every parity test runs twice: on the CPU kernels and on the reference path (nablab.kernels.use_reference)."""

import pytest

from nablab import kernels


@pytest.fixture(autouse=True, params=["kernels", "reference"])
def path(request):
    with kernels.use_reference(request.param == "reference"):
        yield request.param
