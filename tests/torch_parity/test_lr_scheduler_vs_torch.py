"""nablab.optim.lr_scheduler against torch.optim.lr_scheduler: the learning-rate (and momentum)
sequences over 30+ steps, scheduler and optimizer together, state round trips through JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab import optim  # noqa: E402
from nablab.nn import Parameter  # noqa: E402

pytestmark = pytest.mark.torch

SHAPES = [(3, 4), (5,)]
EPOCHS = 30


def params(lib, seed=0):
    rng = np.random.default_rng(seed)
    values = [rng.standard_normal(s) for s in SHAPES]
    if lib is optim:
        return [Parameter(v, dtype=np.float64) for v in values]
    return [torch.tensor(v, requires_grad=True) for v in values]


def sgd(lib, ps, momentum=0.9):
    """Two groups, lr 0.1 and 0.02, so that every schedule is checked per group."""
    return lib.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.02}], lr=0.1, momentum=momentum)


def run(lib, make, epochs=EPOCHS, optimizer=sgd, metrics=None):
    """[(lr of each group, momentum or β₁ of each group, last_epoch)] after construction and after every step."""
    opt = optimizer(lib, params(lib))
    sched = make(lib.lr_scheduler, opt)

    def record():
        lrs = list(sched.get_last_lr())
        assert lrs == [g["lr"] for g in opt.param_groups]
        moms = [g["betas"][0] if "betas" in g else g["momentum"] for g in opt.param_groups]
        return lrs + moms + [getattr(sched, "last_epoch", math.nan)]  # ChainedScheduler has none, in torch too

    rows = [record()]
    for epoch in range(epochs):
        opt.step()  # no gradients: a no-op, but torch wants it before scheduler.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[epoch])
        rows.append(record())
    return np.array(rows, dtype=np.float64)


def assert_same_sequence(make, **kw):
    ours, theirs = run(optim, make, **kw), run(torch.optim, make, **kw)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-15)
    return ours


S = pytest.param
SCHEDULERS = [
    S(lambda m, o: m.ExponentialLR(o, gamma=0.95), id="exponential"),
    S(lambda m, o: m.ExponentialLR(o, gamma=0.5), id="exponential_fast"),
    S(lambda m, o: m.StepLR(o, step_size=7), id="step_default_gamma"),
    S(lambda m, o: m.StepLR(o, step_size=4, gamma=0.5), id="step"),
    S(lambda m, o: m.StepLR(o, step_size=1, gamma=0.9), id="step_every_epoch"),
    S(lambda m, o: m.CosineAnnealingLR(o, T_max=30), id="cosine"),
    S(lambda m, o: m.CosineAnnealingLR(o, T_max=10, eta_min=1e-3), id="cosine_eta_min_past_T_max"),
    S(lambda m, o: m.CosineAnnealingLR(o, T_max=7), id="cosine_short_period"),
    S(lambda m, o: m.MultiStepLR(o, milestones=[3, 8, 20]), id="multistep"),
    S(lambda m, o: m.MultiStepLR(o, milestones=[12, 5, 5], gamma=0.5), id="multistep_unsorted_repeated"),
    S(lambda m, o: m.LinearLR(o), id="linear_defaults"),
    S(lambda m, o: m.LinearLR(o, start_factor=0.1, end_factor=0.9, total_iters=12), id="linear_warmup"),
    S(lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=20), id="linear_decay_to_zero"),
    S(lambda m, o: m.ConstantLR(o), id="constant_defaults"),
    S(lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=12), id="constant"),
    S(lambda m, o: m.PolynomialLR(o), id="polynomial_defaults"),
    S(lambda m, o: m.PolynomialLR(o, total_iters=20, power=2.5), id="polynomial"),
    S(lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=7), id="warm_restarts"),
    S(lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2, eta_min=1e-3), id="warm_restarts_T_mult"),
    S(lambda m, o: m.MultiplicativeLR(o, lambda e: 0.95), id="multiplicative"),
    S(lambda m, o: m.MultiplicativeLR(o, [lambda e: 0.9, lambda e: 1 + 0.01 * e]), id="multiplicative_per_group"),
    S(lambda m, o: m.ChainedScheduler([m.ConstantLR(o, factor=0.1, total_iters=4), m.ExponentialLR(o, 0.9)]),
      id="chained"),
    S(lambda m, o: m.SequentialLR(o, [m.ConstantLR(o, factor=0.1, total_iters=20), m.PolynomialLR(o, 10, 2.0)],
                                  milestones=[5]), id="sequential_constant_polynomial"),
    S(lambda m, o: m.LambdaLR(o, lambda e: 0.9**e + 0.01 * e), id="lambda"),
    S(lambda m, o: m.LambdaLR(o, [lambda e: 1 / (1 + e), lambda e: (e % 5 + 1) / 5]), id="lambda_per_group"),
    S(lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=30), id="onecycle_cos"),
    S(lambda m, o: m.OneCycleLR(o, max_lr=[1.0, 0.3], epochs=6, steps_per_epoch=5, anneal_strategy="linear",
                                pct_start=0.4, div_factor=10.0, final_div_factor=100.0), id="onecycle_linear"),
    S(lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=31, three_phase=True), id="onecycle_three_phase_cos"),
    S(lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=30, three_phase=True, anneal_strategy="linear",
                                base_momentum=[0.8, 0.7], max_momentum=0.99), id="onecycle_three_phase_linear"),
    S(lambda m, o: m.OneCycleLR(o, max_lr=0.5, total_steps=40, cycle_momentum=False), id="onecycle_no_momentum"),
    S(lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=4), id="cyclic_triangular"),
    S(lambda m, o: m.CyclicLR(o, base_lr=[0.01, 0.001], max_lr=[0.1, 0.05], step_size_up=3, step_size_down=5,
                              mode="triangular2", base_momentum=0.7, max_momentum=[0.95, 0.9]),
      id="cyclic_triangular2"),
    S(lambda m, o: m.CyclicLR(o, base_lr=0.01, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.95),
      id="cyclic_exp_range"),
    S(lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=2, scale_fn=lambda x: 1 / (1 + x), scale_mode="iterations",
                              cycle_momentum=False), id="cyclic_scale_fn"),
    S(lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=5),
                                      m.CosineAnnealingLR(o, T_max=20)], milestones=[5]),
      id="sequential_warmup_cosine"),
    S(lambda m, o: m.SequentialLR(o, [m.ExponentialLR(o, 0.9), m.StepLR(o, 3, 0.5), m.MultiStepLR(o, [2, 4])],
                                  milestones=[6, 15]), id="sequential_three"),
    S(lambda m, o: m.SequentialLR(o, [m.LambdaLR(o, lambda e: e + 1), m.ExponentialLR(o, 0.8)], milestones=[4]),
      id="sequential_lambda"),
]


@pytest.mark.parametrize("make", SCHEDULERS)
def test_schedule_matches_torch(make):
    rows = assert_same_sequence(make)
    assert rows.shape == (EPOCHS + 1, 5)
    if not np.isnan(rows[0, 4]):
        np.testing.assert_array_equal(rows[:, 4], np.arange(EPOCHS + 1))


@pytest.mark.parametrize("T_mult", [1, 2, 3])
def test_warm_restarts_with_fractional_epochs_match_torch(T_mult):
    """The per-batch idiom: scheduler.step(epoch + batch / batches)."""
    rows = []
    for lib in (optim, torch.optim):
        opt = sgd(lib, params(lib))
        sched = lib.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=2, T_mult=T_mult, eta_min=0.001)
        lrs = []
        for epoch in range(12):
            for batch in range(4):
                opt.step()
                sched.step(epoch + batch / 4)
                lrs.append(sched.get_last_lr() + [sched.last_epoch, sched.T_cur, sched.T_i])
        rows.append(np.array(lrs, dtype=np.float64))
    np.testing.assert_allclose(rows[0], rows[1], rtol=1e-12, atol=1e-15)


def warmup(lib):
    """A user's scheduler written against torch's LRScheduler (and its older name _LRScheduler)."""
    class Warmup(lib.optim.lr_scheduler._LRScheduler):
        def __init__(self, optimizer, warmup_epochs, last_epoch=-1):
            self.warmup_epochs = warmup_epochs
            super().__init__(optimizer, last_epoch)

        def get_lr(self):
            scale = min(1.0, (self.last_epoch + 1) / self.warmup_epochs)
            return [base * scale * 0.97 ** max(0, self.last_epoch - self.warmup_epochs) for base in self.base_lrs]
    return Warmup


def test_a_torch_style_custom_scheduler_runs_the_same():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch: _LRScheduler is deprecated
        assert_same_sequence(lambda m, o: warmup(nablab if m is optim.lr_scheduler else torch)(o, 6))
    assert issubclass(warmup(nablab), optim.lr_scheduler.LRScheduler)


def test_onecycle_and_cyclic_cycle_adams_beta1_like_torch():
    def adam(lib, ps):
        return lib.Adam([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.02}], lr=0.1, betas=(0.9, 0.99))

    assert_same_sequence(lambda m, o: m.OneCycleLR(o, max_lr=0.01, total_steps=30), optimizer=adam)
    assert_same_sequence(lambda m, o: m.CyclicLR(o, 0.001, 0.01, step_size_up=4), optimizer=adam)


def test_onecycle_refuses_more_steps_than_total():
    opt = sgd(optim, params(optim))
    sched = optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()
    with pytest.raises(ValueError, match="total_steps=3"):
        sched.step()


def test_chained_schedulers_on_one_optimizer_compose_like_torch():
    """Two chainable schedulers stepped together multiply their factors (torch's ChainedScheduler semantics)."""
    def both(m, o):
        warm, decay = m.LinearLR(o, start_factor=0.2, total_iters=4), m.StepLR(o, step_size=3, gamma=0.5)

        class Both:
            def step(self):
                warm.step()
                decay.step()

            def get_last_lr(self):
                return decay.get_last_lr()

            @property
            def last_epoch(self):
                return decay.last_epoch
        return Both()

    assert_same_sequence(both)


def test_rate_set_by_hand_carries_on_like_torch():
    for lib in (optim, torch.optim):
        opt = sgd(lib, params(lib))
        sched = lib.lr_scheduler.ExponentialLR(opt, gamma=0.5)
        opt.step()
        sched.step()
        opt.param_groups[0]["lr"] = 1.0
        sched.step()
        assert sched.get_last_lr()[0] == 0.5


LOSSES = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.9, 0.89, 0.9, 0.9, 0.9, 0.9, 0.88, 0.9, 0.9, 0.9, 0.9, 0.9, 0.5,
          0.51, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]


