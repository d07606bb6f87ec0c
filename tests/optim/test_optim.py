"""Update rules checked against the formulas by hand (PyTorch parity is in tests/torch_parity)."""

import math

import numpy as np
import pytest

import nablab
from nablab import nn, optim
from nablab.optim import lr_scheduler


def _param(values):
    p = nn.Parameter(np.array(values, dtype=np.float64))
    return p


def _step(opt, p, grad):
    p.grad = nablab.tensor(grad, dtype="float64")
    opt.step()


def test_sgd_momentum_and_nesterov_by_hand():
    p = _param([1.0])
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    _step(opt, p, [1.0])  # b = 1       → p = 1 − 0.1
    _step(opt, p, [1.0])  # b = 1.9     → p = 0.9 − 0.19
    assert p.item() == pytest.approx(0.71)
    q = _param([1.0])
    opt = optim.SGD([q], lr=0.1, momentum=0.9, nesterov=True)
    _step(opt, q, [1.0])  # b = 1, g = 1 + 0.9 → q = 1 − 0.19
    assert q.item() == pytest.approx(0.81)


def test_sgd_weight_decay():
    p = _param([2.0])
    opt = optim.SGD([p], lr=0.5, weight_decay=0.1)
    _step(opt, p, [0.0])
    assert p.item() == pytest.approx(2.0 - 0.5 * 0.2)


def test_adam_first_step_moves_by_lr():
    p = _param([1.0, -1.0])
    opt = optim.Adam([p], lr=0.01)
    _step(opt, p, [3.0, -0.5])
    np.testing.assert_allclose(p.data, [0.99, -0.99], rtol=1e-6)


def test_adamw_decays_the_weights_directly():
    p = _param([1.0])
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    _step(opt, p, [0.0])
    assert p.item() == pytest.approx(0.95)


def test_parameters_without_gradient_are_left_alone():
    p, q = _param([1.0]), _param([1.0])
    opt = optim.SGD([p, q], lr=1.0)
    _step(opt, p, [1.0])
    assert q.item() == 1.0


def test_param_groups_with_their_own_rates():
    p, q = _param([1.0]), _param([1.0])
    opt = optim.SGD([{"params": [p]}, {"params": [q], "lr": 0.5}], lr=0.1)
    p.grad = q.grad = nablab.tensor([1.0], dtype="float64")
    opt.step()
    assert p.item() == pytest.approx(0.9) and q.item() == pytest.approx(0.5)


def test_param_groups_from_submodules_and_added_later():
    """The PyTorch idiom: a base and a head with their own rates, generators as params."""
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = optim.SGD([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 1e-3}],
                    lr=1e-2, momentum=0.9)
    assert [g["lr"] for g in opt.param_groups] == [1e-2, 1e-3]
    assert opt.param_groups[0]["params"] == list(model[0].parameters())
    assert all(g["momentum"] == 0.9 for g in opt.param_groups)
    extra = _param([1.0])
    opt.add_param_group({"params": extra, "lr": 0.5})
    assert opt.param_groups[2]["params"] == [extra] and opt.param_groups[2]["momentum"] == 0.9
    opt.param_groups[2]["lr"] = 0.25  # takes effect at the next step
    _step(opt, extra, [1.0])
    assert extra.item() == pytest.approx(0.75)
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [extra]})


def test_bad_settings_are_clear_errors():
    p = _param([1.0])
    with pytest.raises(ValueError, match="empty"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD([p], lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="require gradients"):
        optim.SGD([nablab.tensor([1.0])], lr=0.1)
    with pytest.raises(TypeError, match="single tensor"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD([{"params": {p}}], lr=0.1)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(ValueError, match="lr, momentum, weight_decay ≥ 0, got lr=-1"):
        optim.SGD([p], lr=-1)
    with pytest.raises(ValueError, match="betas"):
        optim.Adam([p], betas=(0.9, 1.0))


def test_optimizer_state_round_trip():
    rng = np.random.default_rng(0)
    grads = rng.standard_normal((10, 3))
    a, b = _param([1.0, 2.0, 3.0]), _param([1.0, 2.0, 3.0])
    opt_a = optim.Adam([a], lr=0.1)
    opt_b = optim.Adam([b], lr=0.1)
    for g in grads[:5]:
        _step(opt_a, a, g)
        _step(opt_b, b, g)
    state = opt_b.state_dict()
    opt_b = optim.Adam([b], lr=0.1)
    opt_b.load_state_dict(state)
    for g in grads[5:]:
        _step(opt_a, a, g)
        _step(opt_b, b, g)
    np.testing.assert_array_equal(a.data, b.data)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda o: lr_scheduler.ExponentialLR(o, 0.95), lambda e: 0.1 * 0.95**e),
        (lambda o: lr_scheduler.StepLR(o, 3, 0.5), lambda e: 0.1 * 0.5 ** (e // 3)),
        (lambda o: lr_scheduler.CosineAnnealingLR(o, 10, 0.01),
         lambda e: 0.01 + 0.09 * (1 + math.cos(math.pi * e / 10)) / 2),
    ],
)
def test_schedules_follow_their_formulas(make, expected):
    opt = optim.SGD([_param([1.0])], lr=0.1)
    sched = make(opt)
    for epoch in range(12):
        assert opt.param_groups[0]["lr"] == pytest.approx(expected(epoch))
        sched.step()
    state = sched.state_dict()
    opt2 = optim.SGD([_param([1.0])], lr=0.1)
    sched2 = make(opt2)
    sched2.load_state_dict(state)
    assert sched2.get_last_lr() == sched.get_last_lr()
