"""The gradient checks of the recurrent steps (:mod:`nablab.ops.recurrent`), each alone and chained
through time inside the layers (several steps, two layers, both directions). On the kernel path the
layers run as whole-sequence nodes (:mod:`nablab.kernels.cpu.recurrent`), which the layer cases
check too: with and without biases, from zeros and from given initial states."""

from __future__ import annotations

from ..nn.rnn import GRU, LSTM, RNN, RNNBase
from ..ops.recurrent import GRUStep, LSTMStep, RNNStep
from .case import Case
from .case import away_from_zero as _away
from .case import normal as _n

CASES: dict[str, Case] = {}

N, H = 3, 4  # batch and hidden size of the single steps
#: every output depends on many inputs (the gates mix all of h through W_hh): the five-point stencil
STENCIL = {"eps": 1e-3, "order": 4}


def _layer(cls, *args, **kwargs):
    """fn(x, *parameters) running a float64 layer on the given parameters (in state-dict order)."""
    def fn(x, *params):
        module = cls(*args, dtype="float64", **kwargs)
        for name, p in zip([name for name, _ in module.named_parameters()], params):
            setattr(module, name, p)  # the checked tensors become the layer's parameters
        out = module(x)
        return out[0] if isinstance(module, RNNBase) else out
    return fn


def _lstm_from_state(*args, **kwargs):
    """fn(x, h_0, c_0, *parameters): a float64 LSTM from given initial states; the loss reads the final
    states as well as the output."""
    def fn(x, h0, c0, *params):
        module = LSTM(*args, dtype="float64", **kwargs)
        for name, p in zip([name for name, _ in module.named_parameters()], params):
            setattr(module, name, p)
        out, (h_n, c_n) = module(x, (h0, c0))
        return out.sum() + (h_n * c_n).sum()
    return fn


def _layer_inputs(cls, x_shape, *args, state_shape=None, **kwargs):
    def make(rng):
        module = cls(*args, dtype="float64", **kwargs)
        states = [_n(rng, *state_shape), _n(rng, *state_shape)] if state_shape else []
        return [_n(rng, *x_shape)] + states + [0.5 * _n(rng, *p.shape) for p in module.parameters()]
    return make


CASES.update({
    "rnn step (tanh)": Case(RNNStep, lambda gi, h, w, b: RNNStep.apply(gi, h, w, b),
                            lambda r: [_n(r, N, H), _n(r, N, H), 0.5 * _n(r, H, H), _n(r, H)], **STENCIL),
    "rnn step (relu, no bias)": Case(
        RNNStep, lambda gi, h, w: RNNStep.apply(gi, h, w, nonlinearity="relu"),
        lambda r: [_away(r, N, H, margin=0.3), 0.1 * _n(r, N, H), 0.1 * _n(r, H, H)], smooth=False, **STENCIL),
    "lstm step": Case(LSTMStep, lambda gi, s, w, b: LSTMStep.apply(gi, s, w, b),
                      lambda r: [_n(r, N, 4 * H), _n(r, N, 2 * H), 0.5 * _n(r, 4 * H, H), _n(r, 4 * H)], **STENCIL),
    "lstm step (no bias)": Case(LSTMStep, lambda gi, s, w: LSTMStep.apply(gi, s, w),
                                lambda r: [_n(r, N, 4 * H), _n(r, N, 2 * H), 0.5 * _n(r, 4 * H, H)], **STENCIL),
    "gru step": Case(GRUStep, lambda gi, h, w, b: GRUStep.apply(gi, h, w, b),
                     lambda r: [_n(r, N, 3 * H), _n(r, N, H), 0.5 * _n(r, 3 * H, H), _n(r, 3 * H)], **STENCIL),
    "gru step (no bias)": Case(GRUStep, lambda gi, h, w: GRUStep.apply(gi, h, w),
                               lambda r: [_n(r, N, 3 * H), _n(r, N, H), 0.5 * _n(r, 3 * H, H)], **STENCIL),
    "lstm layer (2 layers, bidirectional, 5 steps)": Case(
        LSTMStep, _layer(LSTM, 3, 2, num_layers=2, bidirectional=True),
        _layer_inputs(LSTM, (5, 2, 3), 3, 2, num_layers=2, bidirectional=True), **STENCIL),
    "lstm layer (no bias, batch_first, 4 steps)": Case(
        LSTMStep, _layer(LSTM, 3, 2, bias=False, batch_first=True),
        _layer_inputs(LSTM, (2, 4, 3), 3, 2, bias=False, batch_first=True), **STENCIL),
    "lstm layer (bidirectional, initial states, final states in the loss)": Case(
        LSTMStep, _lstm_from_state(3, 2, bidirectional=True),
        _layer_inputs(LSTM, (4, 2, 3), 3, 2, state_shape=(2, 2, 2), bidirectional=True), **STENCIL),
    "gru layer (batch_first, 5 steps)": Case(
        GRUStep, _layer(GRU, 3, 2, batch_first=True), _layer_inputs(GRU, (2, 5, 3), 3, 2, batch_first=True),
        **STENCIL),
    "rnn layer (tanh, bidirectional, unbatched)": Case(
        RNNStep, _layer(RNN, 3, 2, bidirectional=True), _layer_inputs(RNN, (5, 3), 3, 2, bidirectional=True),
        **STENCIL),
})
