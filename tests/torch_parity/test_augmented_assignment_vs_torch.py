"""Augmented assignment (``x += y``, ``p -= lr * g``) is the in-place op, as in PyTorch.

The failure this guards against is silent: without ``__isub__`` Python rebinds ``p -= lr * g`` to
a new tensor, the optimizer's (or the module's) ``p`` never changes and training stalls with no
error (pytorch/tutorials' ``polynomial_nn.py`` loss stayed at its first value). Each operator is
checked against PyTorch for the value, the dtype, identity (``x`` is still the same tensor, its
memory written), the version counter, and the errors PyTorch raises.
"""

from __future__ import annotations

import operator

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402

pytestmark = pytest.mark.torch

#: operator → (left values, dtype, right values) where PyTorch computes it in place
CASES = {
    operator.iadd: ([1.5, -2.0, 3.0], "float32", [0.5, 1.0, -1.0]),
    operator.isub: ([1.5, -2.0, 3.0], "float64", [0.5, 1.0, -1.0]),
    operator.imul: ([4, -3, 7], "int64", [2, 3, -1]),
    operator.itruediv: ([1.5, -2.0, 3.0], "float32", [0.5, 4.0, -1.0]),
    operator.ifloordiv: ([7, -7, 9], "int64", [2, 2, -4]),
    operator.imod: ([7.5, -7.0, 9.0], "float32", [2.0, 2.0, -4.0]),
    operator.ipow: ([1.5, 2.0, 3.0], "float64", [2.0, 0.5, 3.0]),
    operator.iand: ([6, 5, 12], "int32", [3, 4, 10]),
    operator.ior: ([6, 5, 12], "int32", [3, 4, 10]),
    operator.ixor: ([6, 5, 12], "uint8", [3, 4, 10]),
    operator.ilshift: ([1, 3, 5], "int64", [1, 2, 3]),
    operator.irshift: ([16, 31, 5], "int64", [1, 2, 3]),
}


@pytest.mark.parametrize("op", list(CASES), ids=lambda op: op.__name__)
@pytest.mark.parametrize("right", ["tensor", "number", "broadcast"])
def test_augmented_assignment_writes_in_place_as_torch(op, right):
    left, dtype, values = CASES[op]
    x, tx = nablab.tensor(left, dtype=getattr(nablab, dtype)), torch.tensor(left, dtype=getattr(torch, dtype))
    if right == "tensor":
        y, ty = nablab.tensor(values, dtype=x.dtype), torch.tensor(values, dtype=tx.dtype)
    elif right == "number":
        y = ty = values[0] if dtype.startswith("float") else int(values[0])
    else:  # a 1-element tensor broadcast over x
        y, ty = nablab.tensor(values[:1], dtype=x.dtype), torch.tensor(values[:1], dtype=tx.dtype)
    same, memory = x, x.data
    x = op(x, y)
    tx = op(tx, ty)
    assert x is same and x.data is memory, "the left operand is updated in place, not rebound"
    assert x._version == tx._version == 1
    assert str(tx.dtype).removeprefix("torch.") == str(x.dtype)
    np.testing.assert_allclose(x.numpy(), tx.numpy(), rtol=1e-6)


def test_the_update_reaches_every_holder_of_a_parameter_as_in_the_polynomial_tutorial():
    """pytorch/tutorials beginner_source/examples_nn/polynomial_nn.py's update, on both libraries."""
    for lib in (nablab, torch):
        lib.manual_seed(0)
        x = lib.linspace(-1.0, 1.0, 50)
        y = x ** 3 - x
        model = lib.nn.Linear(1, 1)
        held = list(model.parameters())
        losses = []
        for _ in range(30):
            loss = ((model(x.reshape(-1, 1)).reshape(-1) - y) ** 2).sum()
            model.zero_grad()
            loss.backward()
            losses.append(loss.item())
            with lib.no_grad():
                for param in model.parameters():
                    param -= 1e-2 * param.grad
        assert all(p is q for p, q in zip(held, model.parameters()))
        assert losses[-1] < 0.5 * losses[0], f"{lib.__name__}: the loss must fall, got {losses[0]} → {losses[-1]}"


def test_augmented_assignment_refuses_what_torch_refuses():
    for lib in (nablab, torch):
        leaf = lib.ones(3, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            leaf += 1
        ints = lib.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match="can't be cast"):
            ints += 0.5
        with pytest.raises(RuntimeError, match="can't be cast"):
            ints /= 2
        with pytest.raises(RuntimeError):
            small = lib.ones(3)
            small += lib.ones(2, 3)  # the result would not fit x's shape


def test_augmented_assignment_in_a_graph_has_torchs_gradient():
    grads = []
    for lib in (nablab, torch):
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        y += x ** 2
        y *= x
        (y * lib.tensor([1.0, -1.0, 0.5])).sum().backward()
        grads.append(x.grad.numpy())
    np.testing.assert_allclose(*grads, rtol=1e-6)


def test_matmul_assignment_rebinds_as_in_torch():
    """PyTorch defines no ``__imatmul__``: ``x @= w`` is ``x = x @ w``, a new tensor."""
    for lib in (nablab, torch):
        x = lib.ones(2, 2)
        before = x
        x @= lib.eye(2) * 3
        assert x is not before and before.tolist() == [[1.0, 1.0], [1.0, 1.0]] and x.tolist() == [[3, 3], [3, 3]]