@pytest.mark.parametrize("kwargs", [
    S(dict(), id="defaults"),
    S(dict(patience=1), id="min_rel"),
    S(dict(patience=2, threshold=0.05, threshold_mode="abs", factor=0.5), id="min_abs"),
    S(dict(mode="max", patience=1, factor=0.5), id="max_rel"),
    S(dict(mode="max", patience=0, threshold=0.02, threshold_mode="abs"), id="max_abs"),
    S(dict(patience=0, cooldown=2, factor=0.5), id="cooldown"),
    S(dict(patience=0, factor=0.5, min_lr=0.01), id="min_lr"),
    S(dict(patience=0, factor=0.5, min_lr=[0.02, 0.001], eps=1e-3), id="min_lr_per_group_eps"),
])
def test_reduce_on_plateau_matches_torch(kwargs):
    metrics = LOSSES if kwargs.get("mode") != "max" else [2 - x for x in LOSSES]
    rows = assert_same_sequence(lambda m, o: m.ReduceLROnPlateau(o, **kwargs), metrics=metrics)
    if kwargs.get("patience", 10) < 3:
        assert rows[-1, 0] < rows[0, 0]  # the sequence does reduce


def test_reduce_on_plateau_takes_a_tensor_metric():
    opt = sgd(optim, params(optim))
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
    for _ in range(3):
        sched.step(nablab.tensor(1.0))
    assert sched.get_last_lr() == pytest.approx([1e-3, 2e-4])


