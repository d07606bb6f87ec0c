"""PyTorch's meaning of the shape methods and of indexing, checked without PyTorch (the parity
suite, tests/torch_parity/test_shape_vs_torch.py, checks everything against it where installed)."""

import numpy as np
import pytest

import nablab
from nablab.errors import DimError


def _x(*shape):
    return nablab.tensor(np.arange(float(np.prod(shape))).reshape(shape), dtype="float64")


def test_transpose_swaps_two_dims_and_refuses_numpys_spelling():
    x = _x(2, 3)
    np.testing.assert_array_equal(x.transpose(0, 1).numpy(), x.numpy().T)
    assert _x(2, 3, 4).transpose(0, -1).shape == (4, 3, 2)
    assert nablab.transpose(_x(2, 3, 4), 1, 2).shape == (2, 4, 3)
    with pytest.raises(TypeError, match="permute"):
        _x(2, 3, 4).transpose(2, 0, 1)
    with pytest.raises(TypeError, match="permute"):
        _x(2, 3).transpose((1, 0))
    assert _x(2, 3, 4).permute(2, 0, 1).shape == (4, 2, 3)


def test_integers_are_applied_before_the_advanced_indices():
    """NumPy gives (2, 3) for x[0, :, [0, 1]] (the 0 joins the list, separated by the slice)."""
    x = _x(2, 3, 4)
    assert x[0, :, [0, 1]].shape == (3, 2)
    np.testing.assert_array_equal(x[0, :, [0, 1]].numpy(), x.numpy()[0][:, [0, 1]])
    assert x[[0, 1], :, [0, 1]].shape == (2, 3)  # two lists apart: their shape goes first, as in NumPy
    assert x[nablab.tensor(1), :, [0, 2]].shape == (3, 2)  # a 0-d tensor is an integer


def test_negative_steps_and_out_of_range_indices_are_errors():
    with pytest.raises(ValueError, match="step"):
        _x(3)[::-1]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 0 with size 3"):
        _x(3, 2)[[0, 3]]
    with pytest.raises(DimError):
        _x(3, 2).squeeze(2)


def test_setitem_gradient_goes_to_the_written_values_not_the_overwritten_ones():
    a = nablab.tensor(np.ones((2, 3)), dtype="float64", requires_grad=True)
    v = nablab.tensor([5.0, 6.0], dtype="float64", requires_grad=True)
    y = a * 2.0
    y[:, 1] = v
    (y * nablab.tensor(np.arange(6.0).reshape(2, 3), dtype="float64")).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0.0, 0.0, 4.0], [6.0, 0.0, 10.0]])
    np.testing.assert_array_equal(v.grad.numpy(), [1.0, 4.0])


def test_repeat_is_numpys_tile_and_repeat_interleave_repeats_elements():
    x = _x(2)
    np.testing.assert_array_equal(x.repeat(2).numpy(), [0.0, 1.0, 0.0, 1.0])
    np.testing.assert_array_equal(x.repeat_interleave(2).numpy(), [0.0, 0.0, 1.0, 1.0])


def test_cat_and_stack_promote_dtypes():
    a = nablab.tensor([1.0], dtype="float32")
    b = nablab.tensor([2.0], dtype="float64")
    assert nablab.cat([a, b]).dtype == np.float64
    assert nablab.stack([nablab.tensor([1]), a]).dtype == np.float32
