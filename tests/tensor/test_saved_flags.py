"""The version-counter flags of the ops (``Function.saves_inputs``, ``Function.saves_output``): an in-place
change (under no_grad) of an op's input, or of its output, between forward and backward is an error
exactly when the op's backward reads that tensor; otherwise backward gives the gradient it would have
given without the change. Where PyTorch saves the same tensors, it raises in the same cases.
"""

import numpy as np
import pytest

import nablab
from nablab.nn import functional as nF

VALUES = np.array([[[0.3, -0.6, 0.9], [0.45, -0.2, 0.7]]])  # (1, 2, 3): an (N, C, L) batch too
POSITIVE = np.abs(VALUES) + 0.5

# name, the op (of a functional module F and a tensor x), its input values, whether backward reads the
# input, whether it reads the output, and whether PyTorch saves the same (so raises in the same cases)
CASES = [
    ("exp", lambda F, x: x.exp(), VALUES, False, True, True),
    ("sigmoid", lambda F, x: x.sigmoid(), VALUES, False, True, True),
    ("tanh", lambda F, x: x.tanh(), VALUES, False, True, True),
    ("relu", lambda F, x: F.relu(x), VALUES, False, True, True),
    ("sqrt", lambda F, x: x.sqrt(), POSITIVE, False, True, True),
    ("rsqrt", lambda F, x: x.rsqrt(), POSITIVE, False, True, True),
    ("tan", lambda F, x: x.tan(), VALUES, False, True, True),
    ("expm1", lambda F, x: x.expm1(), VALUES, False, True, True),
    ("softmax", lambda F, x: F.softmax(x, dim=-1), VALUES, False, True, True),
    ("log_softmax", lambda F, x: F.log_softmax(x, dim=1), VALUES, False, True, True),
    ("sum", lambda F, x: x.sum(dim=1), VALUES, False, False, True),
    ("mean", lambda F, x: x.mean(dim=(0, 2)), VALUES, False, False, True),
    ("cumsum", lambda F, x: x.cumsum(dim=-1), VALUES, False, False, True),
    ("floor", lambda F, x: x.floor(), VALUES, False, False, True),
    ("constant pad", lambda F, x: F.pad(x, (1, 2)), VALUES, False, False, True),
    ("nearest interpolate", lambda F, x: F.interpolate(x, scale_factor=2), VALUES, False, False, True),
    ("log", lambda F, x: x.log(), POSITIVE, True, False, True),
    ("sin", lambda F, x: x.sin(), VALUES, True, False, True),
    ("abs", lambda F, x: x.abs(), VALUES, True, False, True),
    ("clamp", lambda F, x: x.clamp(-0.5, 0.5), VALUES, True, False, True),
    ("gelu", lambda F, x: F.gelu(x), VALUES, True, False, True),
    ("silu", lambda F, x: F.silu(x), VALUES, True, False, True),
    ("max", lambda F, x: x.max(), VALUES, True, True, True),
    ("amax", lambda F, x: x.amax(dim=-1), VALUES, True, True, True),
    ("logsumexp", lambda F, x: x.logsumexp(dim=1), VALUES, True, True, True),
    ("cumprod", lambda F, x: x.cumprod(dim=-1), VALUES, True, True, True),
    ("norm", lambda F, x: x.norm(), VALUES, True, True, True),
    # PyTorch saves the input of these, nablab only a mask or a centred copy of its own
    ("leaky_relu", lambda F, x: F.leaky_relu(x, 0.1), VALUES, False, False, False),
    ("hardtanh", lambda F, x: F.hardtanh(x, -0.5, 0.5), VALUES, False, False, False),
    ("elu", lambda F, x: F.elu(x), VALUES, False, False, False),
    ("var", lambda F, x: x.var(dim=-1), VALUES, False, False, False),
    ("std", lambda F, x: x.std(dim=-1), VALUES, False, True, False),
]
IDS = [case[0] for case in CASES]


def _run(lib, F, op, values, change):
    """dL/dx of L = Σ op(x·1) after ``change`` ('input', 'output' or None) adds ¼ in place between forward
    and backward; the error instead if backward raised."""
    x = lib.tensor(values, dtype=lib.float64, requires_grad=True)
    h = x * 1  # not a leaf: it may be changed in place
    y = op(F, h)
    loss = y.sum()
    with lib.no_grad():
        if change == "input":
            h.add_(0.25)
        elif change == "output":
            y.add_(0.25)
    try:
        loss.backward()
    except RuntimeError as exc:
        return exc
    return x.grad.numpy().copy()


@pytest.mark.parametrize("change", ["input", "output"])
@pytest.mark.parametrize("name, op, values, reads_input, reads_output, torch_same", CASES, ids=IDS)
def test_an_in_place_change_is_an_error_exactly_when_backward_reads_the_tensor(name, op, values, reads_input,
                                                                              reads_output, torch_same, change):
    expected_error = reads_input if change == "input" else reads_output
    result = _run(nablab, nF, op, values, change)
    if expected_error:
        assert isinstance(result, RuntimeError), f"{name}: changing its {change} should make backward an error"
        assert "modified by an in-place operation" in str(result)
    else:
        assert not isinstance(result, Exception), f"{name}: backward does not read its {change}: {result}"
        np.testing.assert_allclose(result, _run(nablab, nF, op, values, None), rtol=1e-12, atol=1e-15,
                                   err_msg=f"{name}: the gradient changed with its {change}")


@pytest.mark.torch
@pytest.mark.parametrize("change", ["input", "output"])
@pytest.mark.parametrize("name, op, values, reads_input, reads_output, torch_same",
                         [case for case in CASES if case[-1]], ids=[case[0] for case in CASES if case[-1]])
def test_torch_raises_in_the_same_cases(name, op, values, reads_input, reads_output, torch_same, change):
    torch = pytest.importorskip("torch")
    mine = _run(nablab, nF, op, values, change)
    theirs = _run(torch, torch.nn.functional, op, values, change)
    assert isinstance(mine, Exception) == isinstance(theirs, Exception), f"{name}: nablab {mine!r}, torch {theirs!r}"
    if not isinstance(mine, Exception):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)
