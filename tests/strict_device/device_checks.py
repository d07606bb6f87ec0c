"""What "the same on the device" means in these tests, on the stand-in and on a real GPU.

On the strict stand-in (the default, in CI) the device computes with NumPy, so its results equal the
CPU reference bit for bit, and every host sync is counted. With ``NABLAB_TEST_GPU=cupy`` the same
tests run on a real GPU through CuPy (``benchmarks/gpu_check.sh``): results then agree to float
rounding (cuBLAS and the GPU's reductions order their sums differently), and syncs are not counted.
"""

import os

import numpy as np

ON_GPU = os.environ.get("NABLAB_TEST_GPU", "").strip().lower() == "cupy"


def assert_same(actual, expected, err_msg=""):
    """Bit for bit on the stand-in; on a GPU to float rounding (1e-9 relative in float64, 1e-4 in float32)."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    if not ON_GPU:
        np.testing.assert_array_equal(actual, expected, err_msg=err_msg)
        return
    tolerance = 1e-9 if expected.dtype == np.float64 else 1e-4
    np.testing.assert_allclose(actual, expected, rtol=tolerance, atol=tolerance, err_msg=err_msg)


def assert_syncs(count, expected: int, at_most: bool = False):
    """The stand-in's count of host syncs is ``expected`` (or at most that); a GPU's are not counted."""
    if ON_GPU:
        return
    if at_most:
        assert count.syncs <= expected, f"{count.syncs} host syncs, at most {expected} expected: {count.where}"
    else:
        assert count.syncs == expected, f"{count.syncs} host syncs, {expected} expected: {count.where}"


def same_records(actual: list[dict], expected: list[dict]):
    """Metrics records equal (on a GPU: their numbers to float rounding)."""
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        assert a.keys() == e.keys(), (a, e)
        for key in a:
            if isinstance(e[key], float):
                assert_same(a[key], e[key], err_msg=key)
            else:
                assert a[key] == e[key], key
