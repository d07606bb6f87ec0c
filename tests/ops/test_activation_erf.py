"""The vectorised error function behind the exact GELU, and its complement, against the standard
library's math.erf and math.erfc."""

import math

import numpy as np
import pytest

from nablab.ops.special import erf, erfc


def _reference(x, fn=math.erf):
    return np.array([fn(float(v)) for v in np.ravel(x)]).reshape(np.shape(x))


@pytest.mark.parametrize(
    "grid",
    [
        np.linspace(-6.0, 6.0, 120001),  # every interval of the approximation and its joints
        np.linspace(-30.0, 30.0, 6001),  # the tails, out to where erfc underflows
        np.concatenate([-np.logspace(-300, 0.5, 2000), np.logspace(-300, 0.5, 2000)]),  # tiny arguments
        np.array([0.46875, -0.46875, np.nextafter(0.46875, 1), 4.0, -4.0, np.nextafter(4.0, 5), 26.5, 27.3]),
    ],
    ids=["dense", "tails", "tiny", "joints"],
)
def test_erf_is_accurate_to_float64_rounding(grid):
    got, expected = erf(grid), _reference(grid)
    relative = np.abs(got - expected) / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    assert relative.max() <= 1e-15
    assert got.dtype == np.float64


def test_erf_special_values_and_symmetry():
    x = np.array([0.0, -0.0, np.inf, -np.inf, 1e300, -1e300])
    np.testing.assert_array_equal(erf(x), [0.0, -0.0, 1.0, -1.0, 1.0, -1.0])
    assert np.signbit(erf(np.array(-0.0)))
    assert np.isnan(erf(np.array([np.nan]))).all()
    grid = np.linspace(0, 8, 1001)
    np.testing.assert_array_equal(erf(-grid), -erf(grid))


def test_erf_keeps_the_floating_dtype_and_promotes_integers():
    x32 = np.linspace(-5, 5, 2001, dtype=np.float32)
    got = erf(x32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, _reference(x32), rtol=4e-7, atol=1e-7)
    assert erf(np.array([1, 2])).dtype == np.float64
    assert erf(np.float16(0.5)).dtype == np.float16
    assert erf(np.array(0.5)).shape == ()


@pytest.mark.parametrize(
    "grid",
    [np.linspace(-6.0, 27.0, 66001), np.concatenate([-np.logspace(-300, 0.5, 1000), np.logspace(-300, 1.4, 2000)])],
    ids=["dense_and_tail", "tiny_and_wide"],
)
def test_erfc_keeps_its_digits_in_the_tail(grid):
    got, expected = erfc(grid), _reference(grid, math.erfc)
    relative = np.abs(got - expected) / np.maximum(np.abs(expected), np.finfo(np.float64).tiny)
    assert relative.max() <= 2e-15
    x32 = grid[np.abs(grid) < 9].astype(np.float32)
    np.testing.assert_allclose(erfc(x32), _reference(x32, math.erfc), rtol=1e-6)
    assert erfc(x32).dtype == np.float32


def test_erfc_special_values():
    np.testing.assert_array_equal(erfc(np.array([0.0, np.inf, -np.inf, 30.0, -30.0])), [1.0, 0.0, 2.0, 0.0, 2.0])
    assert np.isnan(erfc(np.array(np.nan)))
    assert erfc(np.array(1.0)).shape == ()
