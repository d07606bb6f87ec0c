"""Tensor.register_hook and retain_grad, against PyTorch."""

import numpy as np
import pytest

import nablab


def _graph(lib, make, log):
    w = make([1.0, -2.0, 0.5])
    y = w * 3
    y.retain_grad()
    handle = y.register_hook(lambda g: g * 2)
    w.register_hook(lambda g: log.append(g.tolist()))
    z = (y * y).sum()
    z.retain_grad()
    z.backward()
    return w, y, z, handle


def test_hooks_see_and_replace_gradients():
    log = []
    w, y, z, handle = _graph(nablab, lambda v: nablab.tensor(v, requires_grad=True), log)
    assert y.grad.tolist() == [12.0, -24.0, 6.0] and w.grad.tolist() == [36.0, -72.0, 18.0]
    assert log == [[36.0, -72.0, 18.0]] and z.grad.item() == 1.0 and y.retains_grad and not w.retains_grad
    w2 = nablab.tensor([1.0], requires_grad=True)
    h = w2.register_hook(lambda g: g * 10)
    h.remove()
    (w2 * 2).sum().backward()
    assert w2.grad.tolist() == [2.0]
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        nablab.zeros(2).register_hook(print)


@pytest.mark.torch
def test_hooks_match_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = [], []
    n = _graph(nablab, lambda v: nablab.tensor(v, dtype=nablab.float64, requires_grad=True), ours)
    t = _graph(torch, lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True), theirs)
    for a, b in zip(n[:3], t[:3]):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)
    assert ours == theirs and n[1].retains_grad == t[1].retains_grad
