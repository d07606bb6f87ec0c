"""Optimizers (``nablab.optim`` mirrors ``torch.optim``) and learning-rate schedules."""

from . import lr_scheduler
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

#: optimizers by name, for configs and the CLI (``--optimizer adam``)
OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW}

__all__ = ["OPTIMIZERS", "SGD", "Adam", "AdamW", "Optimizer", "lr_scheduler"]
