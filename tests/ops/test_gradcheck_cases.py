"""Every op's backward against central differences in float64 (the registered cases), and the
dtype rule: a float32 graph produces float32 gradients."""

import inspect

import numpy as np
import pytest

import nablab
from nablab import gradcheck_cases, ops
from nablab.function import Function


@pytest.mark.parametrize("name", list(gradcheck_cases.CASES))
def test_backward_matches_central_differences(name):
    case = gradcheck_cases.CASES[name]
    [(_, _, errors)] = list(gradcheck_cases.run({name: case}))
    assert max(errors) < 1e-6
    if case.smooth:
        assert max(errors) < 1e-8, f"{name}: smooth op with errors {errors}"


def test_every_op_has_a_gradient_check():
    all_ops = {cls for _, cls in inspect.getmembers(ops, inspect.isclass) if issubclass(cls, Function)}
    missing = sorted(cls.__name__ for cls in all_ops - gradcheck_cases.covered_ops())
    assert not missing, f"ops without a registered gradient check: {missing}"


@pytest.mark.parametrize("name", [n for n in gradcheck_cases.CASES if n != "cast"])
def test_gradients_keep_the_float32_dtype(name):
    case = gradcheck_cases.CASES[name]
    inputs = [nablab.tensor(x.astype(np.float32), requires_grad=True)
              for x in case.make_inputs(np.random.default_rng(0))]
    out = case.fn(*inputs)
    assert out.dtype == np.float32, f"{name} forward gave {out.dtype}"
    out.sum().backward()
    for t in inputs:
        assert t.grad is not None
        assert t.grad.dtype == np.float32, f"{name} backward gave {t.grad.dtype}"


def test_check_reports_a_wrong_backward():
    class BadSquare(Function):
        def forward(self, x):
            self.x = x
            return x * x

        def backward(self, gy):
            return (gy * self.x,)  # missing the factor 2

    [error] = nablab.gradcheck.check(lambda a: BadSquare.apply(a), [np.array([1.0, -2.0, 3.0])])
    assert error > 0.4
