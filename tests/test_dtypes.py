"""PyTorch's numeric semantics without PyTorch: type promotion, pow gradients at 0, 0-d reductions, arange.

tests/torch_parity/test_dtype_promotion_vs_torch.py checks the same against PyTorch itself.
"""

from __future__ import annotations

import numpy as np
import pytest

import nablab
from nablab import dtypes


def t(values, dtype):
    return nablab.tensor(values, dtype=dtype)


# --------------------------------------------------------------------------- the rule
@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        ("uint8", "int8", "int16"),
        ("int16", "float16", "float16"),
        ("uint8", "bool", "uint8"),
        ("int64", "float16", "float16"),
        ("float16", "float32", "float32"),
        ("int32", "float32", "float32"),
        ("bool", "bool", "bool"),
    ],
)
def test_promote_types_is_pytorchs_table(a, b, want):
    assert dtypes.promote_types(a, b) == want and dtypes.promote_types(b, a) == want


def test_result_type_priority_groups():
    ints, halves = t([1, 2], "int32"), t([1.0], "float16")
    assert dtypes.result_type(ints, 0.5) == np.float32  # a Python float is the default float
    assert dtypes.result_type(ints, 2) == np.int32  # a number never widens its category
    assert dtypes.result_type(ints, t(2, "int64")) == np.int32  # nor does a 0-d tensor
    assert dtypes.result_type(ints, t(2.5, "float64")) == np.float64  # a 0-d float beats dimensioned ints
    assert dtypes.result_type(halves, t(2.5, "float64")) == np.float16
    assert dtypes.result_type(t(True, "bool"), 3) == np.int64
    assert dtypes.result_type(t([True], "bool"), True) == np.bool_
    assert dtypes.result_type(1, 2.5) == np.float32
    with pytest.raises(TypeError, match="complex"):
        dtypes.result_type(np.zeros(2, dtype=complex), 1)


# --------------------------------------------------------------------------- the reported truncations
def test_integer_tensor_times_a_float_is_float32():
    y = nablab.tensor([1, 2, 3]) * 0.5
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [0.5, 1.0, 1.5])


def test_integer_tensor_plus_a_float_is_float32():
    y = nablab.tensor([1, 2, 3]) + 0.5
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y.numpy(), [1.5, 2.5, 3.5])


def test_float_to_an_integer_tensor_power_is_float32():
    y = 2.5 ** nablab.tensor([1, 2, 3])
    assert y.dtype == np.float32
    np.testing.assert_allclose(y.numpy(), [2.5, 6.25, 15.625])


def test_numbers_on_either_side():
    x = nablab.tensor([1, 2, 4])
    for y, want in [(0.5 * x, [0.5, 1, 2]), (1.0 - x, [0, -1, -3]), (2 / x, [2, 1, 0.5]), (x**0.5, [1, 2**0.5, 2])]:
        assert y.dtype == np.float32
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-6)
    assert (x * 2).dtype == (2 - x).dtype == (x**2).dtype == np.int64
    assert (t([1, 2], "int8") + 1).dtype == np.int8
    assert (t([1.0], "float16") * 0.1).dtype == np.float16
    assert (nablab.tensor([True, False]) + 1).dtype == np.int64


# --------------------------------------------------------------------------- float32 where NumPy gives float64
def test_true_division_of_integers_is_float32():
    a, b = nablab.tensor([1, 2, 3]), nablab.tensor([2, 2, 2])
    assert (a / b).dtype == (a / 2).dtype == (nablab.tensor([True]) / nablab.tensor([True])).dtype == np.float32
    np.testing.assert_array_equal((a / b).numpy(), [0.5, 1.0, 1.5])
    # each operand goes straight to float: −2 (int8, 0-d) over uint8 is −2.0, not 254 / x
    np.testing.assert_array_equal((t(-2, "int8") / t([1, 2], "uint8")).numpy(), [-2.0, -1.0])


@pytest.mark.parametrize("int_dtype", ["int32", "int64", "uint8", "bool"])
def test_float32_with_an_integer_tensor_is_float32(int_dtype):
    x = t([1.5, 2.5], "float32")
    ints = t([1, 2], int_dtype)
    mask = nablab.tensor([True, False])
    for y in (x + ints, ints * x, x / ints, nablab.maximum(x, ints), nablab.where(mask, x, ints)):
        assert y.dtype == np.float32


def test_float_arange_is_float32_and_integer_arange_int64():
    assert nablab.arange(0.0, 3.0).dtype == nablab.arange(0, 1, 0.25).dtype == nablab.arange(2.5).dtype == np.float32
    np.testing.assert_array_equal(nablab.arange(0, 1, 0.25).numpy(), [0.0, 0.25, 0.5, 0.75])
    assert nablab.arange(5).dtype == nablab.arange(0, 10, 3).dtype == np.int64
    assert nablab.arange(0, 3, dtype="float64").dtype == np.float64


