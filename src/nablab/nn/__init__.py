"""Layers and models: ``nablab.nn`` mirrors ``torch.nn``."""

from . import functional, init
from .activation import ACTIVATIONS, ImprovedSigmoid, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .container import ModuleList, Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Module, count_parameters
from .parameter import Parameter
from .utils import clip_grad_norm_

__all__ = [
    "ACTIVATIONS", "CrossEntropyLoss", "Dropout", "Flatten", "ImprovedSigmoid", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "Module", "ModuleList", "Parameter", "ReLU", "Sequential", "Sigmoid",
    "Softmax", "Tanh", "clip_grad_norm_", "count_parameters", "functional", "init",
]
