"""User-defined differentiable functions, as ``torch.autograd.Function``::

    class Cube(nablab.autograd.Function):
        @staticmethod
        def forward(ctx, x):            # y = x³
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx, gy):          # dL/dx = dL/dy · 3x²
            (x,) = ctx.saved_tensors
            return gy * 3 * x ** 2

    y = Cube.apply(x)

``forward`` runs outside the graph (under ``no_grad``) on the arguments as given; ``backward``
receives dL/d(each output) as tensors and returns one gradient per argument of ``forward`` (None
for arguments that are not tensors or need none). PyTorch 2's form, a ``forward`` without ``ctx``
and a separate ``setup_context(ctx, inputs, output)``, works too.

How it joins nablab's graph: one :class:`~nablab.function.Function` node stands for the call.
Each engine node has one output, so a call with several outputs gets a node whose output packs
all of them into one flat array, and one small node per output that unpacks its slice: dL/d(the
pack) is then the concatenation of dL/d(each output), zeros where an output got no gradient
(PyTorch's ``set_materialize_grads(True)``, its default).
"""

from __future__ import annotations

import numpy as np

from .. import function, grad_mode
from ..backend import get_array_module
from ..errors import ShapeError


class FunctionCtx:
    """The ``ctx`` a custom function's ``forward`` fills in and its ``backward`` reads."""

    def __init__(self, needs_input_grad: tuple):
        #: per argument of forward: whether it is a tensor that requires grad
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved, self._versions = (), ()
        self.non_differentiable = ()

    def save_for_backward(self, *tensors) -> None:
        """Keep tensors (or None) for backward; an in-place change to one of them before backward is
        an error there, as in PyTorch."""
        self._saved = tensors
        self._versions = tuple(None if t is None else t._vc[0] for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        for i, (t, version) in enumerate(zip(self._saved, self._versions)):
            if t is not None and t._vc[0] != version:
                raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an "
                                   f"inplace operation: saved tensor {i} (shape {tuple(t.shape)}) is at version "
                                   f"{t._vc[0]}; expected version {version} instead")
        return self._saved

    def mark_non_differentiable(self, *tensors) -> None:
        """Outputs that get no gradient (indices, masks)."""
        self.non_differentiable = tensors

    def mark_dirty(self, *tensors) -> None:
        """Accepted for PyTorch's code: an input forward changed in place (its version moves on)."""

    def set_materialize_grads(self, value: bool) -> None:
        """With False, backward receives None (not zeros) for outputs that got no gradient."""
        self.materialize_grads = bool(value)


class _Call(function.Function):
    """The engine node of one ``Function.apply`` call: its backward calls the user's."""

    saves_inputs = False  # the ctx checks what forward saved (FunctionCtx.saved_tensors)

    def __init__(self, user, ctx, positions, outputs):
        self.user, self.ctx, self.positions, self.outputs = user, ctx, positions, outputs

    def release(self) -> None:
        user = self.user
        super().release()
        self.user = user  # the node keeps its name after backward

    def name(self) -> str:
        """PyTorch's name for the node of a custom function ``Cube``: ``CubeBackward``."""
        return f"{self.user.__name__}Backward"

    def backward(self, gy):
        Tensor = function.Tensor
        if len(self.outputs) == 1:
            grads_out = (Tensor._make(gy),)
        else:  # the pack: dL/d(each output) side by side
            grads_out, offset = [], 0
            for out in self.outputs:
                part = gy[offset:offset + out.size].reshape(out.shape).astype(out.dtype, copy=False)
                grads_out.append(Tensor._make(part))
                offset += out.size
            if not self.ctx.materialize_grads:
                grads_out = [g if g.data.any() else None for g in grads_out]
        with grad_mode.no_grad():
            grads = self.user.backward(self.ctx, *grads_out)
        if not isinstance(grads, tuple):
            grads = (grads,)
        expected = len(self.ctx.needs_input_grad)
        if len(grads) != expected:
            raise RuntimeError(f"function {self.name()} returned an incorrect number of gradients (expected "
                               f"{expected}, got {len(grads)}): one per argument of forward, None where none")
        return tuple(self._checked(grads[i], i, t) for i, t in zip(self.positions, self.inputs))

    def _checked(self, g, position, x):
        """The gradient for argument ``position`` as an array of the input's shape and dtype."""
        if g is None:
            return None
        g = g.data if isinstance(g, function.Tensor) else get_array_module(x.data).asarray(g)
        if g.shape != x.data.shape:
            try:
                g = function.unbroadcast(g, x.data.shape)
            except ValueError:
                raise ShapeError(f"function {self.name()} returned an invalid gradient at index {position}: got "
                                 f"shape {tuple(g.shape)}, expected {tuple(x.data.shape)}") from None
        return g.astype(x.data.dtype, copy=False)


