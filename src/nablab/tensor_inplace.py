"""In-place methods of :class:`~nablab.Tensor` (``x.add_(y)``, ``p.zero_()``, ``w.clamp_(-1, 1)``)
and the version counter that guards them.

PyTorch's rules, kept here:

- every in-place op increments the tensor's version (``x._version``); a graph node records the
  version of each input when it is created, and its backward raises ``RuntimeError`` if an input
  it reads was changed since (:func:`nablab.function._check_unmodified`);
- an in-place op on a leaf that requires grad, while gradients are being recorded, is an error
  (wrap parameter updates in ``nablab.no_grad()``);
- the result keeps the tensor's dtype; a result of a higher category (float into an int tensor)
  is an error, as ``torch.can_cast`` says;
- augmented assignment is the in-place op: ``x -= lr * g`` is ``x.sub_(lr * g)``, so every holder
  of ``x`` (an optimizer, a module) sees the new value, as in PyTorch (``x @= w`` is not in place,
  nor in PyTorch: ``x = x @ w``).

How nablab carries them out: while the graph is recorded (``x.mul_(w)`` with ``w`` requiring
grad), the op runs out of place and the tensor takes the result and its history; the old array
stays as it was for the nodes that saved it. Otherwise (under ``no_grad``, or on plain data) the
result is written into the tensor's memory, so every holder of ``x.data`` sees it.
"""

from __future__ import annotations

from . import dtypes, grad_mode
from .backend import get_array_module
from .errors import ShapeError
from .random import get_generator

#: out-of-place methods that also come as in-place ``name_`` methods, where Tensor has them
IN_PLACE_FORMS = (
    "abs", "acos", "add", "addcdiv", "addcmul", "asin", "atan", "bitwise_and", "bitwise_left_shift", "bitwise_not",
    "bitwise_or", "bitwise_right_shift", "bitwise_xor", "ceil", "clamp", "clip", "cos", "cosh", "div", "exp", "expm1",
    "fill_diagonal", "floor", "floor_divide", "fmod", "frac", "index_add", "index_copy", "index_fill", "index_put",
    "leaky_relu", "lerp", "log", "log10", "log1p", "log2", "logical_and", "logical_not", "logical_or", "logical_xor",
    "masked_fill", "masked_scatter", "mul", "neg", "pow", "reciprocal", "relu", "remainder", "round", "rsqrt",
    "scatter", "scatter_add", "sigmoid", "sign", "sin", "sinh", "sqrt", "square", "sub", "tan", "tanh", "tril", "triu",
    "trunc",
)

#: augmented assignment → the in-place method it calls (PyTorch's ``Tensor.__iadd__`` & co.)
AUGMENTED_ASSIGNMENTS = {
    "__iadd__": "add_", "__isub__": "sub_", "__imul__": "mul_", "__itruediv__": "div_",
    "__ifloordiv__": "floor_divide_", "__imod__": "remainder_", "__ipow__": "pow_", "__iand__": "bitwise_and_",
    "__ior__": "bitwise_or_", "__ixor__": "bitwise_xor_", "__ilshift__": "bitwise_left_shift_",
    "__irshift__": "bitwise_right_shift_",
}


