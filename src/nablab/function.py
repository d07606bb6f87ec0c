"""The graph node: a differentiable operation with its forward and hand-derived backward side by side.

An op subclasses :class:`Function` and writes two methods on raw arrays (NumPy or CuPy)::

    forward(self, *xs)  -> y            # may save what backward needs on ``self``
    backward(self, gy)  -> (gx_1, ...)  # dL/dx_i from dL/dy; None where an input needs no gradient

``Function.apply(*inputs, **params)`` unwraps tensors, runs ``forward`` and, when gradients are
wanted, links the output tensor to this node so that :func:`backward` can walk the graph. Where a
faster implementation of the op is registered for such a call (:mod:`nablab.kernels`), that
subclass runs instead; under ``nablab.kernels.use_reference()`` the op itself always does.
Each op has exactly one output; ops with several results are written as several ops.
"""

from __future__ import annotations

import numpy as np

from . import grad_mode
from .backend import _GPU, on_host, to_device
from .errors import DeviceError, ShapeError
from .kernels import _registry as _kernel_registry
from .kernels import select as _select_kernel

# nablab.tensor imports the ops, which import this module: it fills these in once Tensor exists
Tensor = as_tensor = None


class Function:
    """Base class of every differentiable op."""

    #: set by apply(): the input tensors and which of them need a gradient
    inputs: tuple
    needs_input_grad: tuple
    #: True for ops whose backward returns only new arrays (never dL/dy itself, a view of it, or
    #: one array twice): the sweep then knows it owns them and may let the next op write into them
    fresh_grads: bool = False
    #: set by the sweep before backward(): True when dL/dy belongs to this call alone and may be
    #: overwritten in place
    grad_owned: bool = False
    #: whether backward reads the inputs (saved in forward): then an in-place change of an input
    #: between forward and backward is an error, as in PyTorch; ops that never read them say False
    saves_inputs: bool = True
    #: whether backward reads the output (y = eˣ, say); set on the node when the output tensor is
    #: changed in place outside the graph, which makes its backward an error
    saves_output: bool = False
    output_modified: bool = False
    #: ``Tensor.register_hook`` on the output: functions of dL/dy run before backward (each may
    #: return a replacement); ``Tensor.retain_grad``: a weak reference to the output that keeps dL/dy
    hooks: tuple = ()
    retained = None
    #: set by apply() before forward(): whether the call is recorded for backward (grad mode on and
    #: an input requiring grad); a forward may then skip saving what only backward reads
    recording: bool = True
    #: set by release() once backward has run without ``retain_graph``: the saved values are gone
    released: bool = False

    def forward(self, *xs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, gy):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs, **params):
        """Run the op on tensors (or array-likes, treated as constants) and record it in the graph."""
        tensors, arrays, needs = [], [], []
        for x in inputs:  # one pass: this runs for every op of every step
            if not isinstance(x, Tensor):
                x = as_tensor(x, like=inputs)
            tensors.append(x)
            arrays.append(x.data)
            needs.append(x.requires_grad)
        if _GPU.module is not None and len(arrays) > 1:
            arrays = same_device(cls, arrays)
        impl = _select_kernel(cls, *arrays, **params) if cls in _kernel_registry else cls
        fn = impl(**params)
        recording = True in needs and grad_mode.state.enabled
        fn.recording = recording
        try:
            y = fn.forward(*arrays)
        except ValueError as exc:  # NumPy's broadcasting error becomes PyTorch's RuntimeError type
            if "could not be broadcast" not in str(exc):
                raise
            shapes = " and ".join(str(tuple(a.shape)) for a in arrays if hasattr(a, "shape"))
            raise ShapeError(f"{cls.__name__}: the shapes {shapes} do not broadcast together (each pair of "
                             "trailing dims must be equal or one of them 1)") from None
        if isinstance(y, np.generic):  # a full reduction's NumPy scalar: a 0-d array, as torch's 0-d tensors
            y = np.asarray(y)
        out = Tensor._make(y)
        if recording:
            fn.inputs, fn.needs_input_grad = tuple(tensors), tuple(needs)
            # the history and version of each input now: an in-place op may later give the tensor a
            # new history (the sweep must still reach the old one) or change what the node saved
            fn.input_creators = tuple([t.creator for t in tensors])
            fn.input_versions = tuple([t._vc[0] for t in tensors])
            out.requires_grad, out.creator = True, fn
        return out

    def release(self) -> None:
        """Free everything the node saved, once its backward has run; the graph's edges stay, for
        ``next_functions`` (nodes and leaves only, never the arrays of intermediate tensors)."""
        edges = self._edges()
        self.__dict__.clear()
        self.released = True
        self._released_edges = edges

    # ----------------------------------------------------------------- PyTorch's view of the node (grad_fn)
    def _edges(self) -> tuple:
        """Per input: the node that made it, the leaf itself if it needs a gradient, else None."""
        return tuple(c if c is not None else (t if n else None)
                     for t, c, n in zip(self.inputs, self.input_creators, self.needs_input_grad))

    @property
    def next_functions(self) -> tuple:
        """``((node, 0), ...)`` per input, as ``torch``'s ``grad_fn.next_functions``: the node that
        computed the input, an :class:`AccumulateGrad` for a leaf that requires grad, or None."""
        edges = self._released_edges if self.released else self._edges()
        return tuple((AccumulateGrad.of(e) if isinstance(e, Tensor) else e, 0) for e in edges)

    @classmethod
    def op_name(cls) -> str:
        """The op's name: a kernel (:mod:`nablab.kernels`) reports the reference op it stands in for."""
        return next((c.__name__ for c in cls.__mro__ if c.__module__.startswith("nablab.ops")), cls.__name__)

    def name(self) -> str:
        """PyTorch's node name, the op's name with ``Backward0``: ``MulBackward0``."""
        return f"{self.op_name()}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"


