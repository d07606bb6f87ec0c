"""Layers and models: ``nablab.nn`` mirrors ``torch.nn``."""

from . import functional, init
from .activation import ACTIVATIONS, ImprovedSigmoid, LeakyReLU, LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .batchnorm import BatchNorm1d, BatchNorm2d
from .container import ModuleList, Sequential
from .conv import Conv2d
from .dropout import Dropout
from .flatten import Flatten
from .linear import Linear
from .loss import CrossEntropyLoss, MSELoss
from .module import Module, StateDictError, count_parameters
from .parameter import Parameter
from .pooling import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d
from .utils import clip_grad_norm_

__all__ = [
    "ACTIVATIONS", "AdaptiveAvgPool2d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv2d",
    "CrossEntropyLoss", "Dropout", "Flatten", "ImprovedSigmoid", "LeakyReLU", "Linear", "LogSoftmax",
    "MSELoss", "MaxPool2d", "Module", "ModuleList", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
    "StateDictError", "Tanh", "clip_grad_norm_", "count_parameters", "functional", "init",
]
