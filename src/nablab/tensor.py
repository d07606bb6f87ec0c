"""``Tensor``: an n-dimensional array that remembers how it was computed.

A tensor wraps a NumPy (or CuPy) array in ``.data``. When it ``requires_grad`` and gradient
recording is on, every op applied to it creates a :class:`~nablab.function.Function` node and the
result points back to that node through ``.creator``; ``loss.backward()`` then walks those nodes
in reverse topological order and leaves the gradient dL/dx in ``x.grad`` of every leaf.
"""

from __future__ import annotations

import numbers
import weakref

import numpy as np

from . import dtypes, function, ops
from .backend import get_array_module, is_float_dtype, settle_checks, to_host
from .device import default_or
from .dtypes import DEFAULT_DTYPE
from .errors import DTypeError, ShapeError
from .function import backward as _run_backward
from .printing import tensor_repr
from .tensor_inplace import InPlaceMethods, install
from .tensor_math import MathMethods
from .tensor_protocol import ProtocolMethods
from .tensor_shape import ShapeMethods

_BOOL_NUMBERS = (bool, np.bool_)


def _to_array(data, dtype=None, copy=False, keep_array_dtype=False):
    """Convert array-likes to an array; floats become float32 unless a dtype is given, or, with
    ``keep_array_dtype``, unless ``data`` is already an array (or tensor) with a dtype of its own."""
    if isinstance(data, Tensor):
        data = data.data
    xp = get_array_module(data)
    if dtype is not None:
        dtype = np.dtype(dtype)
    typed = keep_array_dtype and hasattr(data, "dtype")
    arr = xp.array(data, dtype=dtype, copy=True) if copy else xp.asarray(data, dtype=dtype)
    if dtype is None and not typed and arr.dtype.kind == "f" and arr.dtype != DEFAULT_DTYPE:
        arr = arr.astype(DEFAULT_DTYPE)
    if arr.dtype == object:
        raise TypeError(f"cannot make a tensor from {type(data).__name__}: it holds Python objects")
    return arr


def _number_as(number, dtype, xp):
    """A Python or NumPy number as a 0-d array of ``dtype``; an integer outside an integer dtype's
    range wraps around, as in PyTorch (``uint8 tensor + (-1)`` adds 255)."""
    if dtype.kind in "iu" and isinstance(number, (int, np.integer)) and not isinstance(number, bool):
        info = np.iinfo(dtype)
        if not info.min <= number <= info.max:
            number = (int(number) - info.min) % (1 << info.bits) + info.min
    return xp.asarray(number, dtype=dtype)


class _HookHandle:
    """What ``register_hook`` returns: ``remove()`` takes the hook off its tensor or node."""

    def __init__(self, owner, hook):
        self.owner, self.hook = owner, hook

    def remove(self) -> None:
        self.owner.hooks = tuple(h for h in self.owner.hooks if h is not self.hook)


