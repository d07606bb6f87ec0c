"""Every differentiable op of nablab, one :class:`~nablab.function.Function` subclass each.

Tensor methods, :mod:`nablab.functions` and :mod:`nablab.nn.functional` are thin wrappers that
call ``Op.apply``; the math (forward, backward, and the derivative in the docstring) lives here.
"""

from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .arithmetic import Add, Div, Mul, Neg, Pow, PowTensor, Sub
from .conv import Conv2d
from .copy import Clone, ToDevice
from .elementwise import Abs, Cast, Clip, Exp, Log, Maximum, Minimum, Sqrt, Where
from .embedding import Embedding
from .linalg import Linear, MatMul
from .loss import LogSoftmax, Softmax, SoftmaxCrossEntropy
from .normalization import BatchNormEval, BatchNormTrain
from .pooling import AvgPool2d, MaxPool2d
from .reduction import Max, Mean, Min, Sum, normalize_axis
from .shape import BroadcastTo, Concatenate, GetItem, Reshape, Stack, Transpose, normalize_index

__all__ = [
    "Abs", "Add", "AvgPool2d", "BatchNormEval", "BatchNormTrain", "BroadcastTo", "Cast", "Clip", "Clone", "Concatenate",
    "Conv2d", "Div", "Embedding", "Exp", "GetItem", "LeakyReLU", "Linear", "Log", "LogSoftmax", "MatMul", "Max",
    "MaxPool2d", "Maximum", "Mean", "Min", "Minimum", "Mul", "Neg", "Pow", "PowTensor", "ReLU", "Reshape", "Sigmoid",
    "Softmax", "SoftmaxCrossEntropy", "Sqrt", "Stack", "Sub", "Sum", "Tanh", "ToDevice", "Transpose", "Where",
    "normalize_axis", "normalize_index",
]
