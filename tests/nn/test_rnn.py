"""The recurrent layers and cells on their own: shapes, parameter names and order, initialisation,
unbatched inputs, dropout between layers, and the errors for inputs and states that do not fit."""

from __future__ import annotations

import math

import numpy as np
import pytest

import nablab
from nablab.errors import ShapeError
from nablab.nn import rnn

LAYERS = [rnn.RNN, rnn.LSTM, rnn.GRU]
CELLS = [rnn.RNNCell, rnn.LSTMCell, rnn.GRUCell]
GATES = {rnn.RNN: 1, rnn.LSTM: 4, rnn.GRU: 3, rnn.RNNCell: 1, rnn.LSTMCell: 4, rnn.GRUCell: 3}


def _x(*shape, dtype="float32"):
    return nablab.tensor(np.random.default_rng(0).standard_normal(shape).astype(dtype))


@pytest.mark.parametrize("cls", LAYERS)
def test_parameter_names_order_and_shapes(cls):
    g, h = GATES[cls], 5
    layer = cls(3, h, num_layers=2, bidirectional=True)
    expected = []
    for k in range(2):
        columns = 3 if k == 0 else 2 * h
        for suffix in ("", "_reverse"):
            expected += [(f"weight_ih_l{k}{suffix}", (g * h, columns)), (f"weight_hh_l{k}{suffix}", (g * h, h)),
                         (f"bias_ih_l{k}{suffix}", (g * h,)), (f"bias_hh_l{k}{suffix}", (g * h,))]
    assert [(name, tuple(p.shape)) for name, p in layer.state_dict().items()] == expected
    assert [name for name, _ in cls(3, h, bias=False).named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]


@pytest.mark.parametrize("cls", CELLS)
def test_cell_parameter_names(cls):
    g = GATES[cls]
    cell = cls(3, 5)
    assert [(n, tuple(p.shape)) for n, p in cell.named_parameters()] == [
        ("weight_ih", (g * 5, 3)), ("weight_hh", (g * 5, 5)), ("bias_ih", (g * 5,)), ("bias_hh", (g * 5,))]
    assert cls(3, 5, bias=False).bias_ih is None


@pytest.mark.parametrize("cls", LAYERS + CELLS)
def test_every_parameter_starts_uniform_in_one_over_root_hidden(cls):
    nablab.manual_seed(0)
    module = cls(7, 100)
    bound = 1 / math.sqrt(100)
    values = np.concatenate([p.numpy().ravel() for p in module.parameters()])
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound
    assert abs(values.mean()) < 0.02 * bound
    np.testing.assert_allclose(values.std(), bound / math.sqrt(3), rtol=0.05)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("cls", LAYERS)
def test_result_shapes(cls, batch_first, bidirectional):
    d = 2 if bidirectional else 1
    layer = cls(3, 5, num_layers=3, batch_first=batch_first, bidirectional=bidirectional)
    out, state = layer(_x(2, 7, 3) if batch_first else _x(7, 2, 3))
    assert tuple(out.shape) == ((2, 7, d * 5) if batch_first else (7, 2, d * 5))
    states = state if cls is rnn.LSTM else (state,)
    assert [tuple(s.shape) for s in states] == [(3 * d, 2, 5)] * len(states)
    assert out.dtype == np.float32


@pytest.mark.parametrize("cls", LAYERS)
def test_last_output_is_the_final_state_of_the_top_layer(cls):
    layer = cls(3, 4, num_layers=2, bidirectional=True)
    out, state = layer(_x(6, 2, 3))
    h_n = (state[0] if cls is rnn.LSTM else state).numpy()
    np.testing.assert_array_equal(out.numpy()[-1, :, :4], h_n[2])  # forward direction ends at the last step
    np.testing.assert_array_equal(out.numpy()[0, :, 4:], h_n[3])  # the reverse one at the first


@pytest.mark.parametrize("cls", LAYERS)
def test_unbatched_is_a_batch_of_one(cls):
    layer = cls(3, 4, num_layers=2, bidirectional=True, batch_first=True)  # batch_first does not apply unbatched
    x = _x(6, 3)
    out, state = layer(x)
    out1, state1 = layer(x.unsqueeze(0))
    assert tuple(out.shape) == (6, 8)
    np.testing.assert_allclose(out.numpy(), out1.numpy()[0], rtol=1e-6)
    for s, s1 in zip(state if cls is rnn.LSTM else (state,), state1 if cls is rnn.LSTM else (state1,)):
        assert tuple(s.shape) == (4, 4)
        np.testing.assert_allclose(s.numpy(), s1.numpy()[:, 0], rtol=1e-6)