# --------------------------------------------------------------------------- gradients keep their dtype
def test_float32_with_float64_is_float64_and_each_gradient_keeps_its_dtype():
    a = t([1.0, 2.0], "float32").requires_grad_()
    b = t([3.0, 4.0], "float64").requires_grad_()
    y = a * b
    assert y.dtype == np.float64
    y.sum().backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3.0, 4.0])


def test_integer_tensor_times_a_parameter_gives_a_float32_gradient():
    w = t([0.5, -1.0], "float32").requires_grad_()
    y = nablab.tensor([2, 3]) * w
    assert y.dtype == np.float32
    y.sum().backward()
    assert w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 3.0])


def test_same_dtypes_add_no_cast_node():
    a, b = t([1.0], "float32").requires_grad_(), t([2.0], "float32")
    assert (a + b).creator.inputs == (a, b)
    assert type((a + t([2.0], "float64")).creator.inputs[0].creator).__name__ == "Cast"


def test_matmul_does_not_promote():
    with pytest.raises(TypeError, match="float32.*float64"):
        t([[1.0]], "float32") @ t([[1.0]], "float64")
    with pytest.raises(RuntimeError, match="int64.*float32"):
        nablab.tensor([[1]]) @ nablab.tensor([[1.0]])


# --------------------------------------------------------------------------- comparisons
def test_comparisons_compare_promoted_values_and_give_bool():
    x = nablab.tensor([0, 1])
    for y, want in [(x < 0.5, [True, False]), (x >= 0.5, [False, True]), (0.5 > x, [True, False])]:
        assert y.dtype == np.bool_
        np.testing.assert_array_equal(y.numpy(), want)
    # compared in float16 (PyTorch's promotion), where 2049 is 2048; NumPy would compare in float64
    assert (nablab.tensor([2049]) == t([2048.0], "float16")).tolist() == [True]


# --------------------------------------------------------------------------- what PyTorch refuses
def test_refused_as_in_pytorch():
    bools, ints = nablab.tensor([True, False]), nablab.tensor([1, 2])
    for refused in (lambda: bools - bools, lambda: bools - 1, lambda: ints - True, lambda: 1.0 - bools):
        with pytest.raises(TypeError, match="subtract"):
            refused()
    with pytest.raises(TypeError, match="boolean"):
        bools**bools
    with pytest.raises(ValueError, match="negative integer powers"):
        ints**-1
    assert (bools**True).dtype == np.bool_ and (bools**2).dtype == np.int64


# --------------------------------------------------------------------------- pow at 0
@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_gradient_of_x_to_the_zero_is_zero_at_zero():
    x = t([0.0, 1.0, -2.0], "float64").requires_grad_()
    (x**0.0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_gradient_of_zero_to_the_y_is_zero_for_y_at_least_zero():
    y = t([0.0, 0.5, 2.0], "float64").requires_grad_()
    (0**y).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0.0, 0.0, 0.0])
    b = t([0.0, 0.5, 2.0], "float64").requires_grad_()
    (t([0.0, 0.0, 0.0], "float64") ** b).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), [0.0, 0.0, 0.0])


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_gradient_of_a_to_the_b_is_masked_where_b_is_zero():
    a = t([0.0, 0.0, 2.0], "float64").requires_grad_()
    b = t([0.0, 2.0, 3.0], "float64").requires_grad_()
    (a**b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 0.0, 12.0])  # b·a^(b−1)
    np.testing.assert_allclose(b.grad.numpy(), [0.0, 0.0, 8 * np.log(2.0)], rtol=1e-15)  # a^b·ln a


def test_python_number_base_differentiates_in_the_exponent():
    y = t([0.0, 1.0, 2.0], "float64").requires_grad_()
    (2.5**y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), 2.5 ** np.arange(3.0) * np.log(2.5), rtol=1e-15)


# --------------------------------------------------------------------------- 0-d reductions
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min"])
def test_a_0d_tensor_reduces_over_axis_0_and_minus_1(name, axis):
    s = t(2.5, "float64").requires_grad_()
    y = getattr(s, name)(axis=axis)  # NumPy's spelling gives the values (dim= gives values and indices)
    assert y.shape == () and y.item() == 2.5
    y.backward()
    assert s.grad.item() == 1.0
    assert getattr(s, name)(axis=axis, keepdims=True).shape == ()


def test_0d_sum_axis_1_is_still_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        nablab.tensor(1.0).sum(1)


@pytest.mark.parametrize("axis", [None, 0, -1])
def test_argmax_and_argmin_of_a_0d_tensor(axis):
    s = nablab.tensor(2.5)
    assert s.argmax(axis).item() == s.argmin(axis).item() == 0 and s.argmax(axis).dtype == np.int64
