"""RNN, LSTM, GRU and their cells against torch.nn: torch's weights copied in, then outputs, final
states and the gradients of the input, the initial states and every parameter compared, in float64
(to ~1e-10) and float32 (at torch's own float32 tolerances), for every combination of the layers'
options; weights moved both ways with nablab.io."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import nablab  # noqa: E402
from nablab.io import from_torch, to_torch  # noqa: E402
from nablab.nn import rnn  # noqa: E402

pytestmark = pytest.mark.torch

#: (rtol, atol): float64 to ~1e-10; float32 as torch.testing.assert_close's defaults
TOL = {"float64": (1e-10, 1e-12), "float32": (1.3e-6, 1e-5)}
TORCH_DTYPE = {"float64": torch.float64, "float32": torch.float32}
#: name → (nablab class, torch class, extra constructor arguments)
LAYERS = {
    "rnn_tanh": (rnn.RNN, torch.nn.RNN, {}),
    "rnn_relu": (rnn.RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
    "lstm": (rnn.LSTM, torch.nn.LSTM, {}),
    "gru": (rnn.GRU, torch.nn.GRU, {}),
}
CELLS = {
    "rnn_tanh": (rnn.RNNCell, torch.nn.RNNCell, {}),
    "rnn_relu": (rnn.RNNCell, torch.nn.RNNCell, {"nonlinearity": "relu"}),
    "lstm": (rnn.LSTMCell, torch.nn.LSTMCell, {}),
    "gru": (rnn.GRUCell, torch.nn.GRUCell, {}),
}
L, N, H_IN, H = 5, 3, 4, 6


def _pair(table, kind, dtype, *args, **kwargs):
    """The same layer in both libraries, torch's weights copied into nablab's (checked by name and order)."""
    ours, theirs, extra = table[kind]
    torch.manual_seed(0)
    t_module = theirs(*args, **extra, **kwargs).to(TORCH_DTYPE[dtype])
    module = ours(*args, **extra, **kwargs, dtype=dtype)
    assert list(module.state_dict()) == list(t_module.state_dict())
    from_torch(t_module, module)
    return module, t_module


def _leaves(arrays, dtype):
    """The same values as nablab and torch leaf tensors that require gradients."""
    ours = [nablab.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
    return ours, theirs


def _flat(result):
    """The tensors of (output, h_n) or (output, (h_n, c_n)) or (h, c) or h, in order."""
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _flat(r)]
    return [result]


def _close(ours, theirs, dtype, what):
    rtol, atol = TOL[dtype]
    expected = theirs.detach().numpy()
    assert ours.dtype == expected.dtype, f"{what}: dtype {ours.dtype}, torch {expected.dtype}"
    assert tuple(ours.shape) == expected.shape, f"{what}: shape {tuple(ours.shape)}, torch {expected.shape}"
    np.testing.assert_allclose(np.asarray(ours), expected, rtol=rtol, atol=atol, err_msg=what)


def _compare(module, t_module, inputs, hx_arrays, dtype, lstm):
    """Run both on the inputs and initial states (None or arrays), then compare results and all gradients."""
    (x, *states), (tx, *t_states) = _leaves([inputs, *hx_arrays], dtype)
    hx = t_hx = None
    if states:
        hx, t_hx = (tuple(states), tuple(t_states)) if lstm else (states[0], t_states[0])
    results, t_results = _flat(module(x, hx)), _flat(t_module(tx, t_hx))
    assert len(results) == len(t_results)
    rng = np.random.default_rng(5)
    loss, t_loss = 0, 0
    for i, (r, t) in enumerate(zip(results, t_results)):
        _close(r.numpy(), t, dtype, f"result {i}")
        w = rng.standard_normal(tuple(r.shape)).astype(dtype)
        loss, t_loss = loss + (r * nablab.tensor(w)).sum(), t_loss + (t * torch.tensor(w)).sum()
    loss.backward()
    t_loss.backward()
    names = ["input"] + [f"state {i}" for i in range(len(states))]
    for name, leaf, t_leaf in zip(names, [x, *states], [tx, *t_states]):
        _close(leaf.grad.numpy(), t_leaf.grad, dtype, f"dL/d{name}")
    t_params = dict(t_module.named_parameters())
    for name, p in module.named_parameters():
        _close(p.grad.numpy(), t_params[name].grad, dtype, f"dL/d{name}")


OPTIONS = list(itertools.product([1, 2], [False, True], [False, True], [True, False], [False, True]))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("num_layers", "bidirectional", "batch_first", "bias", "with_state"), OPTIONS,
                         ids=[f"l{n}{'-bi' if b else ''}{'-bf' if f else ''}{'' if bias else '-nobias'}"
                              f"{'-h0' if s else ''}" for n, b, f, bias, s in OPTIONS])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_layer_matches_torch(kind, num_layers, bidirectional, batch_first, bias, with_state, dtype):
    module, t_module = _pair(LAYERS, kind, dtype, H_IN, H, num_layers=num_layers, bias=bias,
                             batch_first=batch_first, bidirectional=bidirectional)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, L, H_IN) if batch_first else (L, N, H_IN))
    state_shape = ((2 if bidirectional else 1) * num_layers, N, H)
    hx = [rng.standard_normal(state_shape) for _ in range(2 if kind == "lstm" else 1)] if with_state else []
    _compare(module, t_module, x, hx, dtype, kind == "lstm")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("bidirectional", "with_state"), [(False, False), (True, True), (False, True)])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_unbatched_layer_matches_torch(kind, bidirectional, with_state, dtype):
    module, t_module = _pair(LAYERS, kind, dtype, H_IN, H, num_layers=2, bidirectional=bidirectional)
    rng = np.random.default_rng(2)
    state_shape = ((2 if bidirectional else 1) * 2, H)
    hx = [rng.standard_normal(state_shape) for _ in range(2 if kind == "lstm" else 1)] if with_state else []
    _compare(module, t_module, rng.standard_normal((L, H_IN)), hx, dtype, kind == "lstm")


@pytest.mark.parametrize(("steps", "batch", "inputs", "hidden"), [(1, 1, 1, 1), (1, 3, 2, 1), (4, 1, 1, 3)])
@pytest.mark.parametrize("kind", list(LAYERS))
def test_size_one_dims_match_torch(kind, steps, batch, inputs, hidden):
    module, t_module = _pair(LAYERS, kind, "float64", inputs, hidden, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(9)
    hx = [rng.standard_normal((4, batch, hidden)) for _ in range(2 if kind == "lstm" else 1)]
    _compare(module, t_module, rng.standard_normal((steps, batch, inputs)), hx, "float64", kind == "lstm")


def test_a_long_sequence_matches_torch():
    """Sixty steps of a two-layer LSTM: the chain through time stays exact."""
    module, t_module = _pair(LAYERS, "lstm", "float64", H_IN, H, num_layers=2)
    _compare(module, t_module, np.random.default_rng(3).standard_normal((60, 2, H_IN)), [], "float64", True)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("batched", "bias", "with_state"),
                         [(True, True, True), (True, True, False), (True, False, True), (False, True, True),
                          (False, False, False)])
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_matches_torch(kind, batched, bias, with_state, dtype):
    module, t_module = _pair(CELLS, kind, dtype, H_IN, H, bias=bias)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((N, H_IN) if batched else (H_IN,))
    state_shape = (N, H) if batched else (H,)
    hx = [rng.standard_normal(state_shape) for _ in range(2 if kind == "lstm" else 1)] if with_state else []
    _compare(module, t_module, x, hx, dtype, kind == "lstm")


@pytest.mark.parametrize("kind", list(LAYERS))
def test_weights_move_both_ways_with_nablab_io(kind):
    """to_torch(ours) into a fresh torch layer, then from_torch back into a fresh nablab layer: same results."""
    ours, theirs, extra = LAYERS[kind]
    nablab.manual_seed(7)
    module = ours(H_IN, H, num_layers=2, bidirectional=True, **extra)
    t_module = to_torch(module, theirs(H_IN, H, num_layers=2, bidirectional=True, **extra))
    back = from_torch(t_module, ours(H_IN, H, num_layers=2, bidirectional=True, **extra))
    for (name, p), (t_name, t), (_, q) in zip(module.state_dict().items(), t_module.state_dict().items(),
                                             back.state_dict().items()):
        assert name == t_name
        np.testing.assert_array_equal(p.numpy(), t.numpy())
        np.testing.assert_array_equal(q.numpy(), p.numpy())
    x = np.random.default_rng(6).standard_normal((L, N, H_IN)).astype(np.float32)
    ours_out = _flat(module(nablab.tensor(x)))
    with torch.no_grad():
        theirs_out = _flat(t_module(torch.tensor(x)))
    for r, t in zip(ours_out, theirs_out):
        _close(r.numpy(), t, "float32", kind)


@pytest.mark.parametrize("kind", list(LAYERS))
def test_default_init_bounds_match_torch(kind):
    """Every parameter ~ U(−1/√H, 1/√H) in both libraries."""
    ours, theirs, extra = LAYERS[kind]
    hidden = 64
    module, t_module = ours(8, hidden, **extra), theirs(8, hidden, **extra)
    bound = 1 / np.sqrt(hidden)
    for (name, p), (_, t) in zip(module.named_parameters(), t_module.named_parameters()):
        for sample in (p.numpy(), t.detach().numpy()):
            assert np.abs(sample).max() <= bound * (1 + 1e-6), name
        assert p.dtype == np.float32 and tuple(p.shape) == tuple(t.shape), name
        if p.numel() >= 256:
            assert np.abs(p.numpy()).max() > 0.95 * bound, name
            np.testing.assert_allclose(p.numpy().std(), bound / np.sqrt(3), rtol=0.15)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(("lengths", "trailing"), [((3, 5, 1), ()), ((2, 2), (3,)), ((4, 1, 3), (2, 3)), ((1,), ())])
def test_pad_sequence_matches_torch(lengths, trailing, batch_first, padding_side):
    rng = np.random.default_rng(8)
    arrays = [rng.standard_normal((n, *trailing)) for n in lengths]
    ours, theirs = _leaves(arrays, "float64")
    out = nablab.nn.utils.rnn.pad_sequence(ours, batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    t_out = torch.nn.utils.rnn.pad_sequence(theirs, batch_first=batch_first, padding_value=-2.5,
                                            padding_side=padding_side)
    _close(out.numpy(), t_out, "float64", "pad_sequence")
    w = rng.standard_normal(tuple(out.shape))
    (out * nablab.tensor(w)).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for i, (a, t) in enumerate(zip(ours, theirs)):
        _close(a.grad.numpy(), t.grad, "float64", f"dL/dsequence {i}")