def test_the_given_state_is_used():
    layer = rnn.GRU(3, 4)
    x = _x(5, 2, 3)
    zeros = layer(x, nablab.zeros(1, 2, 4))[0].numpy()
    np.testing.assert_array_equal(layer(x)[0].numpy(), zeros)
    assert not np.allclose(layer(x, nablab.ones(1, 2, 4))[0].numpy(), zeros)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize(("layer_cls", "cell_cls"), zip(LAYERS, CELLS))
def test_recurrent_states_are_the_cell_stepped_through_the_sequence(layer_cls, cell_cls, reverse):
    """The reference of one layer's direction: row t is the state after x_t, the steps taken from
    the end when ``reverse``."""
    nablab.manual_seed(0)
    layer, cell = layer_cls(3, 4, dtype="float64"), cell_cls(3, 4, dtype="float64")
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        setattr(cell, name, getattr(layer, f"{name}_l0"))
    x = _x(5, 2, 3, dtype="float64")
    lstm = layer_cls is rnn.LSTM
    state = nablab.tensor(np.random.default_rng(1).standard_normal((2, 8 if lstm else 4)))
    with nablab.kernels.use_reference():
        states = rnn.recurrent_states(x, state, *layer._weights(0, False), mode=layer.mode, reverse=reverse)
    assert tuple(states.shape) == (5, 2, 8 if lstm else 4)
    s = state.numpy()
    for t in (range(4, -1, -1) if reverse else range(5)):
        hx = (nablab.tensor(s[:, :4]), nablab.tensor(s[:, 4:])) if lstm else nablab.tensor(s)
        out = cell(x[t], hx)
        s = np.concatenate([o.numpy() for o in out], axis=1) if lstm else out.numpy()
        np.testing.assert_allclose(states.numpy()[t], s, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("cls", LAYERS)
def test_dropout_acts_between_layers_and_only_in_training(cls):
    nablab.manual_seed(0)
    x = _x(5, 2, 3)
    layer = cls(3, 4, num_layers=2, dropout=1.0)
    plain = cls(3, 4, num_layers=2)
    plain.load_state_dict(layer.state_dict())
    layer.eval()
    np.testing.assert_array_equal(layer(x)[0].numpy(), plain(x)[0].numpy())
    layer.train()
    # every output of layer 0 dropped: layer 1 sees zeros, so the input no longer matters
    np.testing.assert_array_equal(layer(x)[0].numpy(), layer(_x(5, 2, 3) * 3.0)[0].numpy())
    assert not np.allclose(layer(x)[0].numpy(), plain(x)[0].numpy())
    with pytest.warns(UserWarning, match="num_layers=1"):
        single = cls(3, 4, dropout=1.0)  # nothing between layers: the output is untouched
    out = single(x)[0]
    single.dropout = 0.0
    np.testing.assert_array_equal(out.numpy(), single(x)[0].numpy())


@pytest.mark.parametrize("cls", CELLS)
def test_cells_batched_and_unbatched(cls):
    cell = cls(3, 4)
    x = _x(2, 3)
    out = cell(x)
    single = cell(x[0])
    outs, singles = (out, single) if cls is rnn.LSTMCell else ((out,), (single,))
    for o, s in zip(outs, singles):
        assert tuple(o.shape) == (2, 4) and tuple(s.shape) == (4,)
        np.testing.assert_allclose(s.numpy(), o.numpy()[0], rtol=1e-6)


def test_lstm_cell_carries_the_cell_state():
    cell = rnn.LSTMCell(3, 4)
    x = _x(2, 3)
    h, c = cell(x)
    h2, c2 = cell(x, (h, c))
    assert not np.allclose(c2.numpy(), c.numpy())
    o = 1 / (1 + np.exp(-(x.numpy() @ cell.weight_ih.numpy()[12:].T + cell.bias_ih.numpy()[12:]
                          + h.numpy() @ cell.weight_hh.numpy()[12:].T + cell.bias_hh.numpy()[12:])))
    np.testing.assert_allclose(h2.numpy(), o * np.tanh(c2.numpy()), rtol=1e-5, atol=1e-6)  # h' = o ⊙ tanh(c')


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("cls", LAYERS)
def test_input_of_the_wrong_rank_or_size(cls):
    layer = cls(3, 4)
    with pytest.raises(ShapeError, match=r"expected input of shape \(L, N, 3\)"):
        layer(_x(2, 5, 2, 3))
    with pytest.raises(ShapeError, match="input_size \\(3\\)"):
        layer(_x(5, 2, 6))


@pytest.mark.parametrize("cls", LAYERS)
def test_states_of_the_wrong_shape(cls):
    layer = cls(3, 4, num_layers=2)
    wrong = nablab.zeros(1, 2, 4)
    right = nablab.zeros(2, 2, 4)
    hx = (wrong, right) if cls is rnn.LSTM else wrong
    with pytest.raises(ShapeError, match=r"expected hidden state of shape \(2, 2, 4\), got \(1, 2, 4\)"):
        layer(_x(5, 2, 3), hx)
    with pytest.raises(ShapeError, match=r"\(2, 4\)"):  # unbatched input wants unbatched states
        layer(_x(5, 3), (right, right) if cls is rnn.LSTM else right)
    if cls is rnn.LSTM:
        with pytest.raises(ShapeError, match="c_0"):
            layer(_x(5, 2, 3), (right, wrong))
        with pytest.raises(ValueError, match="pair"):
            layer(_x(5, 2, 3), right)


@pytest.mark.parametrize("cls", CELLS)
def test_cell_errors(cls):
    cell = cls(3, 4)
    with pytest.raises(ShapeError, match=r"\(N, 3\) or \(3,\)"):
        cell(_x(2, 5))
    with pytest.raises(ShapeError, match=r"\(2, 4\)"):
        state = nablab.zeros(3, 4)
        cell(_x(2, 3), (state, state) if cls is rnn.LSTMCell else state)


def test_dtype_mismatch_is_a_type_error():
    with pytest.raises(TypeError, match="float64"):
        rnn.LSTM(3, 4)(_x(5, 2, 3, dtype="float64"))
    with pytest.raises(TypeError, match="float64"):
        rnn.GRUCell(3, 4)(_x(2, 3), nablab.zeros(2, 4, dtype="float64"))


def test_bad_arguments():
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="nonlinearity"):
        rnn.RNNCell(3, 4, nonlinearity="gelu")
    with pytest.raises(ValueError, match="proj_size"):
        rnn.LSTM(3, 4, proj_size=2)
    with pytest.raises(ValueError, match="dropout"):
        rnn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size"):
        rnn.GRU(3, 0)
    with pytest.raises(ValueError, match="num_layers"):
        rnn.LSTM(3, 4, num_layers=0)


