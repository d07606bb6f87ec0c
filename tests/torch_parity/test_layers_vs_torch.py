"""nablab.nn layers against torch.nn: default initialisation, and an MLP's outputs and gradients."""

from __future__ import annotations

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab import nn  # noqa: E402
from nablab.nn import functional as F  # noqa: E402

pytestmark = pytest.mark.torch

TOL = {np.float64: 1e-10, np.float32: 1e-5}
TORCH_DTYPE = {np.float64: torch.float64, np.float32: torch.float32}


def ks_statistic(a, b):
    """Two-sample Kolmogorov–Smirnov distance sup |F_a − F_b| (numpy only, no scipy needed)."""
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    return np.max(np.abs(np.searchsorted(a, grid, "right") / a.size - np.searchsorted(b, grid, "right") / b.size))


# --------------------------------------------------------------------------- initialisation
@pytest.mark.parametrize(("fan_in", "fan_out"), [(1, 400), (3, 300), (64, 10), (784, 64), (500, 200)])
def test_linear_default_init_matches_torch(fan_in, fan_out):
    """W and b ~ U(−1/√in, 1/√in) in both libraries: same bounds, same distribution."""
    nablab.manual_seed(0)
    torch.manual_seed(0)
    layer = nn.Linear(fan_in, fan_out)
    t_layer = torch.nn.Linear(fan_in, fan_out)
    bound = 1.0 / math.sqrt(fan_in)
    for name in ("weight", "bias"):
        w = getattr(layer, name).numpy()
        t = getattr(t_layer, name).detach().numpy()
        assert w.shape == t.shape and w.dtype == np.float32 and t.dtype == np.float32
        for sample in (w, t):  # torch's own draws confirm the bound we test against
            assert np.abs(sample).max() <= bound * (1 + 1e-6)
        if w.size >= 300:  # enough draws to see the edges and the shape of the distribution
            assert np.abs(w).max() > 0.98 * bound and np.abs(t).max() > 0.98 * bound
            assert abs(w.mean()) < 0.1 * bound
            np.testing.assert_allclose(w.std(), bound / math.sqrt(3), rtol=0.1)
            assert ks_statistic(w, t) < 1.95 * math.sqrt(2.0 / w.size)  # KS test at α = 0.001


def test_linear_init_is_seeded():
    nablab.manual_seed(3)
    a = nn.Linear(5, 4).weight.numpy().copy()
    nablab.manual_seed(3)
    b = nn.Linear(5, 4).weight.numpy()
    np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- MLP
def make_pair(dtype, sizes=(6, 16, 5)):
    """The same Linear-ReLU-Linear MLP in nablab and torch (torch's weights copied into nablab)."""
    torch.manual_seed(1)
    t_model = torch.nn.Sequential(torch.nn.Linear(sizes[0], sizes[1]), torch.nn.ReLU(),
                                  torch.nn.Linear(sizes[1], sizes[2])).to(TORCH_DTYPE[dtype])
    model = nn.Sequential(nn.Linear(sizes[0], sizes[1], dtype=dtype), nn.ReLU(),
                          nn.Linear(sizes[1], sizes[2], dtype=dtype))
    t_state = {k: v.detach().numpy() for k, v in t_model.state_dict().items()}
    assert list(dict(model.named_parameters())) == list(t_state)  # "0.weight", "0.bias", "2.weight", ...
    model.load_state_dict(t_state)
    for p in model.parameters():
        assert p.dtype == dtype
    return model, t_model


def batch(n=8, features=6, classes=5, seed=2):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, features)) * 2.0, rng.integers(0, classes, n)


@pytest.mark.parametrize("dtype", [pytest.param(np.float32, id="f32"), pytest.param(np.float64, id="f64")])
def test_mlp_forward_and_gradients_match_torch(dtype):
    tol = TOL[dtype]
    model, t_model = make_pair(dtype)
    x, y = batch()
    xn = nablab.tensor(x, dtype=dtype, requires_grad=True)
    xt = torch.tensor(x, dtype=TORCH_DTYPE[dtype], requires_grad=True)

    out, t_out = model(xn), t_model(xt)
    assert out.dtype == dtype
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), rtol=tol, atol=tol)

    loss = F.cross_entropy(out, y)
    t_loss = torch.nn.functional.cross_entropy(t_out, torch.from_numpy(y))
    np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=tol, atol=tol)
    loss.backward()
    t_loss.backward()

    t_params = dict(t_model.named_parameters())
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.dtype == dtype, name
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=tol, atol=tol,
                                   err_msg=name)
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=tol, atol=tol, err_msg="input")


@pytest.mark.parametrize("dtype", [pytest.param(np.float32, id="f32"), pytest.param(np.float64, id="f64")])
@pytest.mark.parametrize(("name", "kwargs"), [
    pytest.param("SGD", dict(lr=0.1, momentum=0.9, weight_decay=1e-3), id="sgd"),
    pytest.param("Adam", dict(lr=0.01), id="adam"),
])
def test_mlp_training_matches_torch(name, kwargs, dtype):
    """Ten training steps (forward, cross-entropy, backward, step) keep both models together."""
    tol = TOL[dtype]
    model, t_model = make_pair(dtype)
    opt = getattr(nablab.optim, name)(model.parameters(), **kwargs)
    t_opt = getattr(torch.optim, name)(t_model.parameters(), **kwargs)
    for step in range(10):
        x, y = batch(seed=10 + step)
        opt.zero_grad()
        t_opt.zero_grad()
        loss = nn.CrossEntropyLoss()(model(nablab.tensor(x, dtype=dtype)), y)
        t_loss = torch.nn.CrossEntropyLoss()(t_model(torch.tensor(x, dtype=TORCH_DTYPE[dtype])),
                                             torch.from_numpy(y))
        np.testing.assert_allclose(loss.item(), t_loss.item(), rtol=tol, atol=tol, err_msg=f"step {step}")
        loss.backward()
        t_loss.backward()
        opt.step()
        t_opt.step()
    t_params = dict(t_model.named_parameters())
    for pname, p in model.named_parameters():
        assert p.dtype == dtype
        np.testing.assert_allclose(p.numpy(), t_params[pname].detach().numpy(), rtol=tol, atol=tol,
                                   err_msg=pname)
