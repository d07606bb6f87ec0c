"""``nablab.autograd.grad`` and ``nablab.autograd.backward``: PyTorch's functional entry points to
the backward sweep (:func:`nablab.function.backward_from`)."""

from __future__ import annotations

from .. import function
from ..backend import get_array_module


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _roots(outputs, grad_outputs, what):
    """``(tensor, dL/dtensor array)`` pairs; a scalar output without a given gradient gets 1."""
    outputs = _as_tuple(outputs)
    given = _as_tuple(grad_outputs) if grad_outputs is not None else (None,) * len(outputs)
    if len(given) != len(outputs):
        raise RuntimeError(f"{what}: got {len(outputs)} tensors and {len(given)} gradients")
    pairs = []
    for i, (out, g) in enumerate(zip(outputs, given)):
        if not out.requires_grad:
            raise RuntimeError(f"{what}: element {i} of the tensors does not require grad and does not have a "
                               "grad_fn")
        xp = get_array_module(out.data)
        if g is None:
            if out.data.size != 1:
                raise RuntimeError(f"{what}: grad can be implicitly created only for scalar outputs; element {i} "
                                   f"has shape {tuple(out.shape)}, pass its gradient")
            g = xp.ones_like(out.data)
        else:
            g = xp.asarray(g.data if isinstance(g, function.Tensor) else g, dtype=out.data.dtype)
            if g.shape != out.data.shape:
                raise RuntimeError(f"{what}: gradient {i} has shape {tuple(g.shape)}, expected "
                                   f"{tuple(out.data.shape)}")
        pairs.append((out, g))
    return pairs


class _Capture:
    """What a :func:`grad` sweep keeps: dL/d(each asked-for tensor), summed; nothing else changes."""

    def __init__(self, inputs):
        self.inputs = inputs
        self.grads = [None] * len(inputs)
        self.leaves = {id(t): i for i, t in enumerate(inputs) if t.creator is None}
        self.nodes = {}
        for i, t in enumerate(inputs):
            if t.creator is not None:
                self.nodes.setdefault(t.creator, []).append(i)

    def _add(self, i, g):
        self.grads[i] = g.copy() if self.grads[i] is None else self.grads[i] + g

    def leaf(self, t, g):
        i = self.leaves.get(id(t))
        if i is not None:
            for hook in t.hooks:
                replaced = hook(function.Tensor._make(g))
                if replaced is not None:
                    g = replaced.data if isinstance(replaced, function.Tensor) else replaced
            self._add(i, g)

    def node(self, fn, gy):
        for i in self.nodes[fn]:
            self._add(i, gy)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         is_grads_batched=False, materialize_grads=False):
    """d(outputs)/d(inputs), returned as a tuple (``torch.autograd.grad``): the ``.grad`` of no
    tensor changes. ``grad_outputs`` weights each output (needed for non-scalars); an input the
    outputs do not depend on is an error unless ``allow_unused`` (then None) or
    ``materialize_grads`` (then zeros)."""
    if create_graph:
        raise NotImplementedError("create_graph=True (gradients of gradients) is not available: nablab's backward "
                                  "passes compute on arrays outside the graph")
    if is_grads_batched:
        raise NotImplementedError("is_grads_batched=True is not available")
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (shape {tuple(t.shape)})")
    capture = _Capture(inputs)
    function.backward_from(_roots(outputs, grad_outputs, "grad"), retain_graph=bool(retain_graph), capture=capture)
    result = []
    for i, (t, g) in enumerate(zip(inputs, capture.grads)):
        if g is None:
            if materialize_grads:
                g = get_array_module(t.data).zeros_like(t.data)
            elif not allow_unused:
                raise RuntimeError(f"grad: input {i} (shape {tuple(t.shape)}) was not used in the graph of the "
                                   "outputs; pass allow_unused=True to get None for it")
        elif g.shape != t.data.shape:
            g = get_array_module(g).broadcast_to(g, t.data.shape).copy()
        result.append(None if g is None else function.Tensor._make(g.astype(t.data.dtype, copy=False)))
    return tuple(result)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """``sum_i tensors[i].backward(grad_tensors[i])`` in one sweep (``torch.autograd.backward``); with
    ``inputs`` only those tensors' ``.grad`` is added into."""
    if create_graph:
        raise NotImplementedError("create_graph=True (gradients of gradients) is not available")
    roots = _roots(tensors, grad_tensors, "backward")
    if inputs is None:
        function.backward_from(roots, retain_graph=bool(retain_graph))
        return
    inputs = _as_tuple(inputs)
    capture = _Capture(inputs)
    function.backward_from(roots, retain_graph=bool(retain_graph), capture=capture)
    for t, g in zip(inputs, capture.grads):
        if g is not None:
            t.grad = function.Tensor._make(g if t.grad is None else t.grad.data + g)
