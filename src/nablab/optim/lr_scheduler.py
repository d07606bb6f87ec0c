"""Learning-rate schedules (``nablab.optim.lr_scheduler`` mirrors ``torch.optim.lr_scheduler``).

A scheduler is built on an optimizer and stepped after ``optimizer.step()``, once per epoch (or
per batch, for OneCycleLR). Building it sets each group's ``initial_lr`` η₀ (kept if already
there) and takes step 0; ``scheduler.step()`` then advances ``last_epoch`` e by one and writes the
new rates into ``group["lr"]``. With e the epoch:

- ``ExponentialLR(gamma)``                   η = η₀ · γᵉ
- ``StepLR(step_size, gamma)``               η = η₀ · γ^⌊e / step_size⌋
- ``MultiStepLR(milestones, gamma)``         η = η₀ · γ^(number of milestones ≤ e)
- ``LinearLR(start_factor, end_factor, total_iters)``
                                             η = η₀ · (s + (f − s) · min(e, T) / T)
- ``CosineAnnealingLR(T_max, eta_min)``      η = η_min + (η₀ − η_min)(1 + cos(π e / T_max)) / 2
- ``ConstantLR(factor, total_iters)``        η = η₀ · factor for e < total_iters, then η₀
- ``PolynomialLR(total_iters, power)``       η = η₀ · (1 − min(e, T)/T)^power
- ``CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)``  the cosine, restarted after T_0, T_0·T_mult, ... epochs
- ``LambdaLR(lr_lambda)``                    η = η₀ · λ(e)
- ``MultiplicativeLR(lr_lambda)``            η ← η · λ(e)
- ``OneCycleLR(max_lr, total_steps, ...)``   up from max_lr/div_factor to max_lr, then down to
  max_lr/(div_factor·final_div_factor), by cosine or linear pieces (momentum the other way round)
- ``CyclicLR(base_lr, max_lr, step_size_up, ...)``  triangular waves between base_lr and max_lr
- ``SequentialLR(schedulers, milestones)``   one scheduler after the other, each restarted at its milestone
- ``ChainedScheduler(schedulers)``            all of them at every step, their factors multiplied
- ``ReduceLROnPlateau(mode, factor, patience, ...)``  η ← max(η · factor, min_lr) when a metric stalls

As in PyTorch the first seven and MultiplicativeLR are *chainable*: each step multiplies the rate
the group has now by the ratio between consecutive values of the formula
(:meth:`LRScheduler.get_lr`), so two schedulers on one optimizer compose and a rate changed by
hand carries on from where it was set; ``step(epoch)`` (deprecated in PyTorch) jumps to the
closed form above.
"""

from __future__ import annotations

import math
import types
import warnings
from bisect import bisect_right

from .optimizer import Optimizer


def _check_optimizer(optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"a scheduler takes a nablab.optim optimizer, got {type(optimizer).__name__}")


def _per_group(name: str, optimizer, value) -> list:
    """``value`` once per parameter group: a list or tuple of that length as given, else repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name} has {len(value)} values, the optimizer {len(optimizer.param_groups)} groups")
        return list(value)
    return [value] * len(optimizer.param_groups)


def _set_momentum(group: dict, use_beta1: bool, value: float) -> None:
    """Set a group's momentum, or Adam's β₁ (OneCycleLR and CyclicLR cycle it)."""
    if use_beta1:
        group["betas"] = (value, *group["betas"][1:])
    else:
        group["momentum"] = value


def _start_momentum_cycle(scheduler: str, optimizer, max_momentum, base_momentum, fresh: bool):
    """Whether the optimizer's momentum is Adam's β₁ (else ``momentum``), and the per-group (high, low)
    momenta of a cycle; a ``fresh`` start (last_epoch = −1) sets each group's momentum to its high and
    records both in the group, as PyTorch does."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{scheduler} with cycle_momentum needs an optimizer with momentum or betas, "
                         f"{type(optimizer).__name__} has neither")
    use_beta1 = "betas" in optimizer.defaults
    highs = _per_group("max_momentum", optimizer, max_momentum)
    lows = _per_group("base_momentum", optimizer, base_momentum)
    if fresh:
        for group, high, low in zip(optimizer.param_groups, highs, lows):
            _set_momentum(group, use_beta1, high)
            group["max_momentum"], group["base_momentum"] = high, low
    return use_beta1, highs, lows


