"""The math API's own rules (no PyTorch needed): erfc against math.erfc, the dim/axis spellings, the
(values, indices) pairs, the free functions, and the errors for bad dims and dtypes."""

import math

import numpy as np
import pytest

import nablab
from nablab import math_functions, return_types
from nablab.errors import DimError, ShapeError
from nablab.ops.error_function import erfc


def test_erfc_matches_math_erfc_to_rounding_on_a_dense_grid_with_tails():
    x = np.concatenate([np.linspace(-6, 6, 120001), np.linspace(6, 27, 21001), [0.46875, -0.46875, 4.0, 26.9]])
    ours = erfc(x)
    expected = np.array([math.erfc(v) for v in x])
    normal = expected > 1e-300  # below, the result is subnormal and has fewer digits
    relative = np.abs(ours - expected)[normal] / expected[normal]
    assert relative.max() < 2e-15  # a few units in the last place (ε = 2.2e-16)
    assert np.all(np.abs(ours - expected)[~normal] < 1e-300)


def test_erfc_of_special_values_and_dtypes():
    np.testing.assert_array_equal(erfc(np.array([np.inf, -np.inf, 0.0, 40.0])), [0.0, 2.0, 1.0, 0.0])
    assert np.isnan(erfc(np.array([np.nan]))[0])
    assert erfc(np.array(0.5)).shape == () and erfc(np.float32([1.0])).dtype == np.float32


def test_numpy_spellings_are_aliases_of_dim_and_keepdim():
    x = nablab.tensor(np.arange(24.0).reshape(2, 3, 4))
    for name in ("sum", "mean", "prod", "amax", "amin", "logsumexp", "var", "std"):
        a = getattr(x, name)(dim=(0, 2), keepdim=True)
        b = getattr(x, name)(axis=(0, 2), keepdims=True)
        np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert a.shape == (1, 3, 1)
    with pytest.raises(TypeError, match="both dim= and"):
        x.sum(dim=1, axis=1)
    assert x.argmax(axis=1, keepdims=True).shape == (2, 1, 4)
    assert x.cumsum(axis=1).shape == x.shape


def test_max_with_dim_is_a_pair_and_with_axis_the_values():
    x = nablab.tensor([[1.0, 5.0, 2.0], [4.0, 0.0, 3.0]], requires_grad=True)
    pair = x.max(1)
    assert isinstance(pair, return_types.max) and type(pair).__name__ == "max"
    values, indices = pair
    np.testing.assert_array_equal(values.numpy(), [5.0, 4.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == np.int64 and pair.indices is indices
    assert isinstance(x.max(axis=1), nablab.Tensor) and isinstance(x.min(dim=(0, 1)), nablab.Tensor)
    assert x.max().shape == () and x.min(dim=0, keepdim=True).values.shape == (1, 3)
    assert x.max(1, keepdims=True).indices.shape == (2, 1)
    assert x.logical_and(np.array([True, False, True])).tolist() == [[True, False, True], [True, False, True]]
    np.testing.assert_array_equal(x.max(nablab.tensor([2.0, 2.0, 2.0])).numpy(), [[2.0, 5.0, 2.0], [4.0, 2.0, 3.0]])
    values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])


def test_every_free_function_is_exported_by_nablab():
    for name in math_functions.__all__:
        # nablab's is the same function taking PyTorch's out= as well (nablab.functions)
        assert getattr(nablab, name).__wrapped__ is getattr(math_functions, name), name
    assert nablab.sin(0.0).dtype == np.float32 and nablab.sum([1, 2, 3]).item() == 6
    values, indices = nablab.sort(nablab.tensor([3.0, 1.0, 2.0]), descending=True)
    assert indices.tolist() == [0, 2, 1]


@pytest.mark.parametrize("call", [
    lambda x: x.sum(dim=2), lambda x: x.max(-3), lambda x: x.sort(2), lambda x: x.cumsum(5),
    lambda x: x.argmax(2), lambda x: x.median(-3), lambda x: x.topk(1, dim=2),
])
def test_a_dim_out_of_range_is_a_dim_error(call):
    with pytest.raises(DimError, match="out of range") as caught:
        call(nablab.tensor(np.ones((2, 3))))
    assert isinstance(caught.value, IndexError)


@pytest.mark.parametrize(("call", "message"), [
    (lambda: nablab.tensor([1, 2]).mean(), "dtype must be floating"),
    (lambda: nablab.tensor([1, 2]).var(), "needs a floating tensor"),
    (lambda: nablab.tensor([1, 2]).norm(), "needs a floating tensor"),
    (lambda: nablab.tensor([1.5]) & 1, "integer and boolean"),
    (lambda: ~nablab.tensor([1.5]), "integer and boolean"),
    (lambda: nablab.tensor([True]) % nablab.tensor([True]), "boolean"),
    (lambda: nablab.tensor([True]).floor(), "boolean"),
])
def test_wrong_dtypes_are_type_errors(call, message):
    with pytest.raises(TypeError, match=message):
        call()


def test_mean_of_integers_with_a_dtype_and_sums_of_booleans():
    assert nablab.tensor([1, 2]).mean(dtype="float64").item() == 1.5
    s = nablab.tensor([True, True, False]).sum()
    assert s.dtype == np.int64 and s.item() == 2


def test_topk_with_k_too_large_and_clamp_without_bounds():
    with pytest.raises(ShapeError, match="k=4"):
        nablab.tensor([1.0, 2.0, 3.0]).topk(4)
    with pytest.raises(ValueError, match="at least one of min and max"):
        nablab.tensor([1.0]).clamp()


def test_integer_division_by_zero_is_an_error():
    with pytest.raises(ZeroDivisionError):
        nablab.tensor([4, 5]) // 0
    assert (nablab.tensor([-7, 7]) // 2).tolist() == [-4, 3] and (nablab.tensor([-7, 7]) % 3).tolist() == [2, 1]


def test_floor_division_has_no_gradient_and_rounding_has_zero_gradient():
    x = nablab.tensor([1.5, -2.5], requires_grad=True)
    assert not (x // 2).requires_grad
    (x.floor() + x.round() + x.sign() + x.frac()).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])