class _Unpack(function.Function):
    """One output of a several-output call, read out of the call's pack: dL/d(pack) is zeros with
    dL/d(this output) in its slice."""

    saves_inputs = False
    fresh_grads = True

    def __init__(self, value, offset, total):
        self.value, self.offset, self.total = value, offset, total

    def forward(self, pack):
        return self.value

    def backward(self, gy):
        xp = get_array_module(gy)
        flat = xp.zeros(self.total, dtype=gy.dtype)
        flat[self.offset:self.offset + gy.size] = gy.ravel()
        return (flat,)

    def name(self) -> str:
        return "UnpackBackward0"


def _attach(node, tensors, out) -> None:
    """Record ``node`` as the op that made ``out`` from ``tensors``, as Function.apply does."""
    node.inputs = tuple(tensors)
    node.needs_input_grad = tuple(t.requires_grad for t in tensors)
    node.input_creators = tuple(t.creator for t in tensors)
    node.input_versions = tuple(t._vc[0] for t in tensors)
    out.requires_grad, out.creator = True, node


class Function:
    """Base class of custom differentiable functions (see the module's docstring)."""

    @staticmethod
    def forward(ctx, *args, **kwargs):  # pragma: no cover - the user's
        raise NotImplementedError("a custom Function defines forward(ctx, *args) (or forward(*args) with "
                                  "setup_context(ctx, inputs, output))")

    @staticmethod
    def backward(ctx, *grad_outputs):  # pragma: no cover - the user's
        raise NotImplementedError("a custom Function defines backward(ctx, *grad_outputs), returning one gradient "
                                  "per argument of forward")

    @staticmethod
    def setup_context(ctx, inputs, output):  # PyTorch 2's form: forward without ctx
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        """Call ``forward`` and, when a tensor argument requires grad, record the call for backward."""
        Tensor = function.Tensor
        needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
        ctx = FunctionCtx(needs)
        separate = cls.setup_context is not Function.setup_context
        with grad_mode.no_grad():
            output = cls.forward(*args, **kwargs) if separate else cls.forward(ctx, *args, **kwargs)
        if separate:
            cls.setup_context(ctx, args, output)
        if not (any(needs) and grad_mode.state.enabled):
            return output
        several = isinstance(output, tuple)
        outputs = output if several else (output,)
        for out in outputs:
            if not isinstance(out, Tensor):
                raise TypeError(f"{cls.__name__}.forward must return tensors (or a tuple of them), got "
                                f"{type(out).__name__}")
        inputs = [a for a in args if isinstance(a, Tensor)]
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        # a returned input (or a tensor with a history) becomes a new tensor on the same memory
        outputs = tuple(out if out.creator is None and all(out is not a for a in inputs)
                        else Tensor._make(out.data) for out in outputs)
        skip = {id(t) for t in ctx.non_differentiable}
        differentiable = [o for o in outputs if id(o) not in skip and o.data.dtype.kind in "fc"]
        node = _Call(cls, ctx, positions, tuple(o.data for o in differentiable))
        if not several and differentiable:
            _attach(node, inputs, outputs[0])
            return outputs[0]
        if differentiable:
            dtype = np.result_type(*(o.data.dtype for o in differentiable))
            xp = get_array_module(differentiable[0].data)
            total = sum(o.data.size for o in differentiable)
            pack = Tensor._make(xp.zeros(0, dtype=dtype))
            _attach(node, inputs, pack)
            offset = 0
            for out in differentiable:
                _attach(_Unpack(out.data, offset, total), (pack,), out)
                offset += out.data.size
        return outputs if several else outputs[0]
