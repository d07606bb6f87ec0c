"""``nablab.autograd``: custom Functions (``ctx.save_for_backward``, ``saved_tensors``, several
outputs, PyTorch 2's ``setup_context``) and ``autograd.grad``/``autograd.backward``, against PyTorch.

The custom function is pytorch/tutorials' ``LegendrePolynomial3`` (examples_autograd/
polynomial_custom_function.py): P₃(x) = ½(5x³ − 3x), dP₃/dx = 1.5(5x² − 1).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab.gradcheck import check  # noqa: E402

pytestmark = pytest.mark.torch


def _legendre(lib):
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return grad_output * 1.5 * (5 * x ** 2 - 1)

    return LegendrePolynomial3


def _split_scale(lib):
    """Two outputs, a non-tensor argument, and a gradient of None for it."""
    class SplitScale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, k):
            ctx.save_for_backward(x, w)
            ctx.k = k
            return x * w * k, (x - w).exp()

        @staticmethod
        def backward(ctx, ga, gb):
            x, w = ctx.saved_tensors
            e = (x - w).exp()
            return ga * w * ctx.k + gb * e, ga * x * ctx.k - gb * e, None

    return SplitScale


def _setup_context_form(lib):
    class Square(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x * x

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])

        @staticmethod
        def backward(ctx, gy):
            (x,) = ctx.saved_tensors
            return 2 * x * gy

    return Square


def test_the_tutorials_legendre_function_trains_as_in_torch():
    losses = {}
    for lib in (nablab, torch):
        p3 = _legendre(lib).apply
        x = lib.linspace(-np.pi, np.pi, 200, dtype=lib.float64)
        y = lib.sin(x)
        a, b, c, d = (lib.full((), v, dtype=lib.float64, requires_grad=True) for v in (0.0, -1.0, 0.0, 0.3))
        history = []
        for _ in range(50):
            loss = ((a + b * p3(c + d * x) - y) ** 2).sum()
            history.append(loss.item())
            loss.backward()
            with lib.no_grad():
                for p in (a, b, c, d):
                    p -= 5e-6 * p.grad
                    p.grad = None
        losses[lib.__name__] = history
    np.testing.assert_allclose(losses["nablab"], losses["torch"], rtol=1e-10)
    assert losses["nablab"][-1] < losses["nablab"][0]


@pytest.mark.parametrize("make", [_legendre, _split_scale, _setup_context_form])
def test_custom_function_gradients_equal_torchs_and_central_differences(make):
    rng = np.random.default_rng(0)
    values = [rng.normal(size=(3, 4)) for _ in range(2)]
    grads = {}
    for lib in (nablab, torch):
        fn = make(lib)
        xs = [lib.tensor(v, requires_grad=True) for v in values]
        args = (xs[0], xs[1], 0.5) if make is _split_scale else (xs[0],)
        out = fn.apply(*args)
        outs = out if isinstance(out, tuple) else (out,)
        loss = sum((o * lib.tensor(np.linspace(-1, 1, 12).reshape(3, 4) * (i + 1))).sum() for i, o in enumerate(outs))
        loss.backward()
        grads[lib.__name__] = [x.grad.numpy() for x in xs[:len(args) if make is not _split_scale else 2]]
        if lib is nablab:
            assert outs[0].grad_fn.name().startswith(fn.__name__) or outs[0].grad_fn.name() == "UnpackBackward0"
            if make is _split_scale:  # both outputs, weighted differently
                errors = check(lambda x, w, f=fn: (lambda a, b: a + 2 * b)(*f.apply(x, w, 0.5)), values)
            else:
                errors = check(fn.apply, values[:1])
            assert max(errors) < 1e-7
    for ours, theirs in zip(grads["nablab"], grads["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_an_output_without_gradient_gets_zeros_and_the_argument_count_is_checked():
    class Pair(nablab.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            assert gb.tolist() == [0.0, 0.0], "an unused output's gradient is materialized as zeros"
            return ga * 2 + gb * 3

    x = nablab.ones(2, requires_grad=True)
    a, _ = Pair.apply(x)
    a.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]

    class Wrong(nablab.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x * y

        @staticmethod
        def backward(ctx, gy):
            return gy

    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        Wrong.apply(nablab.ones(2, requires_grad=True), nablab.ones(2)).sum().backward()


def test_changing_a_saved_tensor_in_place_is_an_error_at_backward():
    for lib in (nablab, torch):
        x = lib.ones(3, requires_grad=True)
        h = x * 1
        y = _legendre(lib).apply(h)
        h.add_(1)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


def test_autograd_grad_leaves_every_grad_alone_and_equals_torch():
    rng = np.random.default_rng(1)
    w0, x0, v0 = rng.normal(size=(4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 3))
    results = {}
    for lib in (nablab, torch):
        w = lib.tensor(w0, requires_grad=True)
        x = lib.tensor(x0, requires_grad=True)
        h = (x @ w).tanh()
        out = (h * lib.tensor(v0)).sum()
        gw, gh = lib.autograd.grad(out, (w, h), retain_graph=True)
        assert w.grad is None and x.grad is None
        (gx,) = lib.autograd.grad([out, h.sum()], [x], grad_outputs=[lib.tensor(2.0, dtype=lib.float64), None])
        results[lib.__name__] = (gw.numpy(), gh.numpy(), gx.numpy())
        unused = lib.ones(2, requires_grad=True)
        with pytest.raises(RuntimeError):
            lib.autograd.grad((w * 2).sum(), [w, unused])
        assert lib.autograd.grad((w * 2).sum(), [w, unused], allow_unused=True)[1] is None
    for ours, theirs in zip(results["nablab"], results["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_autograd_backward_of_several_tensors_and_only_some_inputs():
    grads = {}
    for lib in (nablab, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, -1.0], requires_grad=True)
        y1, y2 = a * b, (a + b).exp()
        lib.autograd.backward([y1, y2], [lib.ones(2), lib.tensor([0.5, 2.0])], retain_graph=True)
        first = (a.grad.numpy().copy(), b.grad.numpy().copy())
        lib.autograd.backward([y1.sum()], inputs=[b])
        grads[lib.__name__] = (*first, a.grad.numpy(), b.grad.numpy())
    for ours, theirs in zip(grads["nablab"], grads["torch"]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6)