def test_scheduled_training_matches_torch():
    """Scheduler and optimizer together: OneCycleLR changing lr and momentum every step under SGD."""
    rng = np.random.default_rng(1)
    grads = [[rng.standard_normal(s) for s in SHAPES] for _ in range(20)]
    nb, tp = params(optim), params(torch.optim)
    nb_opt, t_opt = sgd(optim, nb), sgd(torch.optim, tp)
    nb_sched = optim.lr_scheduler.OneCycleLR(nb_opt, max_lr=0.5, total_steps=20)
    t_sched = torch.optim.lr_scheduler.OneCycleLR(t_opt, max_lr=0.5, total_steps=20)
    for g in grads:
        for p, q, x in zip(nb, tp, g):
            p.grad, q.grad = nablab.tensor(x, dtype=np.float64), torch.from_numpy(x.copy())
        nb_opt.step()
        t_opt.step()
        nb_sched.step()
        t_sched.step()
    for p, q in zip(nb, tp):
        np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- state round trips
ROUND_TRIPS = [
    S(lambda m, o: m.CosineAnnealingLR(o, T_max=10), id="cosine"),
    S(lambda m, o: m.MultiStepLR(o, milestones=[3, 3, 8]), id="multistep"),
    S(lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=9), id="linear"),
    S(lambda m, o: m.OneCycleLR(o, max_lr=1.0, total_steps=20, three_phase=True), id="onecycle"),
    S(lambda m, o: m.SequentialLR(o, [m.LinearLR(o, start_factor=0.1, total_iters=3),
                                      m.ExponentialLR(o, 0.9)], milestones=[3]), id="sequential"),
    S(lambda m, o: m.LambdaLR(o, lambda e: 0.5**e), id="lambda"),
    S(lambda m, o: m.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2), id="warm_restarts"),
    S(lambda m, o: m.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="triangular2"), id="cyclic"),
    S(lambda m, o: m.ChainedScheduler([m.LinearLR(o, 0.2, total_iters=6), m.MultiStepLR(o, [5, 9])]), id="chained"),
]