class AccumulateGrad:
    """The graph's end at a leaf that requires grad (``grad_fn.next_functions`` shows it, as in
    PyTorch): backward adds the leaf's gradient into ``variable.grad``."""

    next_functions: tuple = ()

    def __init__(self, variable):
        self.variable = variable

    @classmethod
    def of(cls, leaf) -> AccumulateGrad:
        """The leaf's one AccumulateGrad node (made on first use)."""
        node = leaf.__dict__.get("_grad_accumulator")
        if node is None:
            node = leaf._grad_accumulator = cls(leaf)
        return node

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


def same_device(cls, arrays: list) -> list:
    """The op's input arrays, all on one device: a 0-d host array among device arrays is uploaded (a
    CPU scalar tensor may join a GPU op, as in PyTorch); any other mix is an error naming both."""
    hosts = [on_host(a) for a in arrays]
    if all(hosts) or not any(hosts):
        return arrays
    if all(a.ndim == 0 for a, host in zip(arrays, hosts) if host):
        return [to_device(a) if host else a for a, host in zip(arrays, hosts)]
    on_cpu = next(tuple(a.shape) for a, host in zip(arrays, hosts) if host and a.ndim)
    on_gpu = next(tuple(a.shape) for a, host in zip(arrays, hosts) if not host)
    raise DeviceError(f"{cls.__name__}: expected all tensors to be on the same device, but found at least two "
                      f"devices, cpu (a tensor of shape {on_cpu}) and cuda:0 (shape {on_gpu}): move them with "
                      ".to(device) first")


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting.

    If y = broadcast(x), then dL/dx = sum of dL/dy over every axis that broadcasting added
    (leading axes) or stretched (axes where x has size 1).
    """
    if grad.shape == tuple(shape):
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1
    )
    grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def _topological_order(roots):
    """Nodes reachable from the nodes ``roots``, each after all nodes that consume its output.

    Iterative depth-first search with an explicit stack, so a chain of any length works
    (no recursion limit). Returned in post-order: reverse it to go from the loss to the leaves.
    """
    order, visited = [], set()
    stack = [(fn, False) for fn in reversed(roots)]
    while stack:
        fn, expanded = stack.pop()
        if expanded:
            order.append(fn)
            continue
        if fn in visited:
            continue
        if fn.released:
            raise RuntimeError(f"backward through a part of the graph that an earlier backward() freed (at its "
                               f"{fn.op_name()} node): call backward(retain_graph=True) the first time to go "
                               f"through it twice")
        visited.add(fn)
        stack.append((fn, True))
        for creator in fn.input_creators:
            if creator is not None and creator not in visited:
                stack.append((creator, False))
    return order


def _output_gradient_hooks(fn, gy):
    """dL/dy of ``fn``'s output after its hooks, kept in the output's ``.grad`` if it retains it."""
    for hook in fn.hooks:
        replaced = hook(Tensor._make(gy))
        if replaced is not None:
            gy, fn.grad_owned = (replaced.data if isinstance(replaced, Tensor) else replaced), False
    out = fn.retained() if fn.retained is not None else None
    if out is not None:
        out.grad = Tensor._make(gy.copy() if out.grad is None else out.grad.data + gy)
    return gy


def _check_unmodified(fn) -> None:
    """Raise if a tensor ``fn`` saved for backward was changed in place after the forward pass."""
    if fn.saves_output and fn.output_modified:
        raise RuntimeError(f"one of the variables needed for gradient computation has been modified by an in-place "
                           f"operation: the output of {type(fn).__name__}, which its backward reads")
    if not fn.saves_inputs:
        return
    for i, (t, version) in enumerate(zip(fn.inputs, fn.input_versions)):
        if t._vc[0] != version:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an in-place "
                f"operation: input {i} of {type(fn).__name__} (shape {tuple(t.data.shape)}) is at version "
                f"{t._vc[0]}; expected version {version} instead. Make the change out of place (y = x + 1 "
                f"instead of x.add_(1)), or after backward()")


def backward(root, grad, retain_graph: bool = False) -> None:
    """Reverse-mode sweep from ``root`` (a Tensor) with upstream gradient ``grad`` (an array).

    Gradients reaching a node from several consumers are summed; leaves that require a gradient
    accumulate it into ``.grad``. Unless ``retain_graph``, each node frees its saved arrays as soon
    as its backward has run, so memory is returned during the sweep.
    """
    backward_from(((root, grad),), retain_graph)


def backward_from(roots, retain_graph: bool = False, capture=None) -> None:
    """:func:`backward` from several ``(tensor, dL/dtensor)`` pairs at once (their gradients add up).

    With ``capture`` (``nablab.autograd.grad``) no leaf's ``.grad`` changes: the sweep hands
    ``capture.leaf(t, g)`` each leaf gradient and ``capture.node(fn, gy)`` dL/d(output) of each
    node in ``capture.nodes``, and the caller keeps what it asked for.
    """
    pending = {}  # node → (dL/d its output, owned); the callers' arrays are never overwritten
    for root, grad in roots:
        fn = root.creator
        if fn is None:
            if capture is not None:
                capture.leaf(root, grad)
            else:
                root._accumulate_grad(grad)
        elif fn in pending:
            pending[fn] = (pending[fn][0] + grad, True)
        else:
            if fn.released:
                raise RuntimeError("backward through a graph whose saved values were already freed: call "
                                   "backward(retain_graph=True) the first time to go through it twice")
            pending[fn] = (grad, False)
    if not pending:
        return
    owning = []  # leaves whose .grad this sweep may still add into in place
    try:
        _sweep(list(pending), pending, owning, retain_graph, capture)
    finally:
        for t in owning:
            t._owned_grad = False


def _sweep(roots, pending, owning, retain_graph, capture) -> None:
    """The nodes' backward calls in reverse topological order (see :func:`backward`)."""
    for fn in reversed(_topological_order(roots)):
        gy, fn.grad_owned = pending.pop(fn)
        if fn.hooks or fn.retained is not None:
            gy = _output_gradient_hooks(fn, gy)
        if capture is not None and fn in capture.nodes:
            capture.node(fn, gy)
        if fn.saves_inputs or fn.output_modified:
            _check_unmodified(fn)
        grads = fn.backward(gy)
        if type(grads) is not tuple:
            grads = (grads,)
        for t, creator, needs, g in zip(fn.inputs, fn.input_creators, fn.needs_input_grad, grads):
            if not needs or g is None:
                continue
            if creator is None:
                if capture is not None:
                    capture.leaf(t, g)
                elif t._accumulate_grad(g, owned=fn.fresh_grads):
                    owning.append(t)
            elif creator in pending:
                pending[creator] = (pending[creator][0] + g, True)  # a sum is a new array
            else:
                pending[creator] = (g, fn.fresh_grads)
        if not retain_graph:
            fn.release()
