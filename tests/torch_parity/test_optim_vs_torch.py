"""nablab.optim against torch.optim: update rules, learning-rate schedules, state round trips.

The optimizers are fed the same gradient sequence (``p.grad`` set by hand from a seeded RNG, in
float64), so any difference in the parameters after 20 steps comes from the update rule alone.
"""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab import optim  # noqa: E402
from nablab.nn import Parameter  # noqa: E402

pytestmark = pytest.mark.torch

SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 20
TOL = 1e-12  # float64; the rules agree to ~1e-15 here, 1e-12 leaves room for BLAS and libm

CONFIGS = [
    pytest.param("SGD", dict(lr=0.1), id="sgd"),
    pytest.param("SGD", dict(lr=0.05, momentum=0.9), id="sgd_momentum"),
    pytest.param("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5), id="sgd_dampening"),
    pytest.param("SGD", dict(lr=0.05, momentum=0.9, nesterov=True), id="sgd_nesterov"),
    pytest.param("SGD", dict(lr=0.1, weight_decay=0.05), id="sgd_weight_decay"),
    pytest.param("SGD", dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.05), id="sgd_all_but_nesterov"),
    pytest.param("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), id="sgd_nesterov_wd"),
    pytest.param("Adam", dict(lr=0.01), id="adam"),
    pytest.param("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6), id="adam_betas_eps"),
    pytest.param("Adam", dict(lr=0.01, weight_decay=0.1), id="adam_weight_decay"),
    pytest.param("AdamW", dict(lr=0.01), id="adamw_default_wd"),
    pytest.param("AdamW", dict(lr=0.01, weight_decay=0.1, betas=(0.85, 0.995)), id="adamw_wd"),
]


def initial_values(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(s) for s in SHAPES]


def gradient_sequence(steps=STEPS, seed=1):
    rng = np.random.default_rng(seed)
    return [[rng.standard_normal(s) for s in SHAPES] for _ in range(steps)]


def nb_params(values):
    return [Parameter(v.copy(), dtype=np.float64) for v in values]


def torch_params(values):
    return [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in values]


def nb_step(opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = nablab.tensor(g, dtype=np.float64)
    opt.step()


def torch_step(opt, params, grads):
    for p, g in zip(params, grads):
        p.grad = torch.from_numpy(g.copy())
    opt.step()


def assert_params_close(nb, tp, tol=TOL, msg=""):
    for i, (p, t) in enumerate(zip(nb, tp)):
        assert p.dtype == np.float64
        np.testing.assert_allclose(p.numpy(), t.detach().numpy(), rtol=tol, atol=tol, err_msg=f"{msg} param {i}")


# --------------------------------------------------------------------------- update rules
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_update_rule_matches_torch(name, kwargs):
    values, grads = initial_values(), gradient_sequence()
    nb, tp = nb_params(values), torch_params(values)
    nb_opt = getattr(optim, name)(nb, **kwargs)
    t_opt = getattr(torch.optim, name)(tp, **kwargs)
    for step, g in enumerate(grads):
        nb_step(nb_opt, nb, g)
        torch_step(t_opt, tp, g)
        assert_params_close(nb, tp, msg=f"step {step + 1}:")


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_state_matches_torch(name, kwargs):
    """After 10 steps the per-parameter state (momentum buffers, moments, step) equals torch's."""
    values, grads = initial_values(), gradient_sequence(10)
    nb, tp = nb_params(values), torch_params(values)
    nb_opt = getattr(optim, name)(nb, **kwargs)
    t_opt = getattr(torch.optim, name)(tp, **kwargs)
    for g in grads:
        nb_step(nb_opt, nb, g)
        torch_step(t_opt, tp, g)
    nb_sd, t_sd = nb_opt.state_dict(), t_opt.state_dict()
    for i, t_state in t_sd["state"].items():
        nb_state = nb_sd["state"][i]
        assert set(nb_state) == set(t_state), f"param {i}"
        for key, t_val in t_state.items():
            t_val = t_val.numpy() if isinstance(t_val, torch.Tensor) else t_val
            np.testing.assert_allclose(np.asarray(nb_state[key], dtype=np.float64), t_val,
                                       rtol=TOL, atol=TOL, err_msg=f"state {key!r} of param {i}")
    for nb_group, t_group in zip(nb_sd["param_groups"], t_sd["param_groups"]):
        assert nb_group["params"] == t_group["params"]
        for key in kwargs:
            assert nb_group[key] == t_group[key], key


def test_param_groups_match_torch():
    values, grads = initial_values(), gradient_sequence()
    nb, tp = nb_params(values), torch_params(values)
    nb_opt = optim.SGD([{"params": nb[:2]}, {"params": nb[2:], "lr": 0.5, "momentum": 0.5}],
                       lr=0.05, momentum=0.9, weight_decay=0.01)
    t_opt = torch.optim.SGD([{"params": tp[:2]}, {"params": tp[2:], "lr": 0.5, "momentum": 0.5}],
                            lr=0.05, momentum=0.9, weight_decay=0.01)
    for g in grads:
        nb_step(nb_opt, nb, g)
        torch_step(t_opt, tp, g)
    assert_params_close(nb, tp)


def test_params_without_grad_are_skipped_like_torch():
    values, grads = initial_values(), gradient_sequence()
    nb, tp = nb_params(values), torch_params(values)
    nb_opt, t_opt = optim.Adam(nb, lr=0.01), torch.optim.Adam(tp, lr=0.01)
    for step, g in enumerate(grads):
        for p in nb:
            p.grad = None
        for p in tp:
            p.grad = None
        active = slice(0, 3) if step % 3 else slice(0, 1)  # params 1 and 2 miss every third step
        nb_step(nb_opt, nb[active], g[active])
        torch_step(t_opt, tp[active], g[active])
    assert_params_close(nb, tp)


# --------------------------------------------------------------------------- schedulers
SCHEDULERS = [
    pytest.param("ExponentialLR", dict(gamma=0.95), id="exponential"),
    pytest.param("ExponentialLR", dict(gamma=0.5), id="exponential_fast"),
    pytest.param("StepLR", dict(step_size=7), id="step_default_gamma"),
    pytest.param("StepLR", dict(step_size=4, gamma=0.5), id="step"),
    pytest.param("StepLR", dict(step_size=1, gamma=0.9), id="step_every_epoch"),
    pytest.param("CosineAnnealingLR", dict(T_max=30), id="cosine"),
    pytest.param("CosineAnnealingLR", dict(T_max=10, eta_min=1e-3), id="cosine_eta_min_past_T_max"),
    pytest.param("CosineAnnealingLR", dict(T_max=7), id="cosine_short_period"),
]


def lr_sequence(opt_module, sched_module, params, name, kwargs, epochs=30):
    opt = opt_module.SGD([{"params": params[:1]}, {"params": params[1:], "lr": 0.02}], lr=0.1, momentum=0.9)
    sched = getattr(sched_module, name)(opt, **kwargs)
    lrs = [list(sched.get_last_lr())]
    for _ in range(epochs):
        opt.step()  # no gradients: a no-op, but torch wants it before scheduler.step()
        sched.step()
        lrs.append(list(sched.get_last_lr()))
        assert [g["lr"] for g in opt.param_groups] == lrs[-1]
    return np.array(lrs, dtype=np.float64)


@pytest.mark.parametrize(("name", "kwargs"), SCHEDULERS)
def test_scheduler_matches_torch(name, kwargs):
    values = initial_values()
    nb_lrs = lr_sequence(optim, optim.lr_scheduler, nb_params(values), name, kwargs)
    t_lrs = lr_sequence(torch.optim, torch.optim.lr_scheduler, torch_params(values), name, kwargs)
    assert nb_lrs.shape == (31, 2)
    np.testing.assert_allclose(nb_lrs, t_lrs, rtol=1e-12, atol=1e-15)


def test_scheduled_training_matches_torch():
    """Scheduler and optimizer together: StepLR changing the rate under SGD with Nesterov momentum."""
    values, grads = initial_values(), gradient_sequence()
    nb, tp = nb_params(values), torch_params(values)
    nb_opt = optim.SGD(nb, lr=0.1, momentum=0.9, nesterov=True)
    t_opt = torch.optim.SGD(tp, lr=0.1, momentum=0.9, nesterov=True)
    nb_sched = optim.lr_scheduler.StepLR(nb_opt, step_size=3, gamma=0.5)
    t_sched = torch.optim.lr_scheduler.StepLR(t_opt, step_size=3, gamma=0.5)
    for g in grads:
        nb_step(nb_opt, nb, g)
        torch_step(t_opt, tp, g)
        nb_sched.step()
        t_sched.step()
    assert_params_close(nb, tp)


# --------------------------------------------------------------------------- state_dict round trip
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_state_dict_round_trip(name, kwargs):
    """Optimizer A runs 20 steps. Optimizer B runs 10 and is checkpointed (parameters and
    state_dict through pickle, as a file would hold them); a fresh optimizer, built with a wrong lr
    over fresh parameters loaded from the checkpoint, restores it and runs the other 10.
    Both end bit-for-bit identical, and equal to torch."""
    values, grads = initial_values(), gradient_sequence()
    a, b = nb_params(values), nb_params(values)
    opt_a = getattr(optim, name)(a, **kwargs)
    opt_b = getattr(optim, name)(b, **kwargs)
    for g in grads[:10]:
        nb_step(opt_a, a, g)
        nb_step(opt_b, b, g)
    checkpoint = pickle.dumps({"params": [p.numpy() for p in b], "optim": opt_b.state_dict()})
    nb_step(opt_b, b, grads[10])  # B going on must not change the checkpoint
    del opt_b, b

    saved = pickle.loads(checkpoint)
    c = nb_params(saved["params"])
    opt_c = getattr(optim, name)(c, lr=123.0)  # load_state_dict must restore lr and the other settings
    opt_c.load_state_dict(saved["optim"])
    assert opt_c.param_groups[0]["lr"] == kwargs["lr"]
    for g in grads[10:]:
        nb_step(opt_a, a, g)
        nb_step(opt_c, c, g)
    for pa, pc in zip(a, c):
        np.testing.assert_array_equal(pa.numpy(), pc.numpy())

    tp = torch_params(values)
    t_opt = getattr(torch.optim, name)(tp, **kwargs)
    for g in grads:
        torch_step(t_opt, tp, g)
    assert_params_close(c, tp)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_state_dict_reload_in_place(name, kwargs):
    """Reloading an optimizer's own (deep-copied) state mid-way changes nothing, as in torch."""
    values, grads = initial_values(), gradient_sequence()
    a, b = nb_params(values), nb_params(values)
    opt_a = getattr(optim, name)(a, **kwargs)
    opt_b = getattr(optim, name)(b, **kwargs)
    for step, g in enumerate(grads):
        nb_step(opt_a, a, g)
        nb_step(opt_b, b, g)
        if step == 9:
            opt_b.load_state_dict(copy.deepcopy(opt_b.state_dict()))
    for pa, pb in zip(a, b):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy())


def test_scheduler_state_dict_round_trip():
    nb = nb_params(initial_values())
    opt = optim.SGD(nb, lr=0.1)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10)
    for _ in range(4):
        sched.step()
    state = pickle.loads(pickle.dumps(sched.state_dict()))
    opt2 = optim.SGD(nb_params(initial_values()), lr=0.1)
    sched2 = optim.lr_scheduler.CosineAnnealingLR(opt2, T_max=10)
    sched2.load_state_dict(state)
    for _ in range(6):
        sched.step()
        sched2.step()
        assert sched.get_last_lr() == sched2.get_last_lr()