class LRScheduler:
    """Base class. Subclasses give :meth:`get_lr` (the chainable rule: the rates for epoch
    ``last_epoch`` from the groups' present rates) and, where there is one, :meth:`_closed_form_lr`
    (the rates for ``last_epoch`` from ``base_lrs`` alone).

    ``last_epoch=-1`` starts a fresh schedule; another value resumes one, and then every group
    must already hold its ``initial_lr`` (load the optimizer's state first).
    """

    def __init__(self, optimizer, last_epoch: int = -1):
        _check_optimizer(optimizer)
        self.optimizer = optimizer
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                group.setdefault("initial_lr", group["lr"])
            elif "initial_lr" not in group:
                raise KeyError(f"param_groups[{i}] has no 'initial_lr': a scheduler resumed with "
                               f"last_epoch={last_epoch} needs the optimizer's saved state loaded first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        """Step 0, taken when the scheduler is built (``_is_initial`` is True during it)."""
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def _current_lrs(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]

    def get_lr(self) -> list:  # pragma: no cover - abstract
        raise NotImplementedError

    def _closed_form_lr(self) -> list:
        return self.get_lr()

    def step(self, epoch: int | None = None) -> None:
        """Advance one epoch (or, deprecated, jump to ``epoch``) and write the new rates into the groups."""
        self._step_count += 1
        if epoch is not None:
            warnings.warn("scheduler.step(epoch) is deprecated (as in PyTorch); call scheduler.step()",
                          UserWarning, stacklevel=2)
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        if epoch is None:
            self.last_epoch += 1
            rates = self.get_lr()
        else:
            self.last_epoch = epoch
            rates = self._closed_form_lr()
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
        self._last_lr = self._current_lrs()

    def get_last_lr(self) -> list[float]:
        """The rates of the last step, one per parameter group."""
        return list(self._last_lr)

    def state_dict(self) -> dict:
        """Every attribute but the optimizer (numbers and lists: it can be written as JSON)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore :meth:`state_dict`. The groups' rates come from the optimizer's own state.

        A state from nablab before the PyTorch-style schedulers holds only ``last_epoch``: it is
        taken, and the last rates are read from the optimizer."""
        self.__dict__.update(state_dict)
        if "_last_lr" not in state_dict:
            self._last_lr = self._current_lrs()


#: the base class's earlier name in PyTorch, which older user schedulers subclass
_LRScheduler = LRScheduler


class ExponentialLR(LRScheduler):
    """η ← η · γ every epoch (η = η₀ · γᵉ)."""

    def __init__(self, optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self):
        return [base * self.gamma**self.last_epoch for base in self.base_lrs]


class StepLR(LRScheduler):
    """η ← η · γ every ``step_size`` epochs (η = η₀ · γ^⌊e / step_size⌋)."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if step_size < 1:
            raise ValueError(f"StepLR needs step_size ≥ 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size:
            return self._current_lrs()
        return [lr * self.gamma for lr in self._current_lrs()]

    def _closed_form_lr(self):
        return [base * self.gamma ** (self.last_epoch // self.step_size) for base in self.base_lrs]


class MultiStepLR(LRScheduler):
    """η ← η · γ at every milestone epoch (a milestone listed twice decays twice)."""

    def __init__(self, optimizer, milestones, gamma: float = 0.1, last_epoch: int = -1):
        self.milestones = sorted(int(m) for m in milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        hits = self.milestones.count(self.last_epoch)
        if not hits:
            return self._current_lrs()
        return [lr * self.gamma**hits for lr in self._current_lrs()]

    def _closed_form_lr(self):
        return [base * self.gamma ** bisect_right(self.milestones, self.last_epoch) for base in self.base_lrs]


class LinearLR(LRScheduler):
    """The factor on η₀ goes linearly from ``start_factor`` to ``end_factor`` over ``total_iters`` epochs, then stays.

    Chainable form: η_e = η_{e−1} · (1 + (f − s) / (T·s + (e − 1)(f − s))) for 0 < e ≤ T, η_0 = s · η."""

    def __init__(self, optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0, total_iters: int = 5,
                 last_epoch: int = -1):
        if not 0.0 < start_factor <= 1.0:
            raise ValueError(f"LinearLR's start_factor must lie in (0, 1], got {start_factor}")
        if not 0.0 <= end_factor <= 1.0:
            raise ValueError(f"LinearLR's end_factor must lie in [0, 1], got {end_factor}")
        self.start_factor, self.end_factor, self.total_iters = start_factor, end_factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        s, f, e = self.start_factor, self.end_factor, self.last_epoch
        if e == 0:
            return [lr * s for lr in self._current_lrs()]
        if self._is_initial or e > self.total_iters:
            return self._current_lrs()
        ratio = 1.0 + (f - s) / (self.total_iters * s + (e - 1) * (f - s))
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lr(self):
        s, f = self.start_factor, self.end_factor
        done = min(self.total_iters, self.last_epoch) / self.total_iters
        return [base * (s + (f - s) * done) for base in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    """η = η_min + (η₀ − η_min)(1 + cos(π e / T_max)) / 2, continued past T_max (back up, as in PyTorch).

    Chainable form: η_e − η_min = (η_{e−1} − η_min) · (1 + cos(π e/T)) / (1 + cos(π (e − 1)/T)),
    except where the denominator vanishes (e − 1 ≡ T mod 2T), where η_e = η_{e−1} + (η₀ − η_min)(1 − cos(π/T))/2."""

    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):  # noqa: N803 - PyTorch's name
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR needs T_max ≥ 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, period, low = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current_lrs()
        if self._step_count == 1 and e > 0:  # resumed: start from the closed form
            return self._closed_form_lr()
        if (e - 1 - period) % (2 * period) == 0:
            rise = (1 - math.cos(math.pi / period)) / 2
            return [lr + (base - low) * rise for lr, base in zip(self._current_lrs(), self.base_lrs)]
        ratio = (1 + math.cos(math.pi * e / period)) / (1 + math.cos(math.pi * (e - 1) / period))
        return [ratio * (lr - low) + low for lr in self._current_lrs()]

    def _closed_form_lr(self):
        cos = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]


class ConstantLR(LRScheduler):
    """η = η₀ · factor for the first ``total_iters`` epochs, then η₀."""

    def __init__(self, optimizer, factor: float = 1.0 / 3, total_iters: int = 5, last_epoch: int = -1):
        if not 0.0 <= factor <= 1.0:
            raise ValueError(f"ConstantLR's factor must lie in [0, 1], got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._current_lrs()]
        if self.last_epoch != self.total_iters:
            return self._current_lrs()
        return [lr * (1.0 / self.factor) for lr in self._current_lrs()]

    def _closed_form_lr(self):
        scale = 1.0 if self.last_epoch >= self.total_iters else self.factor
        return [base * scale for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    """η = η₀ · (1 − min(e, T)/T)^power: to 0 over ``total_iters`` epochs T.

    Chainable form: η_e = η_{e−1} · ((1 − e/T) / (1 − (e − 1)/T))^power for 0 < e ≤ T."""

    def __init__(self, optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        e, period = self.last_epoch, self.total_iters
        if self._is_initial or e > period:
            return self._current_lrs()
        ratio = ((1.0 - e / period) / (1.0 - (e - 1) / period)) ** self.power
        return [lr * ratio for lr in self._current_lrs()]

    def _closed_form_lr(self):
        left = (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
        return [base * left for base in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter 2017): η = η_min + (η₀ − η_min)(1 + cos(π T_cur / T_i)) / 2, where
    T_cur counts the epochs since the last restart and the i-th period lasts T_i = T_0 · T_multⁱ.

    ``step(epoch)`` with a fractional epoch (``epoch + batch / batches``) anneals within an epoch."""

    def __init__(self, optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,  # noqa: N803 - PyTorch's names
                 last_epoch: int = -1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts needs a positive integer T_0, got {T_0}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts needs an integer T_mult ≥ 1, got {T_mult}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        cos = (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
        return [self.eta_min + (base - self.eta_min) * cos for base in self.base_lrs]

    def step(self, epoch=None) -> None:
        self._step_count += 1
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur += 1
            if self.T_cur >= self.T_i:
                self.T_cur %= self.T_i
                self.T_i *= self.T_mult
        elif epoch < 0:
            raise ValueError(f"CosineAnnealingWarmRestarts.step needs an epoch ≥ 0, got {epoch}")
        elif epoch < self.T_0:
            self.T_i, self.T_cur = self.T_0, epoch
        elif self.T_mult == 1:
            self.T_cur = epoch % self.T_0
        else:  # restarts at T_0 (T_mult^n − 1)/(T_mult − 1)
            n = int(math.log(epoch / self.T_0 * (self.T_mult - 1) + 1, self.T_mult))
            self.T_cur = epoch - self.T_0 * (self.T_mult**n - 1) / (self.T_mult - 1)
            self.T_i = self.T_0 * self.T_mult**n
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._current_lrs()


class _FactorFunctions:
    """The per-group functions of LambdaLR and MultiplicativeLR: ``lr_lambda`` is one function for
    every group or a list with one per group. ``state_dict`` keeps the attributes of callable
    objects, not plain functions (which are code), as PyTorch does."""

    def _set_functions(self, optimizer, lr_lambda) -> None:
        _check_optimizer(optimizer)
        self.lr_lambdas = _per_group("lr_lambda", optimizer, lr_lambda)
        if not all(callable(fn) for fn in self.lr_lambdas):
            raise TypeError(f"{type(self).__name__}'s lr_lambda must be a function (or a list of one per group)")

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) or not hasattr(fn, "__dict__")
                               else dict(vars(fn)) for fn in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        saved = state.pop("lr_lambdas", [None] * len(self.lr_lambdas))
        LRScheduler.load_state_dict(self, state)
        for fn, attributes in zip(self.lr_lambdas, saved):
            if attributes is not None:
                fn.__dict__.update(attributes)


class LambdaLR(_FactorFunctions, LRScheduler):
    """η = η₀ · λ(e)."""

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        self._set_functions(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base * fn(self.last_epoch) for fn, base in zip(self.lr_lambdas, self.base_lrs)]


class MultiplicativeLR(_FactorFunctions, LRScheduler):
    """η ← η · λ(e) at every epoch e ≥ 1."""

    def __init__(self, optimizer, lr_lambda, last_epoch: int = -1):
        self._set_functions(optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current_lrs()
        return [lr * fn(self.last_epoch) for fn, lr in zip(self.lr_lambdas, self._current_lrs())]


class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin 2017), stepped once per batch for ``total_steps`` (or
    ``epochs · steps_per_epoch``) steps.

    Each group goes from η₀ = max_lr / div_factor up to max_lr over the first ``pct_start`` of the
    steps, then down to η₀ / final_div_factor; ``three_phase`` goes back down to η₀ symmetrically
    first and spends the rest reaching the minimum. Within a phase from a to b at fraction p:
    cosine a + (b − a)(1 − cos πp)/2 … written b + (a − b)(1 + cos πp)/2, or linear a + (b − a)p.
    With ``cycle_momentum`` the momentum (or Adam's β₁) moves the other way, between
    max_momentum and base_momentum.
    """

    def __init__(self, optimizer, max_lr, total_steps: int | None = None, epochs: int | None = None,
                 steps_per_epoch: int | None = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95, div_factor: float = 25.0,
                 final_div_factor: float = 1e4, three_phase: bool = False, last_epoch: int = -1):
        _check_optimizer(optimizer)
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR needs a positive integer total_steps, got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for name, value in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(value, int) or value <= 0:
                    raise ValueError(f"OneCycleLR needs a positive integer {name}, got {value}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR needs total_steps, or epochs and steps_per_epoch")
        if not isinstance(pct_start, float) or not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"OneCycleLR's pct_start must be a float in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR's anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        self.anneal_strategy = anneal_strategy
        up = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if three_phase:  # (last step of the phase, lr from, lr to, momentum from, momentum to)
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr",
                            "base_momentum", "max_momentum"),
                           (last, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self.phases = [(up, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                           (last, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        groups = optimizer.param_groups
        if last_epoch == -1:
            for group, peak in zip(groups, _per_group("max_lr", optimizer, max_lr)):
                group["initial_lr"] = peak / div_factor
                group["max_lr"] = peak
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = _start_momentum_cycle("OneCycleLR", optimizer, max_momentum, base_momentum,
                                                   last_epoch == -1)[0]
        super().__init__(optimizer, last_epoch)

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR stepped {step} times, more than its total_steps={self.total_steps}")
        rates = []
        for group in self.optimizer.param_groups:
            start = 0.0
            for i, (end, lr_from, lr_to, m_from, m_to) in enumerate(self.phases):
                if step <= end or i == len(self.phases) - 1:
                    pct = (step - start) / (end - start)
                    rates.append(self._anneal(group[lr_from], group[lr_to], pct))
                    if self.cycle_momentum:
                        _set_momentum(group, self.use_beta1, self._anneal(group[m_from], group[m_to], pct))
                    break
                start = end
        return rates


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith 2017), stepped once per batch: η rises linearly from
    ``base_lr`` to ``max_lr`` over ``step_size_up`` steps, falls back over ``step_size_down``
    (default the same), and repeats; momentum (or Adam's β₁) moves the other way.

    The amplitude (max_lr − base_lr) is scaled by s: "triangular" s = 1, "triangular2" s = 1/2^(c−1)
    in cycle c, "exp_range" s = γ^step, or a given ``scale_fn`` of the cycle or the step
    (``scale_mode``). ``state_dict`` keeps the attributes of a callable object ``scale_fn``, not a function.
    """

    def __init__(self, optimizer, base_lr, max_lr, step_size_up: int = 2000, step_size_down: int | None = None,
                 mode: str = "triangular", gamma: float = 1.0, scale_fn=None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum=0.8, max_momentum=0.9, last_epoch: int = -1):
        _check_optimizer(optimizer)
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR's mode must be 'triangular', 'triangular2' or 'exp_range' "
                             f"(or give scale_fn), got {mode!r}")
        base_lrs = _per_group("base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        self.max_lrs = _per_group("max_lr", optimizer, max_lr)
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size, self.step_ratio = up + down, up / (up + down)
        self.mode, self.gamma, self.scale_fn = mode, gamma, scale_fn
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.max_momentums, self.base_momentums = _start_momentum_cycle(
                "CyclicLR", optimizer, max_momentum, base_momentum, last_epoch == -1)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _scale(self, x: float) -> float:
        if self.scale_fn is not None:
            return self.scale_fn(x)
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        if self.mode == "exp_range":
            return self.gamma**x
        return 1.0

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # position within the cycle, in [0, 1)
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self._scale(cycle if self.scale_mode == "cycle" else self.last_epoch)
        if self.cycle_momentum:
            for group, low, high in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                _set_momentum(group, self.use_beta1, high - (high - low) * height * scale)
        return [low + (high - low) * height * scale for low, high in zip(self.base_lrs, self.max_lrs)]

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "scale_fn")}
        fn = self.scale_fn
        state["scale_fn"] = None if fn is None or isinstance(fn, types.FunctionType) else dict(vars(fn))
        return state

    def load_state_dict(self, state_dict):
        state = dict(state_dict)
        attributes = state.pop("scale_fn", None)
        super().load_state_dict(state)
        if attributes is not None:
            self.scale_fn.__dict__.update(attributes)


class _Composed:
    """Schedulers made of others (``_schedulers``): their states are saved and loaded with the composite's."""

    def state_dict(self) -> dict:
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        inner = state.pop("_schedulers")
        self.__dict__.update(state)
        for scheduler, saved in zip(self._schedulers, inner):
            scheduler.load_state_dict(saved)


class SequentialLR(_Composed, LRScheduler):
    """``schedulers[i]`` runs from ``milestones[i − 1]`` (restarted there at its epoch 0) to ``milestones[i]``."""

    def __init__(self, optimizer, schedulers, milestones, last_epoch: int = -1):
        _check_optimizer(optimizer)
        if not schedulers:
            raise ValueError("SequentialLR needs at least one scheduler")
        _check_schedulers("SequentialLR", optimizer, schedulers)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR needs one milestone fewer than schedulers, got {len(schedulers)} "
                             f"schedulers and {len(milestones)} milestones")
        self._schedulers = list(schedulers)
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:  # undo what building the schedulers did
            group["lr"] = group["initial_lr"]
        for scheduler in self._schedulers:
            _undo_initial_step(scheduler)
        first = self._schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        i = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[i]
        if i > 0 and self._milestones[i - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


def _check_schedulers(name: str, optimizer, schedulers) -> None:
    for i, scheduler in enumerate(schedulers):
        if isinstance(scheduler, ReduceLROnPlateau):
            raise ValueError(f"{name} cannot run ReduceLROnPlateau (schedulers[{i}]): it steps on a metric")
        if getattr(scheduler, "optimizer", None) is not optimizer:
            raise ValueError(f"{name}'s schedulers[{i}] ({type(scheduler).__name__}) belongs to another optimizer")


def _undo_initial_step(scheduler) -> None:
    """Take back the epoch a scheduler counted when it was built (recursively, for SequentialLR)."""
    if hasattr(scheduler, "_schedulers"):
        for inner in scheduler._schedulers:
            _undo_initial_step(inner)
    else:
        scheduler.last_epoch -= 1


class ChainedScheduler(_Composed, LRScheduler):
    """Steps every one of ``schedulers`` (chainable, on one optimizer) at each ``step()``: their factors multiply."""

    def __init__(self, schedulers, optimizer=None):
        if not schedulers:
            raise ValueError("ChainedScheduler needs at least one scheduler")
        optimizer = optimizer if optimizer is not None else schedulers[0].optimizer
        _check_schedulers("ChainedScheduler", optimizer, schedulers)
        self._schedulers = list(schedulers)
        self.optimizer = optimizer
        self._last_lr = self._current_lrs()

    def step(self) -> None:
        for scheduler in self._schedulers:
            scheduler.step()
        self._last_lr = self._current_lrs()


class ReduceLROnPlateau(LRScheduler):
    """``step(metric)``: when the metric has not improved for more than ``patience`` steps, every
    group's η ← max(η · factor, min_lr) (changes smaller than ``eps`` are skipped), then
    ``cooldown`` steps pass before bad steps count again.

    An improvement on the best value b so far: mode "min" needs a < b(1 − threshold) ("rel") or
    a < b − threshold ("abs"); mode "max" a > b(1 + threshold) or a > b + threshold.
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0, min_lr=0,
                 eps: float = 1e-8):
        _check_optimizer(optimizer)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau needs factor < 1, got {factor}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau's mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau's threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.optimizer = optimizer
        self.factor, self.patience, self.cooldown, self.eps = factor, patience, cooldown, eps
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.min_lrs = _per_group("min_lr", optimizer, min_lr)
        self.last_epoch = 0
        self._last_lr = self._current_lrs()
        self.best = self.mode_worse = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def is_better(self, value: float, best: float) -> bool:
        if self.threshold_mode == "rel":
            return value < best * (1 - self.threshold) if self.mode == "min" else value > best * (1 + self.threshold)
        return value < best - self.threshold if self.mode == "min" else value > best + self.threshold

    def step(self, metrics, epoch=None) -> None:
        value = float(metrics.item() if hasattr(metrics, "item") else metrics)
        if epoch is not None:
            warnings.warn("ReduceLROnPlateau.step(metrics, epoch) is deprecated (as in PyTorch)",
                          UserWarning, stacklevel=2)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self.is_better(value, self.best):
            self.best, self.num_bad_epochs = value, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = self._current_lrs()

    def _reduce_lr(self) -> None:
        groups = self.optimizer.param_groups
        if len(groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise RuntimeError(f"the optimizer has {len(groups)} parameter groups, ReduceLROnPlateau was "
                                   f"given {len(self.min_lrs)} min_lrs; set scheduler.min_lrs to one per group")
            self.min_lrs = [self.default_min_lr] * len(groups)
        for group, low in zip(groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, low)
            if old - new > self.eps:
                group["lr"] = new
