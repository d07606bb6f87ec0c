"""Learning-rate schedules, stepped once per epoch (``scheduler.step()``) as in PyTorch.

Each sets ``group["lr"]`` of every parameter group from the group's initial rate η₀ and the
number of steps taken so far, e:

- ``ExponentialLR(gamma)``            η = η₀ · γᵉ                (the reports' "decay 0.95 per epoch")
- ``StepLR(step_size, gamma)``        η = η₀ · γ^⌊e / step_size⌋
- ``CosineAnnealingLR(T_max, eta_min)`` η = η_min + (η₀ − η_min)(1 + cos(π e / T_max)) / 2
"""

from __future__ import annotations

import math


class LRScheduler:
    """Base class: ``step()`` advances the epoch count and writes the new rates into the optimizer."""

    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.last_epoch = 0
        self._apply()

    def rate(self, initial_lr: float, epoch: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _apply(self) -> None:
        for group in self.optimizer.param_groups:
            group["lr"] = self.rate(group["initial_lr"], self.last_epoch)

    def step(self) -> None:
        self.last_epoch += 1
        self._apply()

    def get_last_lr(self) -> list[float]:
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {"last_epoch": self.last_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.last_epoch = int(state["last_epoch"])
        self._apply()


class ExponentialLR(LRScheduler):
    def __init__(self, optimizer, gamma: float):
        self.gamma = gamma
        super().__init__(optimizer)

    def rate(self, initial_lr, epoch):
        return initial_lr * self.gamma**epoch


class StepLR(LRScheduler):
    def __init__(self, optimizer, step_size: int, gamma: float = 0.1):
        if step_size < 1:
            raise ValueError(f"StepLR needs step_size ≥ 1, got {step_size}")
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer)

    def rate(self, initial_lr, epoch):
        return initial_lr * self.gamma ** (epoch // self.step_size)


class CosineAnnealingLR(LRScheduler):
    def __init__(self, optimizer, T_max: int, eta_min: float = 0.0):  # noqa: N803 - PyTorch's name
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR needs T_max ≥ 1, got {T_max}")
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer)

    def rate(self, initial_lr, epoch):
        return self.eta_min + (initial_lr - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2
