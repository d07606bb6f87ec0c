"""Every differentiable op of nablab, one :class:`~nablab.function.Function` subclass each.

Tensor methods, :mod:`nablab.functions` and :mod:`nablab.nn.functional` are thin wrappers that
call ``Op.apply``; the math (forward, backward, and the derivative in the docstring) lives here.
"""

from .activation import LeakyReLU, ReLU, Sigmoid, Tanh
from .activations_piecewise import Hardshrink, Hardsigmoid, Hardswish, Hardtanh, PReLU, Softshrink, Threshold
from .activations_smooth import ELU, GELU, LogSigmoid, Mish, SiLU, Softplus, Softsign
from .adaptive_pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d
from .arithmetic import Add, Div, Mul, Neg, Pow, PowTensor, Sub
from .conv import Conv2d
from .conv_transpose import ConvTranspose2d
from .copy import Clone, ToDevice
from .elementwise import Abs, Cast, Clip, Exp, Log, Maximum, Minimum, Sqrt, Where
from .embedding import Embedding
from .group_norm import GroupNorm
from .indexing import GetItem, normalize_index
from .interpolate import ResizeLinear, ResizeNearest
from .layer_norm import LayerNorm
from .linalg import Linear, MatMul
from .linear_systems import Determinant, Inverse, Solve
from .loss import LogSoftmax, Softmax, SoftmaxCrossEntropy
from .losses_binary import BinaryCrossEntropy, BinaryCrossEntropyWithLogits
from .losses_kl import KLDivergence
from .losses_nll import NLLLoss
from .losses_regression import Huber, SmoothL1
from .normalization import BatchNormEval, BatchNormTrain
from .normalize import Normalize
from .padding import Pad
from .pooling import AvgPool2d, MaxPool2d
from .recurrent import GRUStep, LSTMStep, RNNStep
from .reduction import Max, Mean, Min, Sum, normalize_axis
from .shape import BroadcastTo, Concatenate, Reshape, Stack, Transpose
from .unpooling import MaxUnpool2d

__all__ = [
    "Abs", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Add", "AvgPool2d", "BatchNormEval", "BatchNormTrain",
    "BinaryCrossEntropy", "BinaryCrossEntropyWithLogits", "BroadcastTo", "Cast", "Clip", "Clone", "Concatenate",
    "Conv2d", "ConvTranspose2d", "Div", "ELU", "Embedding", "Exp", "GELU", "GetItem", "GroupNorm", "Hardshrink",
    "Hardsigmoid", "Hardswish", "Hardtanh", "Huber", "KLDivergence", "LayerNorm", "LeakyReLU", "Linear", "Log",
    "LogSigmoid", "LogSoftmax", "MatMul", "Max", "Maximum", "MaxPool2d", "MaxUnpool2d", "Mean", "Min", "Minimum",
    "Mish", "Mul", "Neg", "NLLLoss", "Normalize", "normalize_axis", "normalize_index", "Pad", "Pow", "PowTensor",
    "PReLU", "ReLU", "Reshape", "ResizeLinear", "ResizeNearest", "Sigmoid", "SiLU", "SmoothL1", "Softmax",
    "SoftmaxCrossEntropy", "Softplus", "Softshrink", "Softsign", "Sqrt", "Stack", "Sub", "Sum", "Tanh", "Threshold",
    "ToDevice", "Transpose", "Where",
]
__all__ += ["Determinant", "GRUStep", "Inverse", "LSTMStep", "RNNStep", "Solve"]
