"""nablab.optim against torch.optim: update rules, learning-rate schedules, state round trips.

The optimizers are fed the same gradient sequence (``p.grad`` set by hand from a seeded RNG, in
float64), so any difference in the parameters after 20 steps comes from the update rule alone.
"""

from __future__ import annotations

import copy
import inspect

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
    pytest.param("Adam", dict(lr=0.01, amsgrad=True), id="adam_amsgrad"),
    pytest.param("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), id="adam_decoupled"),
    pytest.param("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True), id="adamw_amsgrad"),
    pytest.param("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.01, maximize=True), id="sgd_maximize"),
    pytest.param("Adam", dict(lr=0.01, weight_decay=0.1, maximize=True), id="adam_maximize"),
    pytest.param("Adadelta", dict(), id="adadelta"),
    pytest.param("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.1), id="adadelta_all"),
    pytest.param("Adagrad", dict(), id="adagrad"),
    pytest.param("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-8),
                 id="adagrad_all"),
    pytest.param("RMSprop", dict(), id="rmsprop"),
    pytest.param("RMSprop", dict(lr=0.01, momentum=0.9), id="rmsprop_momentum"),
    pytest.param("RMSprop", dict(lr=0.01, centered=True, weight_decay=0.1), id="rmsprop_centered"),
    pytest.param("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-6, momentum=0.5, centered=True, weight_decay=0.01),
                 id="rmsprop_all"),
    pytest.param("NAdam", dict(), id="nadam"),
    pytest.param("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.01, weight_decay=0.1), id="nadam_l2"),
    pytest.param("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), id="nadam_decoupled"),
    pytest.param("RAdam", dict(), id="radam"),
    pytest.param("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1), id="radam_l2_rectified_early"),
    pytest.param("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True), id="radam_decoupled"),
    pytest.param("Adamax", dict(), id="adamax"),
    pytest.param("Adamax", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-6, weight_decay=0.1), id="adamax_all"),
]


@pytest.fixture(autouse=True)
def torch_float64_scalars():
    """torch keeps an optimizer's scalar state (NAdam's running μ-product, the step counts) in the default
    dtype; float64 here, so that float64 parameters are compared with a float64 rule throughout
    (test_nadam_with_float32_scalar_state covers torch's default)."""
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


def default_lr(name):
    return inspect.signature(getattr(optim, name)).parameters["lr"].default


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


def test_nadam_with_float32_scalar_state():
    """Under torch's default dtype NAdam's μ-product is a float32 tensor, rounded at every step
    (~1e-7 relative), which moves the parameters by ~1e-9: nablab keeps it in float64."""
    torch.set_default_dtype(torch.float32)
    values, grads = initial_values(), gradient_sequence()
    nb, tp = nb_params(values), torch_params(values)
    nb_opt, t_opt = optim.NAdam(nb, lr=0.01), torch.optim.NAdam(tp, lr=0.01)
    for g in grads:
        nb_step(nb_opt, nb, g)
        torch_step(t_opt, tp, g)
    assert t_opt.state[tp[0]]["mu_product"].dtype == torch.float32
    assert_params_close(nb, tp, tol=1e-8)


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


# --------------------------------------------------------------------------- state_dict round trip
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_state_dict_round_trip(name, kwargs):
    """Optimizer A runs 20 steps. Optimizer B runs 10 and is checkpointed (parameters and
    a deep copy of state_dict, as a file would hold them); a fresh optimizer, built with a wrong lr
    over fresh parameters loaded from the checkpoint, restores it and runs the other 10.
    Both end bit-for-bit identical, and equal to torch."""
    values, grads = initial_values(), gradient_sequence()
    a, b = nb_params(values), nb_params(values)
    opt_a = getattr(optim, name)(a, **kwargs)
    opt_b = getattr(optim, name)(b, **kwargs)
    for g in grads[:10]:
        nb_step(opt_a, a, g)
        nb_step(opt_b, b, g)
    checkpoint = copy.deepcopy({"params": [p.numpy() for p in b], "optim": opt_b.state_dict()})
    nb_step(opt_b, b, grads[10])  # B going on must not change the checkpoint
    del opt_b, b

    c = nb_params(checkpoint["params"])
    opt_c = getattr(optim, name)(c, lr=123.0)  # load_state_dict must restore lr and the other settings
    opt_c.load_state_dict(checkpoint["optim"])
    assert opt_c.param_groups[0]["lr"] == kwargs.get("lr", default_lr(name))
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


# --------------------------------------------------------------------------- constructors and groups
TORCH_ONLY_OPTIONS = {"foreach", "capturable", "differentiable", "fused"}  # implementation switches, not rules


@pytest.mark.parametrize("name", sorted({type_.__name__ for type_ in optim.OPTIMIZERS.values()}))
def test_constructor_defaults_match_torch(name):
    """Same names and defaults; the arguments torch takes by position, up to its first
    implementation switch, are taken by position in the same order."""
    ours = inspect.signature(getattr(optim, name)).parameters
    all_theirs = inspect.signature(getattr(torch.optim, name)).parameters
    theirs = {k: v for k, v in all_theirs.items() if k not in TORCH_ONLY_OPTIONS}
    assert set(ours) == set(theirs)
    for key, param in theirs.items():
        assert ours[key].default == param.default, key
    positional = [k for k, v in ours.items() if v.kind == v.POSITIONAL_OR_KEYWORD]
    torch_positional = []
    for key, param in all_theirs.items():
        if key in TORCH_ONLY_OPTIONS or param.kind != param.POSITIONAL_OR_KEYWORD:
            break
        torch_positional.append(key)
    assert positional[:len(torch_positional)] == torch_positional
    p = nb_params(initial_values())[:1]
    groups_ours = getattr(optim, name)(p).param_groups[0]
    groups_theirs = getattr(torch.optim, name)(torch_params(initial_values())[:1]).param_groups[0]
    assert set(groups_ours) == set(groups_theirs) - TORCH_ONLY_OPTIONS


def test_registry_names_every_optimizer():
    assert set(optim.OPTIMIZERS) == {"sgd", "adam", "adamw", "adadelta", "adagrad", "rmsprop", "nadam", "radam",
                                     "adamax"}
    assert all(optim.OPTIMIZERS[n.lower()] is getattr(optim, n) for n in ("SGD", "RMSprop", "NAdam", "RAdam"))


def two_group_optimizers(module, params, name, kwargs):
    return getattr(module, name)([{"params": params[:1]}, {"params": params[1:], "lr": 0.003}], **kwargs)


@pytest.mark.parametrize(("name", "kwargs"), [
    pytest.param("SGD", dict(lr=0.05, momentum=0.9), id="sgd"),
    pytest.param("Adam", dict(lr=0.01, weight_decay=0.01), id="adam"),
    pytest.param("RMSprop", dict(lr=0.01, centered=True), id="rmsprop"),
    pytest.param("Adagrad", dict(lr=0.1), id="adagrad"),
])
def test_group_settings_changed_between_steps_match_torch(name, kwargs):
    """Two groups with their own lr; after 5 steps the groups' lr (and, for SGD, momentum) are
    changed by hand, after 10 a third group is added with add_param_group."""
    values, grads = initial_values(), gradient_sequence()
    nb, tp = nb_params(values), torch_params(values)
    nb_opt, t_opt = two_group_optimizers(optim, nb[:2], name, kwargs), two_group_optimizers(torch.optim, tp[:2],
                                                                                             name, kwargs)
    for step, g in enumerate(grads):
        if step == 5:
            for opt in (nb_opt, t_opt):
                opt.param_groups[0]["lr"] *= 0.5
                opt.param_groups[1]["lr"] = 0.02
                if name == "SGD":
                    opt.param_groups[1]["momentum"] = 0.5
        if step == 10:
            nb_opt.add_param_group({"params": [nb[2]], "weight_decay": 0.1})
            t_opt.add_param_group({"params": [tp[2]], "weight_decay": 0.1})
        active = slice(0, 3) if step >= 10 else slice(0, 2)
        nb_step(nb_opt, nb[active], g[active])
        torch_step(t_opt, tp[active], g[active])
        assert_params_close(nb, tp, msg=f"step {step + 1}:")
    nb_sd, t_sd = nb_opt.state_dict(), t_opt.state_dict()
    assert list(nb_sd["state"]) == list(t_sd["state"]) == [0, 1, 2]
    groups = [[g["params"] for g in sd["param_groups"]] for sd in (nb_sd, t_sd)]
    assert groups[0] == groups[1] == [[0], [1], [2]]
    for nb_group, t_group in zip(nb_sd["param_groups"], t_sd["param_groups"]):
        assert {k: nb_group[k] for k in nb_group} == {k: t_group[k] for k in nb_group}


def test_named_parameters_are_accepted_like_torch():
    values = initial_values()
    nb, tp = nb_params(values), torch_params(values)
    nb_opt = optim.SGD([("a", nb[0]), ("b", nb[1])], lr=0.1)
    t_opt = torch.optim.SGD([("a", tp[0]), ("b", tp[1])], lr=0.1)
    assert nb_opt.param_groups[0]["param_names"] == t_opt.param_groups[0]["param_names"] == ["a", "b"]
    assert nb_opt.param_groups[0]["params"][1] is nb[1]


def test_state_is_keyed_by_parameter_like_torch():
    values, grads = initial_values(), gradient_sequence(3)
    nb = nb_params(values)
    opt = optim.SGD(nb, lr=0.1, momentum=0.9)
    for g in grads:
        nb_step(opt, nb, g)
    assert set(opt.state[nb[0]]) == {"momentum_buffer"}
    assert opt.state[id(nb[0])] is opt.state[nb[0]]
    assert list(opt.state) == nb


def test_step_with_closure_returns_the_loss_like_torch():
    values = initial_values()
    nb, tp = nb_params(values), torch_params(values)
    nb_opt, t_opt = optim.SGD(nb, lr=0.1), torch.optim.SGD(tp, lr=0.1)

    def nb_closure():
        nb_opt.zero_grad()
        loss = sum((p * p).sum() for p in nb)
        loss.backward()
        return loss

    def t_closure():
        t_opt.zero_grad()
        loss = sum((p * p).sum() for p in tp)
        loss.backward()
        return loss

    for _ in range(3):
        nb_loss, t_loss = nb_opt.step(nb_closure), t_opt.step(t_closure)
        assert nb_loss.item() == pytest.approx(t_loss.item(), rel=1e-12)
    assert_params_close(nb, tp)
    assert nb_opt.step() is None


def test_zero_grad_set_to_none_false_leaves_zeros_like_torch():
    nb = nb_params(initial_values())
    opt = optim.SGD(nb, lr=0.1)
    nb_step(opt, nb, gradient_sequence(1)[0])
    opt.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() and p.grad.dtype == np.float64 for p in nb)
    opt.zero_grad()
    assert all(p.grad is None for p in nb)


@pytest.mark.parametrize("name", ["SGD", "Adam", "RMSprop"])
def test_step_bumps_the_version_like_torch(name):
    """A step changes the parameters in place: their version goes up by one (only those with a
    gradient), and a graph recorded before the step refuses its backward afterwards."""
    values = initial_values()
    for lib, ps in ((optim, nb_params(values)), (torch.optim, torch_params(values))):
        opt = getattr(lib, name)(ps, lr=0.1)
        loss = (ps[0] * ps[0]).sum()
        ps[0].grad = (nablab.ones_like if lib is optim else torch.ones_like)(ps[0])
        before = [p._version for p in ps]
        opt.step()
        assert [p._version - b for p, b in zip(ps, before)] == [1, 0, 0]
        with pytest.raises(RuntimeError, match="modified by an in-?place operation"):
            loss.backward()


def momentum_sgd(lib):
    """A user's optimizer written against torch.optim.Optimizer's API, as PyTorch tutorials do."""
    class MomentumSGD(lib.optim.Optimizer):
        def __init__(self, params, lr=0.01, momentum=0.9):
            super().__init__(params, dict(lr=lr, momentum=momentum))

        @lib.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    state = self.state[p]
                    if len(state) == 0:
                        state["buf"] = lib.zeros_like(p)
                    buf = state["buf"]
                    buf.mul_(group["momentum"]).add_(p.grad)
                    p.add_(buf, alpha=-group["lr"])
    return MomentumSGD


def test_a_torch_style_custom_optimizer_runs_the_same():
    values = initial_values()
    runs = []
    for lib, ps in ((nablab, nb_params(values)), (torch, torch_params(values))):
        opt = momentum_sgd(lib)([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.05}], lr=0.1)
        for _ in range(5):
            opt.zero_grad()
            loss = sum((p * p * p).sum() for p in ps)
            loss.backward()
            opt.step()
        runs.append([p.detach().numpy().copy() for p in ps] + [[p._version for p in ps]])
    for ours, theirs in zip(*runs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS)
def test_float32_parameters_keep_float32_state_and_match_torch(name, kwargs):
    """float32 parameters: the state stays float32 (no silent float64 copies) and the parameters
    follow torch's float32 run to float32 rounding over 20 steps."""
    torch.set_default_dtype(torch.float32)
    values = [v.astype(np.float32) for v in initial_values()]
    grads = [[g.astype(np.float32) for g in step] for step in gradient_sequence()]
    nb = [Parameter(v.copy(), dtype=np.float32) for v in values]
    tp = [torch.tensor(v, requires_grad=True) for v in values]
    nb_opt, t_opt = getattr(optim, name)(nb, **kwargs), getattr(torch.optim, name)(tp, **kwargs)
    for g in grads:
        for p, q, x in zip(nb, tp, g):
            p.grad, q.grad = nablab.tensor(x, dtype=np.float32), torch.from_numpy(x.copy())
        nb_opt.step()
        t_opt.step()
    for p, q in zip(nb, tp):
        assert p.dtype == np.float32
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=2e-5, atol=2e-5)
    for state in nb_opt.state.values():
        for key, value in state.items():
            if hasattr(value, "dtype") and getattr(value, "ndim", 0):
                assert value.dtype == np.float32, key