@pytest.mark.parametrize("make", ROUND_TRIPS)
def test_state_dict_round_trip_through_json(make):
    """Stop after 4 steps, write optimizer and scheduler state as JSON (as the lab's checkpoints
    do), rebuild both on fresh parameters, load, and go on: the rates continue as uninterrupted,
    and as torch's."""
    opt = sgd(optim, params(optim))
    sched = make(optim.lr_scheduler, opt)
    for _ in range(4):
        sched.step()
    saved = json.loads(json.dumps({"optim": opt.state_dict(), "sched": sched.state_dict()}))
    opt2 = sgd(optim, params(optim))
    sched2 = make(optim.lr_scheduler, opt2)
    opt2.load_state_dict(saved["optim"])
    sched2.load_state_dict(saved["sched"])
    assert sched2.get_last_lr() == sched.get_last_lr()
    expected = run(torch.optim, make, epochs=14)
    for epoch in range(5, 15):
        sched.step()
        sched2.step()
        assert sched2.get_last_lr() == sched.get_last_lr()
        np.testing.assert_allclose(sched2.get_last_lr(), expected[epoch, :2], rtol=1e-12)
        assert getattr(sched2, "last_epoch", math.nan) == expected[epoch, 4] or np.isnan(expected[epoch, 4])


def test_reduce_on_plateau_round_trip_through_json():
    opt = sgd(optim, params(optim))
    sched = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    for loss in LOSSES[:5]:
        sched.step(loss)
    saved = json.loads(json.dumps(sched.state_dict()))
    assert saved["best"] == 0.9 and saved["mode_worse"] == math.inf
    sched2 = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    sched2.load_state_dict(saved)
    for loss in LOSSES[5:]:
        lrs = [g["lr"] for g in opt.param_groups]
        sched.step(loss)
        after = [g["lr"] for g in opt.param_groups]
        for g, lr in zip(opt.param_groups, lrs):
            g["lr"] = lr
        sched2.step(loss)
        assert [g["lr"] for g in opt.param_groups] == after


def test_resuming_with_last_epoch_needs_initial_lr_like_torch():
    opt = sgd(optim, params(optim))
    with pytest.raises(KeyError, match="initial_lr"):
        optim.lr_scheduler.StepLR(opt, step_size=2, last_epoch=3)
    for lib in (optim, torch.optim):
        opt = sgd(lib, params(lib))
        for g in opt.param_groups:
            g["initial_lr"] = g["lr"]
        sched = lib.lr_scheduler.CosineAnnealingLR(opt, T_max=10, last_epoch=3)
        assert sched.last_epoch == 4
        if lib is optim:
            ours = sched.get_last_lr()
        else:
            np.testing.assert_allclose(ours, sched.get_last_lr(), rtol=1e-12)


def test_bad_arguments_are_clear_errors():
    opt = sgd(optim, params(optim))
    sch = optim.lr_scheduler
    with pytest.raises(TypeError, match="optimizer"):
        sch.StepLR(object(), step_size=1)
    with pytest.raises(ValueError, match="start_factor"):
        sch.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="lr_lambda has 1 values"):
        sch.LambdaLR(opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="total_steps"):
        sch.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="anneal_strategy"):
        sch.OneCycleLR(opt, max_lr=1.0, total_steps=5, anneal_strategy="exp")
    with pytest.raises(ValueError, match="mode"):
        sch.ReduceLROnPlateau(opt, mode="lowest")
    with pytest.raises(ValueError, match="one milestone fewer"):
        sch.SequentialLR(opt, [sch.StepLR(opt, 2), sch.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="ReduceLROnPlateau"):
        sch.SequentialLR(opt, [sch.StepLR(opt, 2), sch.ReduceLROnPlateau(opt)], milestones=[2])
    adagrad = optim.Adagrad(params(optim))
    with pytest.raises(ValueError, match="momentum or betas"):
        sch.OneCycleLR(adagrad, max_lr=1.0, total_steps=5)
