"""nablab.optim.LBFGS against torch.optim.LBFGS: the parameters, the number of closure calls and
iterations after several step(closure) calls, with and without the strong Wolfe line search."""

from __future__ import annotations

import copy

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab import optim  # noqa: E402

pytestmark = [pytest.mark.torch,  # torch's LBFGS calls float() on the closure's loss, which it warns about
              pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad=True:UserWarning")]

rng = np.random.default_rng(0)
_M = rng.standard_normal((6, 6))
A = _M @ _M.T / 6 + np.eye(6)
B = rng.standard_normal(6)
START = [np.array([-1.5, 2.0, 0.5, -0.3, 1.2, 0.1]), np.array([[0.3, -2.0], [1.0, 2.5]])]


def convex(lib, ps):
    """½xᵀAx − bᵀx + Σ(w − 1)⁴ + Σw²: a quadratic and a quartic, well conditioned."""
    x, w = ps
    a, b = (torch.tensor(A), torch.tensor(B)) if lib is torch else (nablab.tensor(A, dtype="float64"),
                                                                    nablab.tensor(B, dtype="float64"))
    return 0.5 * (x * (a @ x)).sum() - (b * x).sum() + ((w - 1) ** 4).sum() + (w * w).sum()


def rosenbrock(lib, ps):
    x = ps[0]
    return ((1 - x[:-1]) ** 2).sum() + (100 * (x[1:] - x[:-1] ** 2) ** 2).sum()


def make(lib, kwargs):
    if lib is torch:
        ps = [torch.tensor(v, requires_grad=True) for v in START]
        return ps, torch.optim.LBFGS(ps, **kwargs)
    ps = [nablab.tensor(v, dtype="float64", requires_grad=True) for v in START]
    return ps, optim.LBFGS(ps, **kwargs)


def run(lib, f, kwargs, steps=3, opt_and_params=None):
    ps, opt = opt_and_params or make(lib, kwargs)

    def closure():
        opt.zero_grad()
        loss = f(lib, ps)
        loss.backward()
        return loss

    losses = [float(opt.step(closure).detach() if lib is torch else opt.step(closure)) for _ in range(steps)]
    state = opt.state[ps[0]]
    values = [p.detach().numpy().copy() if lib is torch else p.numpy().copy() for p in ps]
    return values, losses, (state["func_evals"], state["n_iter"])


CASES = [
    pytest.param(dict(max_iter=5), id="fixed_step"),
    pytest.param(dict(lr=0.5, history_size=3, max_iter=7), id="fixed_step_short_history"),
    pytest.param(dict(line_search_fn="strong_wolfe", max_iter=5), id="strong_wolfe"),
    pytest.param(dict(line_search_fn="strong_wolfe", history_size=2, max_iter=8), id="strong_wolfe_short_history"),
    pytest.param(dict(line_search_fn="strong_wolfe", max_iter=30, tolerance_grad=1e-5), id="strong_wolfe_converges"),
    pytest.param(dict(max_iter=10, max_eval=4), id="max_eval"),
]


@pytest.mark.parametrize("kwargs", CASES)
def test_lbfgs_matches_torch(kwargs):
    ours, our_losses, our_counts = run(nablab, convex, kwargs)
    theirs, their_losses, their_counts = run(torch, convex, kwargs)
    assert our_counts == their_counts
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-12)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", [dict(), dict(line_search_fn="strong_wolfe", history_size=2, max_iter=50)])
def test_lbfgs_on_rosenbrock_matches_torch(kwargs):
    """40+ closure calls on an ill-conditioned valley: one-ulp differences in the loss grow, hence 1e-9."""
    ours, _, our_counts = run(nablab, rosenbrock, kwargs, steps=4)
    theirs, _, their_counts = run(torch, rosenbrock, kwargs, steps=4)
    assert our_counts == their_counts
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-9)


def test_lbfgs_state_dict_round_trip():
    kwargs = dict(line_search_fn="strong_wolfe", history_size=4, max_iter=3)
    uninterrupted, _, counts = run(nablab, convex, kwargs, steps=4)
    ps, opt = make(nablab, kwargs)
    run(nablab, convex, kwargs, steps=2, opt_and_params=(ps, opt))
    saved = copy.deepcopy({"params": [p.numpy() for p in ps], "optim": opt.state_dict()})
    fresh = [nablab.tensor(v, dtype="float64", requires_grad=True) for v in saved["params"]]
    resumed = optim.LBFGS(fresh, **kwargs)
    resumed.load_state_dict(saved["optim"])
    values, _, resumed_counts = run(nablab, convex, kwargs, steps=2, opt_and_params=(fresh, resumed))
    assert resumed_counts == counts
    for a, b in zip(values, uninterrupted):
        np.testing.assert_array_equal(a, b)


def test_lbfgs_constructor_matches_torch():
    import inspect

    ours, theirs = (inspect.signature(cls).parameters for cls in (optim.LBFGS, torch.optim.LBFGS))
    assert [(k, v.default) for k, v in ours.items()] == [(k, v.default) for k, v in theirs.items()]
    ps = [nablab.tensor(v, dtype="float64", requires_grad=True) for v in START]
    t_ps = [torch.tensor(v, requires_grad=True) for v in START]
    ours, theirs = optim.LBFGS(ps, max_iter=8), torch.optim.LBFGS(t_ps, max_iter=8)
    assert ours.defaults == theirs.defaults
    assert ours.param_groups[0].keys() == theirs.param_groups[0].keys()


def test_lbfgs_refuses_groups_and_unknown_line_searches():
    ps = [nablab.tensor(v, dtype="float64", requires_grad=True) for v in START]
    with pytest.raises(ValueError, match="one parameter group"):
        optim.LBFGS([{"params": ps[:1]}, {"params": ps[1:]}])
    with pytest.raises(ValueError, match="one parameter group"):
        optim.LBFGS(ps[:1]).add_param_group({"params": ps[1:]})
    with pytest.raises(ValueError, match="strong_wolfe"):
        optim.LBFGS(ps, line_search_fn="backtracking")
