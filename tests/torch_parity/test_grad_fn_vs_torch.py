"""``Tensor.grad_fn`` and ``grad_fn.next_functions``: the graph as PyTorch shows it.

PyTorch's tutorials print these (``loss.grad_fn``, ``loss.grad_fn.next_functions[0][0]``); the
graph nablab records has the same shape: one node per op, an ``AccumulateGrad`` at each leaf that
requires grad, None for inputs that need no gradient, and the edges survive ``backward()``.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402

pytestmark = pytest.mark.torch


def _graph(lib):
    w = lib.tensor([[0.5, -1.0], [2.0, 0.25]], requires_grad=True)
    b = lib.tensor([0.1, -0.2], requires_grad=True)
    x = lib.tensor([[1.0, 2.0]])
    y = ((x * w).sum(0) + b).exp() / 3.0 - x.sum()
    return y.sum(), (w, b)


def _shape(node, leaves):
    """The graph under ``node`` as nested (name, children), leaves by their index in ``leaves``; names
    without PyTorch's overload number (``sum(0)`` is its ``SumBackward1``, nablab's ``SumBackward0``)."""
    if node is None:
        return None
    if hasattr(node, "variable"):
        return ("leaf", next(i for i, t in enumerate(leaves) if t is node.variable))
    return (node.name().rstrip("0123456789"), tuple(_shape(child, leaves) for child, _ in node.next_functions))


def test_grad_fn_names_and_edges_are_torchs():
    (loss, leaves), (tloss, tleaves) = _graph(nablab), _graph(torch)
    assert _shape(loss.grad_fn, leaves) == _shape(tloss.grad_fn, tleaves)
    assert repr(loss).endswith("grad_fn=<SumBackward0>)") and repr(loss.grad_fn).startswith("<SumBackward0 object")


def test_edges_survive_backward_and_leaves_have_none():
    loss, leaves = _graph(nablab)
    before = _shape(loss.grad_fn, leaves)
    loss.backward()
    assert _shape(loss.grad_fn, leaves) == before
    assert all(t.grad_fn is None for t in leaves) and (leaves[0] * 2).detach().grad_fn is None
    with nablab.no_grad():
        assert (leaves[0] * 2).grad_fn is None


def test_each_leaf_has_one_accumulate_grad_node():
    for lib in (nablab, torch):
        w = lib.ones(2, requires_grad=True)
        first = (w * 2).grad_fn.next_functions[0][0]
        assert (w + 1).grad_fn.next_functions[0][0] is first and first.variable is w
        assert first.next_functions == ()


def test_backward_through_a_freed_part_of_the_graph_is_a_runtime_error():
    for lib in (nablab, torch):
        x = lib.ones(3, requires_grad=True)
        z = x.exp() * 2
        z.sum().backward()
        with pytest.raises(RuntimeError, match="second time|twice"):
            (z * 2).sum().backward()
