"""An integer number outside a small integer tensor's range wraps around, as in PyTorch (uint8 + (−1)
adds 255), instead of raising NumPy's OverflowError."""

import numpy as np
import pytest

import nablab


@pytest.mark.torch
@pytest.mark.parametrize("dtype", ["uint8", "int8", "int16", "int32"])
@pytest.mark.parametrize("number", [-1, 300, -300, 70000, 2**40])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "eq", "lt"])
def test_out_of_range_numbers_wrap_as_torch(dtype, number, op):
    torch = pytest.importorskip("torch")
    values = [0, 1, 100, 127]
    ours = {"add": lambda a: a + number, "sub": lambda a: a - number, "mul": lambda a: a * number,
            "eq": lambda a: a == number, "lt": lambda a: a < number}[op]
    n, t = ours(nablab.tensor(values, dtype=dtype)), ours(torch.tensor(values, dtype=getattr(torch, dtype)))
    assert str(n.dtype) == str(t.dtype).removeprefix("torch.")
    np.testing.assert_array_equal(n.numpy(), t.numpy())
