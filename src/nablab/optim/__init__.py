"""Optimizers (``nablab.optim`` mirrors ``torch.optim``) and learning-rate schedules."""

from . import lr_scheduler
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .adamax import Adamax
from .lbfgs import LBFGS
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .sgd import SGD

#: optimizers by name, for configs and the CLI (``--optimizer adam``); not LBFGS, whose step needs a closure
OPTIMIZERS = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "adadelta": Adadelta, "adagrad": Adagrad,
              "rmsprop": RMSprop, "nadam": NAdam, "radam": RAdam, "adamax": Adamax}

__all__ = ["LBFGS", "OPTIMIZERS", "SGD", "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "NAdam", "Optimizer",
           "RAdam", "RMSprop", "lr_scheduler"]
