"""The whole-sequence kernels (:mod:`nablab.kernels.cpu.recurrent`: LSTM, GRU, Elman RNN) against the
per-step reference (:func:`nablab.nn.rnn.recurrent_states`): outputs, final states and every
gradient, for stacks, both directions, batch-first, with and without biases and initial states,
in float32 and float64, with the loss on the output, the final states or both; and where the
kernels are chosen."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import nablab
from nablab import kernels
from nablab.kernels.cpu.recurrent import GRUSequence, LSTMSequence, RNNSequence
from nablab.nn import GRU, LSTM, RNN
from nablab.nn.rnn import recurrent_states

L, N, H_IN, H = 5, 3, 4, 6
TOLERANCE = {"float64": {"rtol": 1e-11, "atol": 1e-12}, "float32": {"rtol": 1e-4, "atol": 1e-5}}
#: kind → (layer, its keyword arguments, the kernel that runs it, the reference's step op)
KINDS = {"lstm": (LSTM, {}, LSTMSequence, nablab.ops.LSTMStep), "gru": (GRU, {}, GRUSequence, nablab.ops.GRUStep),
         "rnn_tanh": (RNN, {}, RNNSequence, nablab.ops.RNNStep),
         "rnn_relu": (RNN, {"nonlinearity": "relu"}, RNNSequence, nablab.ops.RNNStep)}


def _run(module, x, hx, loss: str, reference: bool, node_types):
    """Output, final states and the gradients of x, the initial states and every parameter, with the
    node types of the graph (the ``node_types`` fixture)."""
    module.zero_grad()
    lstm = isinstance(module, LSTM)
    with kernels.use_reference(reference):
        x = nablab.tensor(x, requires_grad=True)
        state = [nablab.tensor(s, requires_grad=True) for s in hx]
        out, final = module(x, (tuple(state) if lstm else state[0]) if state else None)
        final = final if lstm else (final,)
        nodes = node_types(out, *final)  # before backward frees the graph
        rng = np.random.default_rng(7)
        total = 0
        if loss in ("output", "both"):
            total = total + (out * nablab.tensor(rng.standard_normal(out.shape).astype(out.dtype))).sum()
        if loss in ("final", "both"):
            total = total + (final[0] * final[-1]).sum() + final[0].sum()
        total.backward()
    grads = [x.grad] + [s.grad for s in state] + [p.grad for p in module.parameters()]
    values = [out, *final] + grads
    return [v.numpy() for v in values], nodes


OPTIONS = list(itertools.product([1, 2], [False, True], [False, True], [True, False], [False, True]))


@pytest.mark.parametrize("loss", ["both", "output", "final"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("num_layers", "bidirectional", "batch_first", "bias", "with_state"), OPTIONS,
                         ids=[f"l{n}{'-bi' if b else ''}{'-bf' if f else ''}{'' if bias else '-nobias'}"
                              f"{'-h0' if s else ''}" for n, b, f, bias, s in OPTIONS])
@pytest.mark.parametrize("kind", list(KINDS))
def test_kernel_equals_the_reference(kind, num_layers, bidirectional, batch_first, bias, with_state, dtype, loss,
                                     node_types):
    cls, kwargs, kernel, step = KINDS[kind]
    nablab.manual_seed(0)
    module = cls(H_IN, H, num_layers=num_layers, bias=bias, batch_first=batch_first, bidirectional=bidirectional,
                 dtype=dtype, **kwargs)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((N, L, H_IN) if batch_first else (L, N, H_IN)).astype(dtype)
    state_shape = ((2 if bidirectional else 1) * num_layers, N, H)
    hx = [rng.standard_normal(state_shape).astype(dtype) for _ in range(2 if cls is LSTM else 1)] if with_state else []
    fast, fast_nodes = _run(module, x, hx, loss, False, node_types)
    slow, slow_nodes = _run(module, x, hx, loss, True, node_types)
    assert kernel in fast_nodes and step not in fast_nodes
    assert step in slow_nodes and kernel not in slow_nodes
    assert len(fast) == len(slow)
    for i, (got, want) in enumerate(zip(fast, slow)):
        assert got.dtype == np.dtype(dtype)
        np.testing.assert_allclose(got, want, **TOLERANCE[dtype], err_msg=f"value {i}")


@pytest.mark.parametrize("kind", list(KINDS))
def test_an_unbatched_sequence_and_dropout_between_layers_match(kind, node_types):
    """Dropout draws the same mask on both paths (one draw per layer), so training runs agree too."""
    cls, kwargs, _, _ = KINDS[kind]
    module = cls(H_IN, H, num_layers=3, dropout=0.4, bidirectional=True, dtype="float64", **kwargs)
    x = np.random.default_rng(2).standard_normal((L, H_IN))
    results = []
    for reference in (False, True):
        nablab.manual_seed(5)
        results.append(_run(module, x, [], "both", reference, node_types)[0])
    for got, want in zip(*results):
        np.testing.assert_allclose(got, want, **TOLERANCE["float64"])


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_second_backward_through_the_kept_graph_gives_the_same_gradients(kind):
    cls, kwargs, _, _ = KINDS[kind]
    module = cls(H_IN, H, dtype="float64", **kwargs)
    x = nablab.tensor(np.random.default_rng(3).standard_normal((L, N, H_IN)), requires_grad=True)
    out, final = module(x)
    loss = (out * out).sum() + (final[-1] if cls is LSTM else final).sum()
    loss.backward(retain_graph=True)
    first = [x.grad.numpy().copy()] + [p.grad.numpy().copy() for p in module.parameters()]
    module.zero_grad()
    x.grad = None
    loss.backward()
    for got, want in zip([x.grad.numpy()] + [p.grad.numpy() for p in module.parameters()], first):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("kind", list(KINDS))
def test_without_gradients_the_kernel_gives_the_reference_values(kind):
    cls, kwargs, _, _ = KINDS[kind]
    module = cls(H_IN, H, num_layers=2, dtype="float64", **kwargs)
    x = nablab.tensor(np.random.default_rng(4).standard_normal((L, N, H_IN)))
    with nablab.no_grad():
        fast = module(x)[0].numpy()
        with kernels.use_reference():
            slow = module(x)[0].numpy()
    np.testing.assert_allclose(fast, slow, **TOLERANCE["float64"])


def _arrays(dtype="float32", steps=L, bias=True, gates=4, state=2):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((steps, N, H_IN)), rng.standard_normal((N, state * H)),
              rng.standard_normal((gates * H, H_IN)), rng.standard_normal((gates * H, H))]
    arrays += [rng.standard_normal(gates * H), rng.standard_normal(gates * H)] if bias else []
    return [a.astype(dtype) for a in arrays]


SHAPES = {"LSTM": {}, "GRU": {"gates": 3, "state": 1}, "RNN_TANH": {"gates": 1, "state": 1},
          "RNN_RELU": {"gates": 1, "state": 1}}
KERNEL_OF = {"LSTM": LSTMSequence, "GRU": GRUSequence, "RNN_TANH": RNNSequence, "RNN_RELU": RNNSequence}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", list(SHAPES))
def test_each_kernel_takes_numpy_float_directions_of_its_cells(mode, dtype, bias):
    for reverse in (False, True):
        run = kernels.select(recurrent_states, *_arrays(dtype, bias=bias, **SHAPES[mode]), mode=mode, reverse=reverse)
        assert run == KERNEL_OF[mode].apply


@pytest.mark.parametrize(("arrays", "mode"), [
    (_arrays("float16"), "LSTM"),  # no float16 kernel
    (_arrays(steps=0), "LSTM"),  # an empty sequence: the reference's error
    (_arrays()[:1] + _arrays("float64")[1:], "LSTM"),  # mixed dtypes
    (_arrays(), "LSTM_PEEPHOLE"),  # a mode no kernel knows
], ids=["float16", "no steps", "mixed dtypes", "unknown mode"])
def test_the_kernels_leave_other_calls_to_the_reference(arrays, mode):
    assert kernels.select(recurrent_states, *arrays, mode=mode) is recurrent_states


def test_use_reference_turns_the_kernels_off():
    with kernels.use_reference():
        assert kernels.select(recurrent_states, *_arrays(), mode="LSTM") is recurrent_states
    assert kernels.select(recurrent_states, *_arrays(), mode="LSTM") == LSTMSequence.apply


@pytest.mark.parametrize(("kernel", "mode"), [(LSTMSequence, "GRU"), (GRUSequence, "LSTM"), (RNNSequence, "GRU")])
def test_a_kernel_runs_its_own_cells_only(kernel, mode):
    with pytest.raises(ValueError, match="layers only"):
        kernel.apply(*[nablab.tensor(a) for a in _arrays()], mode=mode)