class Tensor(ProtocolMethods, InPlaceMethods, MathMethods, ShapeMethods):
    """An array with an optional gradient, the node a computation graph is built from.

    ``Tensor(data, requires_grad=False, dtype=None)`` shares memory with ``data`` where it can
    (like ``torch.as_tensor``); :func:`nablab.tensor` always copies (like ``torch.tensor``).
    Floating data becomes float32 unless ``dtype`` says otherwise; integer and boolean data keep
    their dtype (labels, masks).
    """

    # numpy must hand `ndarray * tensor` to Tensor.__rmul__ instead of looping over the tensor
    __array_ufunc__ = None
    #: gradient hooks of a leaf (``register_hook``); a non-leaf's live on its creator node
    hooks: tuple = ()

    def __init__(self, data, requires_grad: bool = False, dtype=None):
        self.data = _to_array(data, dtype)
        self.grad = None
        self.creator = None
        self.requires_grad = False
        self._vc = [0]
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, array, requires_grad: bool = False) -> Tensor:
        """Wrap an array without any conversion (the fast path ops use)."""
        t = cls.__new__(cls)
        t.data = array
        t.grad = None
        t.creator = None
        t.requires_grad = requires_grad
        t._vc = [0]
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def dtype(self):
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    @property
    def grad_fn(self):
        """The node that computed this tensor, PyTorch's name for ``creator``: None for a leaf (and
        for anything computed outside the graph); it shows ``name()`` and ``next_functions``."""
        return self.creator

    def requires_grad_(self, mode: bool = True) -> Tensor:
        """Mark this tensor as a leaf whose gradient ``backward`` should compute."""
        if mode and not is_float_dtype(self.data.dtype):
            raise TypeError(f"only floating tensors can require gradients, got dtype {self.data.dtype}")
        self.requires_grad = bool(mode)
        return self

    def numpy(self) -> np.ndarray:
        """The data as a NumPy array (copied to the host if it lives on a GPU)."""
        return to_host(self.data)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ShapeError(f"item() needs a tensor with one element, this one has shape {self.shape} "
                             f"({self.data.size} elements)")
        settle_checks()
        return self.data.item()

    def tolist(self):
        return self.numpy().tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no gradient flows through it); it shares this
        tensor's memory and version counter, as in PyTorch."""
        t = Tensor._make(self.data, False)
        t._vc = self._vc
        return t

    def astype(self, dtype) -> Tensor:
        """A copy in another dtype (differentiable between floating dtypes)."""
        return ops.Cast.apply(self, dtype=np.dtype(dtype))

    def __repr__(self) -> str:
        return tensor_repr(self)

    # ----------------------------------------------------------------- autodiff
    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires a gradient, into ``leaf.grad``.

        A scalar needs no ``gradient`` (it is taken as 1); for any other shape pass dL/d(self),
        as in PyTorch. Gradients add up across calls until they are reset (``zero_grad``).
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad: no input of its graph has "
                "requires_grad=True (or it was computed under no_grad())"
            )
        xp = get_array_module(self.data)
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar, got shape {self.shape}; "
                    "pass gradient=dL/dself of that shape"
                )
            gradient = xp.ones_like(self.data)
        else:
            gradient = _to_array(gradient, dtype=self.data.dtype)
            if gradient.shape != self.data.shape:
                raise ShapeError(f"gradient has shape {gradient.shape}, expected {tuple(self.data.shape)}")
        _run_backward(self, gradient, retain_graph=retain_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` with dL/d(this tensor) during backward; a tensor it returns replaces
        the gradient. Returns a handle whose ``remove()`` takes the hook off again."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        owner = self if self.creator is None else self.creator
        owner.hooks = (*owner.hooks, hook)
        return _HookHandle(owner, hook)

    def retain_grad(self) -> None:
        """Keep dL/d(this tensor) in ``.grad`` after backward although it is not a leaf (leaves always do)."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        if self.creator is not None:
            self.creator.retained = weakref.ref(self)
            self._retains = True

    #: set by retain_grad() on a non-leaf
    _retains = False

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def _accumulate_grad(self, g, owned: bool = False) -> bool:
        """Add ``g`` to ``.grad``, out of place (``g`` may be shared with other leaves, and the
        caller may hold the old ``.grad``), except into an owned ``.grad``: one that this backward
        sweep set from an array it owned (``owned``: a new array no one else holds), which is
        then added into in place. Returns whether ``.grad`` is now owned so; the sweep clears that
        mark (``_owned_grad``) when it ends, before anyone can have taken ``.grad``."""
        for hook in self.hooks:
            replaced = hook(Tensor._make(g))
            if replaced is not None:
                g, owned = (replaced.data if isinstance(replaced, Tensor) else replaced), False
        if g.dtype != self.data.dtype:
            g, owned = g.astype(self.data.dtype), True
        if g.shape != self.data.shape:  # a 0-d gradient of a broadcast scalar, say
            g, owned = get_array_module(g).broadcast_to(g, self.data.shape), False
        if self.grad is None:
            self.grad = Tensor._make(g)
            self._owned_grad = owned and not self.hooks
        elif self._owned_grad:
            self.grad.data += g
        else:
            self.grad = Tensor._make(self.grad.data + g)
        return self._owned_grad

    #: set while a backward sweep owns ``.grad``'s array (see _accumulate_grad)
    _owned_grad = False

    # ----------------------------------------------------------------- operators
    def _operand(self, other):
        """An array-like operand as a tensor; floating data takes this tensor's floating dtype."""
        if isinstance(other, Tensor):
            return other
        return Tensor(other, dtype=self.data.dtype if self.data.dtype.kind == "f" else None)

    def _cast(self, dtype):
        """This tensor in ``dtype``: itself if it already is, else through the differentiable ``ops.Cast``."""
        return self if self.data.dtype == dtype else ops.Cast.apply(self, dtype=dtype)

    def _promoted(self, other, floating=False):
        """``(self, other)`` as tensors of one dtype, PyTorch's type promotion (:mod:`nablab.dtypes`).

        A number becomes a 0-d constant of the result dtype (``int tensor * 0.5`` is float32, a
        float32 tensor + 0.5 stays float32); an array-like becomes a tensor (:meth:`_operand`). A
        tensor of another dtype goes through ``ops.Cast``, so its gradient comes back in its own
        dtype. With ``floating`` (true division) an integer or boolean result dtype is the default
        float instead, each operand cast straight to it (an int8 −2 over a uint8 stays −2.0).
        """
        dtype = self.data.dtype
        if isinstance(other, Tensor):
            if other.data.dtype == dtype and (not floating or dtype.kind == "f"):
                return self, other
        elif isinstance(other, numbers.Number):
            if dtype.kind == "f":  # a floating tensor keeps its dtype with any number
                return self, Tensor._make(get_array_module(self.data).asarray(other, dtype=dtype))
        else:
            other = self._operand(other)
        dtype = dtypes.result_type(self, other)
        if floating and dtype.kind != "f":
            dtype = DEFAULT_DTYPE
        if isinstance(other, numbers.Number):
            return self._cast(dtype), Tensor._make(_number_as(other, dtype, get_array_module(self.data)))
        return self._cast(dtype), other._cast(dtype)

    def __add__(self, other):
        a, b = self._promoted(other)
        return ops.Add.apply(a, b)

    def __radd__(self, other):
        a, b = self._promoted(other)
        return ops.Add.apply(b, a)

    def _subtraction(self, other):
        """Subtraction's promoted operands; like PyTorch it refuses booleans (masks: use ``~`` or ``^``)."""
        if isinstance(other, Tensor):
            if other.data.dtype == self.data.dtype:
                return self, other  # NumPy refuses bool − bool itself
            refused = "b" in (self.data.dtype.kind, other.data.dtype.kind)
        else:
            refused = self.data.dtype.kind == "b" or isinstance(other, _BOOL_NUMBERS)
        if refused:
            raise TypeError("subtraction with a boolean tensor or number is not supported (nor in PyTorch): use ~ or ^")
        return self._promoted(other)

    def __sub__(self, other):
        a, b = self._subtraction(other)
        return ops.Sub.apply(a, b)

    def __rsub__(self, other):
        a, b = self._subtraction(other)
        return ops.Sub.apply(b, a)

    def __mul__(self, other):
        a, b = self._promoted(other)
        return ops.Mul.apply(a, b)

    def __rmul__(self, other):
        a, b = self._promoted(other)
        return ops.Mul.apply(b, a)

    def __truediv__(self, other):
        a, b = self._promoted(other, floating=True)
        return ops.Div.apply(a, b)

    def __rtruediv__(self, other):
        a, b = self._promoted(other, floating=True)
        return ops.Div.apply(b, a)

    def add(self, other, *, alpha=1):
        """self + alpha · other (``torch.add``)."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other, *, alpha=1):
        """self − alpha · other (``torch.sub``)."""
        return self - (other if alpha == 1 else other * alpha)

    def mul(self, other):
        return self * other

    def div(self, other, *, rounding_mode=None):
        """self / other; ``rounding_mode`` "floor" or "trunc" rounds the quotient (integer operands
        then give an integer result, as in PyTorch)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode not in ("floor", "trunc"):
            raise ValueError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                             f"{rounding_mode!r}")
        a, b = self._promoted(other)
        quotient = a / b
        rounded = quotient.floor() if rounding_mode == "floor" else quotient.trunc()
        return rounded._cast(a.data.dtype) if a.data.dtype.kind != "f" else rounded

    subtract, multiply, divide, true_divide = sub, mul, div, __truediv__

    def __neg__(self):
        return ops.Neg.apply(self)

    def __pos__(self):
        return self

    def __pow__(self, exponent):
        if isinstance(exponent, numbers.Number):
            if isinstance(exponent, np.generic):  # a NumPy scalar counts as the Python number it holds
                exponent = exponent.item()
            x = self if self.data.dtype.kind == "f" else self._cast(dtypes.result_type(self, exponent))
            return ops.Pow.apply(x, exponent=exponent)
        a, b = self._promoted(exponent)
        return ops.PowTensor.apply(a, b)

    def __rpow__(self, base):
        a, b = self._promoted(base)
        return ops.PowTensor.apply(b, a)

    def _same_dtype(self, other):
        """matmul does not promote (PyTorch neither): ``other`` as a tensor of this tensor's dtype, or an error."""
        other = self._operand(other)
        if other.data.dtype != self.data.dtype:
            raise DTypeError(
                f"matmul of a {self.data.dtype} and a {other.data.dtype} tensor: matmul does not promote "
                "dtypes, cast one of them first (.astype)"
            )
        return other

    def __matmul__(self, other):
        return ops.MatMul.apply(self, self._same_dtype(other))

    def __rmatmul__(self, other):
        return ops.MatMul.apply(self._same_dtype(other), self)

    def matmul(self, other):
        return self @ other

    # comparisons compare the promoted values (int tensor < 0.5) and give boolean tensors outside the graph
    def _compare(self, other, name):
        if not isinstance(other, (Tensor, numbers.Number, np.ndarray, np.generic, list, tuple)):
            return NotImplemented  # e.g. pytest.approx: Python then asks the other operand
        a, b = self._promoted(other)
        return Tensor._make(getattr(a.data, name)(b.data))

    def __lt__(self, other):
        return self._compare(other, "__lt__")

    def __le__(self, other):
        return self._compare(other, "__le__")

    def __gt__(self, other):
        return self._compare(other, "__gt__")

    def __ge__(self, other):
        return self._compare(other, "__ge__")

    def __eq__(self, other):
        return self._compare(other, "__eq__")

    def __ne__(self, other):
        return self._compare(other, "__ne__")

    __hash__ = object.__hash__

    def __bool__(self):
        if self.data.size != 1:
            raise ShapeError(f"the truth value of a tensor of shape {self.shape} (more than one value) is ambiguous")
        settle_checks()
        return bool(self.data)


def as_tensor(data, like=()) -> Tensor:
    """A constant tensor; plain numbers take the floating dtype of the first tensor in ``like``."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, numbers.Number):
        for t in like:
            if isinstance(t, Tensor) and is_float_dtype(t.dtype):
                return Tensor._make(get_array_module(t.data).asarray(data, dtype=t.dtype))
    return Tensor(data)


def promoted_pair(a, b):
    """``a`` and ``b`` (tensors, numbers, array-likes) as tensors of their promoted dtype (:mod:`nablab.dtypes`)."""
    if isinstance(a, Tensor):
        return a._promoted(b)
    b, a = as_tensor(b)._promoted(a)
    return a, b


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data``, like ``torch.tensor``: in ``dtype`` if given, else in
    the dtype of a NumPy array or tensor, else (lists, Python numbers) float32 for floating values."""
    t = Tensor._make(_to_array(data, dtype, copy=True, keep_array_dtype=True))
    device = default_or(device)
    if device is not None:
        t = t.to(device)
    return t.requires_grad_(True) if requires_grad else t


function.Tensor, function.as_tensor = Tensor, as_tensor

install(Tensor)
