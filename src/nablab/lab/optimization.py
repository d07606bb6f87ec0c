"""The optimizer and learning-rate schedule a run's ``[optim]`` (and ``[train] epochs``) settings describe."""

from __future__ import annotations


def optimizer_and_schedule(model, config: dict):
    """``(optimizer, scheduler)`` for ``model`` from a resolved configuration; the scheduler is None without a
    schedule (it is stepped once per epoch)."""
    from .. import optim

    o, t = config["optim"], config["train"]
    kwargs = {"lr": o["lr"], "weight_decay": o["weight_decay"]}
    if o["optimizer"] == "sgd":
        kwargs.update(momentum=o["momentum"], nesterov=o["nesterov"])
    optimizer = optim.OPTIMIZERS[o["optimizer"]](model.parameters(), **kwargs)
    schedules = {
        None: lambda: None,
        "exponential": lambda: optim.lr_scheduler.ExponentialLR(optimizer, o["lr_decay"]),
        "step": lambda: optim.lr_scheduler.StepLR(optimizer, o["step_size"], o["lr_decay"]),
        "cosine": lambda: optim.lr_scheduler.CosineAnnealingLR(optimizer, t["epochs"], o["eta_min"]),
    }
    return optimizer, schedules[o["schedule"]]()
