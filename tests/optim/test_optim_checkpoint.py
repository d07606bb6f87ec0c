"""Optimizers and schedulers through the lab's checkpoints (safetensors + JSON metadata), and
loading the optimizer and scheduler state nablab wrote before the PyTorch-style schedulers."""

import numpy as np
import pytest

import nablab
from nablab import nn, optim
from nablab.optim import lr_scheduler

pytest.importorskip("safetensors")
from nablab.lab.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402

STEPS = 12


def model():
    nablab.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3, dtype="float64"), nn.Tanh(), nn.Linear(3, 2, dtype="float64"))


def train_step(net, opt, sched, step):
    rng = np.random.default_rng(step)
    x = nablab.tensor(rng.standard_normal((5, 4)), dtype="float64")
    loss = (net(x) ** 2).mean()
    opt.zero_grad()
    loss.backward()
    opt.step()
    if isinstance(sched, lr_scheduler.ReduceLROnPlateau):
        sched.step(round(loss.item(), 1))
    else:
        sched.step()


SETUPS = [
    pytest.param(lambda ps: optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True),
                 lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.05, total_steps=STEPS), id="rmsprop_onecycle"),
    pytest.param(lambda ps: optim.NAdam(ps, lr=0.01), lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.05,
                                                                                    total_steps=STEPS,
                                                                                    three_phase=True),
                 id="nadam_onecycle_betas"),
    pytest.param(lambda ps: optim.Adam(ps, lr=0.01, amsgrad=True),
                 lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.LinearLR(o, 0.1, total_iters=4),
                                                         lr_scheduler.CosineAnnealingLR(o, T_max=8)], [4]),
                 id="adam_amsgrad_sequential"),
    pytest.param(lambda ps: optim.Adagrad(ps, lr=0.1, lr_decay=0.01),
                 lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=0, factor=0.5), id="adagrad_plateau"),
    pytest.param(lambda ps: optim.SGD([{"params": ps[:2]}, {"params": ps[2:], "lr": 0.01}], lr=0.1, momentum=0.9),
                 lambda o: lr_scheduler.MultiStepLR(o, [3, 7]), id="sgd_groups_multistep"),
    pytest.param(lambda ps: optim.Adadelta(ps), lambda o: lr_scheduler.LambdaLR(o, lambda e: 0.9**e),
                 id="adadelta_lambda"),
    pytest.param(lambda ps: optim.Adamax(ps, lr=0.01), lambda o: lr_scheduler.StepLR(o, 3, 0.5),
                 id="adamax_step"),
    pytest.param(lambda ps: optim.RAdam(ps, lr=0.01, decoupled_weight_decay=True, weight_decay=0.1),
                 lambda o: lr_scheduler.ExponentialLR(o, 0.9), id="radam_exponential"),
]


@pytest.mark.parametrize(("make_opt", "make_sched"), SETUPS)
def test_checkpoint_resume_equals_an_uninterrupted_run(tmp_path, make_opt, make_sched):
    def fresh():
        net = model()
        opt = make_opt(list(net.parameters()))
        return net, opt, make_sched(opt)

    net_a, opt_a, sched_a = fresh()
    for step in range(STEPS):
        train_step(net_a, opt_a, sched_a, step)

    net_b, opt_b, sched_b = fresh()
    for step in range(STEPS // 2):
        train_step(net_b, opt_b, sched_b, step)
    save_checkpoint(tmp_path / "ck.safetensors", net_b, opt_b, sched_b)
    net_c, opt_c, sched_c = fresh()
    load_checkpoint(tmp_path / "ck.safetensors", net_c, opt_c, sched_c)
    assert sched_c.get_last_lr() == sched_b.get_last_lr()
    for step in range(STEPS // 2, STEPS):
        train_step(net_c, opt_c, sched_c, step)
    for (name, a), c in zip(net_a.named_parameters(), net_c.parameters()):
        np.testing.assert_array_equal(a.numpy(), c.numpy(), err_msg=name)
    assert sched_c.get_last_lr() == sched_a.get_last_lr()


def test_state_written_before_the_pytorch_style_schedulers_still_loads():
    """nablab's earlier optimizers put ``initial_lr`` in every group and had no ``maximize``; its
    schedulers saved only ``last_epoch``. Loading them resumes the run where it stopped."""
    p = nn.Parameter(np.array([1.0, -2.0]), dtype="float64")
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    old_optimizer = {"state": {0: {"momentum_buffer": np.array([0.5, -0.5])}},
                     "param_groups": [{"lr": 0.05, "momentum": 0.9, "dampening": 0.0, "nesterov": False,
                                       "weight_decay": 0.0, "initial_lr": 0.1, "params": [0]}]}
    opt.load_state_dict(old_optimizer)
    sched.load_state_dict({"last_epoch": 3})
    assert opt.param_groups[0]["maximize"] is False
    assert sched.get_last_lr() == [0.05]
    sched.step()  # epoch 4: halved again
    assert sched.get_last_lr() == [0.025]
    p.grad = nablab.tensor([1.0, 1.0], dtype="float64")
    opt.step()
    np.testing.assert_allclose(p.numpy(), [1.0 - 0.025 * 1.45, -2.0 - 0.025 * 0.55], rtol=1e-15)

    adam = optim.AdamW([p])
    adam.load_state_dict({"state": {}, "param_groups": [{"lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8,
                                                         "weight_decay": 0.01, "initial_lr": 0.01, "params": [0]}]})
    assert adam.param_groups[0]["decoupled_weight_decay"] is True and adam.param_groups[0]["amsgrad"] is False


def test_load_state_dict_checks_and_copies():
    p, q = nn.Parameter(np.ones(3), dtype="float64"), nn.Parameter(np.ones(2), dtype="float64")
    opt = optim.Adam([p, q])
    p.grad = q.grad = None
    p.grad = nablab.ones_like(p)
    opt.step()
    state = opt.state_dict()
    other = optim.Adam([p])
    with pytest.raises(ValueError, match="has 2 parameters, this optimizer.s 1"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match="state has 3 parameter groups, this optimizer 2"):
        optim.Adam([{"params": [p]}, {"params": [q]}]).load_state_dict(
            {"state": {}, "param_groups": state["param_groups"] * 2 + state["param_groups"]})
    wrong = {"state": {0: {"step": 1, "exp_avg": np.zeros(2), "exp_avg_sq": np.zeros(2)}},
             "param_groups": state["param_groups"]}
    with pytest.raises(ValueError, match="shape"):
        optim.Adam([p, q]).load_state_dict(wrong)
    fresh = optim.Adam([p, q])
    fresh.load_state_dict(state)
    assert fresh.state[p]["exp_avg"] is not opt.state[p]["exp_avg"]
    np.testing.assert_array_equal(fresh.state[p]["exp_avg"], opt.state[p]["exp_avg"])
    f32 = nn.Parameter(np.ones(3), dtype="float32")
    cast = optim.Adam([f32, nn.Parameter(np.ones(2), dtype="float32")])
    cast.load_state_dict(state)
    assert cast.state[f32]["exp_avg"].dtype == np.float32  # state follows its parameter's dtype, as in torch