class InPlaceMethods:
    """``zero_``, ``fill_``, ``copy_``, the random fills, and (installed by :func:`install`) ``add_`` & co."""

    @property
    def _version(self) -> int:
        """How many in-place changes this tensor (and tensors sharing its memory through detach) has seen."""
        return self._vc[0]

    @_version.setter
    def _version(self, value: int) -> None:
        self._vc[0] = value

    def _in_place(self, result):
        """Make ``result`` (computed from this tensor) this tensor's value, in place; returns self."""
        data = self.data
        if result.data.shape != data.shape:
            raise ShapeError(f"output with shape {tuple(data.shape)} doesn't match the broadcast shape "
                             f"{tuple(result.data.shape)}")
        if result.data.dtype != data.dtype:
            if dtypes.category(result.data.dtype) > dtypes.category(data.dtype):
                raise RuntimeError(f"result type {result.data.dtype} can't be cast to the desired output type "
                                   f"{data.dtype} of an in-place operation")
            result = result._cast(data.dtype)
        if result.creator is not None and grad_mode.state.enabled:
            self.data, self.creator, self.requires_grad = result.data, result.creator, True
        else:
            get_array_module(data).copyto(data, result.data)
            if self.creator is not None:
                self.creator.output_modified = True
        self._vc[0] += 1
        return self

    def _stand_in(self):
        """A tensor for this one's current value and history, for the op of an in-place method to
        read: the nodes it creates keep this value as their input while the tensor itself moves on
        (and its version changes, which those nodes must not mistake for a change of their input)."""
        if not grad_mode.state.enabled:
            return self
        t = self._make(self.data, self.requires_grad)
        t.creator, t._vc = self.creator, [self._vc[0]]
        return t

    def _check_leaf(self, name: str) -> None:
        if self.requires_grad and self.creator is None and grad_mode.state.enabled:
            raise RuntimeError(f"a leaf tensor that requires grad is being used in an in-place operation ({name}); "
                               "wrap it in `with nablab.no_grad():` (as optimizers and nn.init do)")

    def zero_(self):
        return self.fill_(0)

    def fill_(self, value):
        """Every element set to ``value`` (a number or a one-element tensor)."""
        self._check_leaf("fill_")
        value = value.item() if hasattr(value, "item") and not isinstance(value, (int, float)) else value
        return self._in_place(self._make(get_array_module(self.data).full(self.data.shape, value, self.data.dtype)))

    def copy_(self, src, non_blocking: bool = False):  # noqa: ARG002 - PyTorch's signature
        """The values of ``src`` (broadcast to this shape, cast to this dtype) copied in; differentiable in ``src``."""
        self._check_leaf("copy_")
        src = self._operand(src)
        if src.data.dtype != self.data.dtype:
            src = src._cast(self.data.dtype)
        spread = src.broadcast_to(*self.data.shape) if src.data.shape != self.data.shape else src
        return self._in_place(spread.clone())  # new memory: never a read-only broadcast view of src

    def uniform_(self, a: float = 0.0, b: float = 1.0):
        """Samples from U(a, b) drawn from nablab's generator (``nablab.manual_seed``)."""
        self._check_leaf("uniform_")
        draw = get_generator().uniform(a, b, self.data.shape)
        return self._in_place(self._make(get_array_module(self.data).asarray(draw, dtype=self.data.dtype)))

    def normal_(self, mean: float = 0.0, std: float = 1.0):
        """Samples from N(mean, std²) drawn from nablab's generator."""
        self._check_leaf("normal_")
        draw = get_generator().normal(mean, std, self.data.shape)
        return self._in_place(self._make(get_array_module(self.data).asarray(draw, dtype=self.data.dtype)))


def write_out(result, out, name: str):
    """``result`` written into the tensor (or tuple of tensors) ``out``: PyTorch's ``out=`` argument.

    As in PyTorch: the result must be castable to ``out``'s dtype; an ``out`` of another shape is
    resized (it then holds new memory); ``out=`` refuses to record a graph (no input may require
    grad while gradients are recorded). Returns ``out``.
    """
    if isinstance(out, (tuple, list)):
        results = tuple(result)
        if len(results) != len(out):
            raise TypeError(f"{name}(): out= expects {len(results)} tensors, got {len(out)}")
        return type(result)(*(write_out(r, o, name) for r, o in zip(results, out)))
    if not hasattr(out, "_in_place"):
        raise TypeError(f"{name}(): argument 'out' must be a Tensor, not {type(out).__name__}")
    if not hasattr(result, "_in_place"):  # a Python number or bool: a 0-d result
        result = out._make(get_array_module(out.data).asarray(result))
    if result.requires_grad and grad_mode.state.enabled:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic differentiation, "
                           "but one of the arguments requires grad")
    if result.data.shape != out.data.shape:
        out.data = get_array_module(out.data).empty(result.data.shape, dtype=out.data.dtype)
    return out._in_place(result.detach())


def _in_place_form(name: str):
    def method(self, *args, **kwargs):
        self._check_leaf(f"{name}_")
        return self._in_place(getattr(self._stand_in(), name)(*args, **kwargs))

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = f"In-place ``{name}``: ``x.{name}_(...)`` makes ``x`` the result of ``x.{name}(...)``."
    return method


def _augmented(dunder: str, method_name: str):
    def method(self, other):
        return getattr(self, method_name)(other)

    method.__name__ = method.__qualname__ = dunder
    method.__doc__ = f"``x {dunder[3:-2]}= y`` is ``x.{method_name}(y)``: in place, as in PyTorch."
    return method


def install(cls) -> None:
    """Give ``cls`` the in-place form ``name_`` of every method in :data:`IN_PLACE_FORMS` it has, and
    the augmented assignments of :data:`AUGMENTED_ASSIGNMENTS`."""
    for name in IN_PLACE_FORMS:
        if hasattr(cls, name) and not hasattr(cls, f"{name}_"):
            setattr(cls, f"{name}_", _in_place_form(name))
    for dunder, method_name in AUGMENTED_ASSIGNMENTS.items():
        setattr(cls, dunder, _augmented(dunder, method_name))
