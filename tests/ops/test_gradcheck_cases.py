"""Every op's backward against central differences in float64 (the registered cases), on the CPU
kernels and on the reference path; every registered kernel is exercised by some case; and the dtype
rule: a float32 graph produces float32 gradients."""

import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import nablab
from nablab import gradcheck_cases, kernels, ops
from nablab.function import Function
from nablab.kernels.cpu.gelu import GELUFloat32


@pytest.mark.parametrize("path", ["kernels", "reference"])
@pytest.mark.parametrize("name", list(gradcheck_cases.CASES))
def test_backward_matches_central_differences(name, path):
    case = gradcheck_cases.CASES[name]
    with kernels.use_reference(path == "reference"):
        [(_, _, errors)] = list(gradcheck_cases.run({name: case}))
    assert max(errors) < 1e-6
    if case.smooth:
        assert max(errors) < 1e-8, f"{name}: smooth op with errors {errors}"


def _ops_in_package():
    """Every Function subclass defined in a module of ``nablab.ops``, exported from the package or not."""
    found = set()
    for info in pkgutil.walk_packages(ops.__path__, prefix="nablab.ops."):
        module = importlib.import_module(info.name)
        found |= {cls for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, Function) and cls.__module__ == info.name}
    return found


def test_every_op_has_a_gradient_check():
    all_ops = _ops_in_package()
    assert ops.Conv2d in all_ops and ops.Add in all_ops
    missing = sorted(cls.__name__ for cls in all_ops - gradcheck_cases.covered_ops())
    assert not missing, f"ops without a registered gradient check: {missing}"


FLOAT32_ONLY_KERNELS = {GELUFloat32}


def test_every_kernel_of_an_op_is_run_by_a_gradient_check(node_types):
    ran = set()
    with kernels.use_reference(False):
        for case in gradcheck_cases.CASES.values():
            inputs = [nablab.tensor(x, dtype="float64", requires_grad=x.dtype.kind == "f")
                      for x in case.make_inputs(np.random.default_rng(0))]
            ran |= node_types(case.fn(*inputs))
    node_kernels = set()
    for impls in kernels.registered().values():
        for impl in impls:  # Function subclasses, or their bound apply (a fused pair)
            cls = getattr(impl, "__self__", impl)
            if isinstance(cls, type) and issubclass(cls, Function):
                node_kernels.add(cls)
    assert node_kernels, "no kernel registered"
    # float32-only kernels cannot run in a float64 check: their forward and backward are compared with
    # the exact float64 values instead, in tests/kernels/test_op_kernels.py
    node_kernels -= FLOAT32_ONLY_KERNELS
    missing = sorted(cls.__name__ for cls in node_kernels - ran)
    assert not missing, f"kernels no gradient check runs: {missing}"


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