def test_flatten_parameters_leaves_the_layer_as_it_is():
    layer = rnn.LSTM(3, 4)
    x = _x(5, 2, 3)
    before = {name: p.numpy().copy() for name, p in layer.named_parameters()}
    out = layer(x)[0].numpy()
    assert layer.flatten_parameters() is None
    np.testing.assert_array_equal(layer(x)[0].numpy(), out)
    assert all(np.array_equal(p.numpy(), before[name]) for name, p in layer.named_parameters())


def test_repr_names_the_options_that_differ():
    assert repr(rnn.LSTM(3, 4, num_layers=2, batch_first=True)) == "LSTM(3, 4, num_layers=2, batch_first=True)"
    assert repr(rnn.RNN(3, 4, nonlinearity="relu")) == "RNN(3, 4, nonlinearity='relu')"
    assert repr(rnn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"


def test_float64_layers_and_gradients():
    layer = rnn.LSTM(3, 4, dtype="float64")
    x = nablab.tensor(np.ones((5, 2, 3)), dtype="float64", requires_grad=True)
    out, (h, c) = layer(x)
    (out.sum() + c.sum()).backward()
    assert out.dtype == np.float64 and x.grad.dtype == np.float64
    assert all(p.grad is not None and p.grad.dtype == np.float64 for p in layer.parameters())


def test_pad_sequence_errors():
    with pytest.raises(ValueError, match="empty"):
        nablab.nn.utils.rnn.pad_sequence([])
    with pytest.raises(ShapeError, match=r"\(L_i, 3\).*\(4, 2\) for sequence 1"):
        nablab.nn.utils.rnn.pad_sequence([_x(2, 3), _x(4, 2)])
    with pytest.raises(ValueError, match="padding_side"):
        nablab.nn.utils.rnn.pad_sequence([_x(2, 3)], padding_side="middle")


def test_padded_batch_feeds_a_layer():
    batch = nablab.nn.utils.rnn.pad_sequence([_x(5, 3), _x(2, 3)], batch_first=True)
    out, (h, c) = rnn.LSTM(3, 4, batch_first=True)(batch)
    assert tuple(batch.shape) == (2, 5, 3) and tuple(out.shape) == (2, 5, 4)
    np.testing.assert_array_equal(batch.numpy()[1, 2:], 0.0)
