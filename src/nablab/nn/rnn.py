"""Recurrent layers with ``torch.nn``'s arguments, parameters and results: ``RNN``, ``LSTM``, ``GRU``
and the single-step ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Layer k of a stack (k = 0 … num_layers − 1), in each direction, holds

    weight_ih_l{k} (G·H, H_in_k)   weight_hh_l{k} (G·H, H)   bias_ih_l{k} (G·H,)   bias_hh_l{k} (G·H,)

(``_reverse`` appended for the backward direction), with G = 1 (RNN), 4 (LSTM: gates i, f, g, o)
or 3 (GRU: r, z, n), H_in_0 = input_size and H_in_k = D·H above, D = 2 when bidirectional. Every
parameter starts at U(−1/√H, 1/√H), as in PyTorch. The state dict lists them in PyTorch's order,
so :func:`nablab.io.from_torch` and ``to_torch`` move the weights either way.

A layer in one direction is :func:`recurrent_states`, which runs one graph node per time step: the
input part of the gates gi = x_t W_ihᵀ + b_ih (a ``Linear``), then the cell's step
(:mod:`nablab.ops.recurrent`, whose backward is written out there), so backpropagation through time
is the ordinary reverse sweep over the chain of steps. The backward direction reads the steps from
the end. (Each step projects its own input: slicing one (L, N, G·H) product per step would cost a
full-size gradient per step, which made the layer 1.9× slower.) Dropout (training only) acts on the
outputs of every layer but the last. This per-step form is the reference; for NumPy float32/float64
a direction runs as one node for the whole sequence instead (:mod:`nablab.kernels.cpu.recurrent`:
the loop through time inside its forward and backward, the input projection and the weight
gradients one product each over all steps), which computes the same numbers up to rounding;
``nablab.kernels.use_reference()`` turns it off. ``benchmarks/bench_recurrent.py`` measures both
for the LSTM.

:func:`nablab.nn.utils.rnn.pad_sequence` joins sequences of different lengths into one padded
batch, as ``torch.nn.utils.rnn.pad_sequence``; packed sequences are not implemented.

Shapes, with L the sequence length and N the batch: input (L, N, H_in), or (N, L, H_in) with
``batch_first``, or unbatched (L, H_in); initial states (D·num_layers, N, H) (unbatched:
(D·num_layers, H)), zeros when not given; the result is (output, h_n) — (output, (h_n, c_n)) for
the LSTM — with output (L, N, D·H) (batch-first or unbatched as the input) holding the last
layer's h_t of both directions side by side.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import kernels, ops
from ..errors import ShapeError
from ..shape_functions import cat, stack
from . import functional as F
from . import init
from .module import Module
from .parameter import Parameter

#: the number of gate blocks G in each kind of cell
GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_NONLINEARITY = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}


def _mode(nonlinearity: str) -> str:
    if nonlinearity not in _NONLINEARITY:
        raise ValueError(f"unknown nonlinearity {nonlinearity!r}: expected 'tanh' or 'relu'")
    return _NONLINEARITY[nonlinearity]


def _check_sizes(input_size, hidden_size) -> None:
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_dtype(name: str, x, weight) -> None:
    if x.dtype != weight.dtype:
        raise TypeError(f"{name}: input dtype {x.dtype} does not match the layer's dtype {weight.dtype} "
                        f"(convert one of them: x.to({weight.dtype}) or module.to({x.dtype}))")


def _state(name: str, given, expected: tuple, x):
    """The initial state ``given`` (zeros of the input's dtype when None), checked to be of ``expected`` shape."""
    if given is None:
        return x.new_zeros(expected)
    if tuple(given.shape) != expected:
        raise ShapeError(f"{name}: expected hidden state of shape {expected}, got {tuple(given.shape)}")
    _check_dtype(name, given, x)
    return given


def _step(mode: str, gi, state, w_hh, b_hh):
    """One time step of a cell: the next state from the gates' input part ``gi`` (a node of its own)."""
    args = (gi, state, w_hh) if b_hh is None else (gi, state, w_hh, b_hh)
    if mode == "LSTM":
        return ops.LSTMStep.apply(*args)
    if mode == "GRU":
        return ops.GRUStep.apply(*args)
    return ops.RNNStep.apply(*args, nonlinearity="tanh" if mode == "RNN_TANH" else "relu")


def recurrent_states(x, state, w_ih, w_hh, b_ih=None, b_hh=None, *, mode: str, reverse: bool = False):
    """One layer of cells of ``mode`` in one direction: the state after every step, (L, N, S).

    x (L, N, H_in) holds the steps, ``state`` (N, S) the state before the first one (S = 2H for the
    LSTM's [h | c], else H); ``reverse`` runs from step L − 1 down to 0. Row t of the result is the
    state after reading x_t, so the last state is row L − 1 (row 0 when ``reverse``). Per step one
    ``Linear`` and one cell step (the reference; a kernel may run the whole sequence as one node).
    """
    states = [None] * x.shape[0]
    xs = x.unbind(0)
    for t in (reversed(range(len(xs))) if reverse else range(len(xs))):
        state = _step(mode, F.linear(xs[t], w_ih, b_ih), state, w_hh, b_hh)
        states[t] = state
    return stack(states)


class RNNBase(Module):
    """What ``RNN``, ``LSTM`` and ``GRU`` share: arguments, parameters, initialisation and the loop over
    layers, directions and time (see the module docstring)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype="float32"):
        super().__init__()
        if mode not in GATES:
            raise ValueError(f"unknown recurrent mode {mode!r}: expected one of {sorted(GATES)}")
        _check_sizes(input_size, hidden_size)
        if not isinstance(num_layers, (int, np.integer)) or num_layers <= 0:
            raise ValueError(f"num_layers must be a positive integer, got {num_layers!r}")
        if isinstance(dropout, bool) or not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be a number in [0, 1] (the probability of an element being zeroed), "
                             f"got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"dropout={dropout} acts between recurrent layers, after all but the last: with "
                          "num_layers=1 it does nothing", UserWarning, stacklevel=3)
        if proj_size != 0:
            raise ValueError(f"proj_size={proj_size!r}: nablab's LSTM has no projection; only proj_size=0 is "
                             "supported")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        directions = 2 if bidirectional else 1
        rows = GATES[mode] * hidden_size
        dtype = "float32" if dtype is None else dtype
        for layer in range(num_layers):
            columns = input_size if layer == 0 else hidden_size * directions
            for suffix in ("", "_reverse")[:directions]:
                shapes = {"weight_ih": (rows, columns), "weight_hh": (rows, hidden_size)}
                if bias:
                    shapes.update({"bias_ih": (rows,), "bias_hh": (rows,)})
                for name, shape in shapes.items():
                    setattr(self, f"{name}_l{layer}{suffix}", Parameter(np.empty(shape, dtype=dtype)))
        self.reset_parameters()
        if device is not None:
            self.to(device)

    def reset_parameters(self) -> None:
        """Every parameter ~ U(−1/√H, 1/√H)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            init.uniform_(p, -bound, bound)

    def flatten_parameters(self) -> None:
        """PyTorch's call to lay the weights out in one block for cuDNN; nablab's weights need no
        relayout, so there is nothing to do (scripts that call it run unchanged)."""

    def _weights(self, layer: int, reverse: bool) -> tuple:
        suffix = f"_l{layer}" + ("_reverse" if reverse else "")
        return tuple(getattr(self, f"{name}{suffix}") if self.bias or name.startswith("weight") else None
                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"))

    def _direction(self, x, state, layer: int, reverse: bool):
        """One layer in one direction over x (L, N, H_in): (h_t for every t (L, N, H), the last state)."""
        weights = tuple(w for w in self._weights(layer, reverse) if w is not None)
        run = kernels.select(recurrent_states, x.data, state.data, *[w.data for w in weights], mode=self.mode,
                             reverse=reverse)
        states = run(x, state, *weights, mode=self.mode, reverse=reverse)
        last = states[0 if reverse else -1]
        return (states[..., :self.hidden_size] if self.mode == "LSTM" else states), last

    def _initial_states(self, hx, x, batch: int, batched: bool):
        """The initial states, each (D·num_layers, N, S) — for the LSTM one [h | c] of width 2H."""
        name, h = type(self).__name__, self.hidden_size
        layers = self.num_layers * (2 if self.bidirectional else 1)
        shape = (layers, batch, h) if batched else (layers, h)
        if self.mode != "LSTM":
            hx = _state(name, hx, shape, x)
            return hx if batched else hx.unsqueeze(1)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"{name}: hx must be a pair (h_0, c_0) of shape {shape} each, got "
                             f"{type(hx).__name__}")
        h0, c0 = (None, None) if hx is None else hx
        pair = cat([_state(f"{name} h_0", h0, shape, x), _state(f"{name} c_0", c0, shape, x)], dim=-1)
        return pair if batched else pair.unsqueeze(1)

    def forward(self, input, hx=None):
        name = type(self).__name__
        if input.ndim not in (2, 3):
            raise ShapeError(f"{name}: expected input of shape (L, N, {self.input_size}) "
                             f"{'(batch_first: (N, L, H_in)) ' if self.batch_first else ''}or unbatched "
                             f"(L, {self.input_size}), got {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: input.size(-1) must be equal to input_size ({self.input_size}), got input "
                             f"of shape {tuple(input.shape)}")
        _check_dtype(name, input, self.weight_ih_l0)
        batched = input.ndim == 3
        x = input if batched else input.unsqueeze(1)
        time_first = not (batched and self.batch_first)
        if not time_first:
            x = x.transpose(0, 1)  # time first, (L, N, H_in)
        states = self._initial_states(hx, x, x.shape[1], batched)
        directions, finals = (2 if self.bidirectional else 1), []
        for layer in range(self.num_layers):
            outputs = []
            for d in range(directions):
                hs, last = self._direction(x, states[layer * directions + d], layer, reverse=d == 1)
                outputs.append(hs)
                finals.append(last)
            x = outputs[0] if directions == 1 else cat(outputs, dim=-1)
            if layer < self.num_layers - 1 and self.dropout > 0 and self.training:
                x = F.dropout(x, self.dropout)
        if not time_first:
            x = x.transpose(0, 1)
        final = stack(finals)
        if self.mode == "LSTM":  # the LSTM's states hold [h | c]
            final = (final[..., :self.hidden_size], final[..., self.hidden_size:])
        if not batched:
            x = x.squeeze(1)
            final = tuple(f.squeeze(1) for f in final) if self.mode == "LSTM" else final.squeeze(1)
        return x, final

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0.0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                s += f", {name}={getattr(self, name)}"
        return s


class RNN(RNNBase):
    """Elman RNN: h_t = φ(x_t W_ihᵀ + b_ih + h_{t−1} W_hhᵀ + b_hh), φ = tanh or relu, as ``torch.nn.RNN``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype="float32"):
        super().__init__(_mode(nonlinearity), input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o (see :class:`nablab.ops.LSTMStep`), as ``torch.nn.LSTM``;
    returns (output, (h_n, c_n))."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype="float32"):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n with n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)) (see
    :class:`nablab.ops.GRUStep`), as ``torch.nn.GRU``."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype="float32"):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class RNNCellBase(Module):
    """What the cells share: ``weight_ih`` (G·H, H_in), ``weight_hh`` (G·H, H), ``bias_ih``, ``bias_hh``
    (G·H,), all ~ U(−1/√H, 1/√H); input (N, H_in) or unbatched (H_in,), states (N, H) or (H,)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool, device, dtype):
        super().__init__()
        _check_sizes(input_size, hidden_size)
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        rows, dtype = GATES[mode] * hidden_size, "float32" if dtype is None else dtype
        self.weight_ih = Parameter(np.empty((rows, input_size), dtype=dtype))
        self.weight_hh = Parameter(np.empty((rows, hidden_size), dtype=dtype))
        if bias:
            self.bias_ih = Parameter(np.empty(rows, dtype=dtype))
            self.bias_hh = Parameter(np.empty(rows, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()
        if device is not None:
            self.to(device)

    reset_parameters = RNNBase.reset_parameters

    def _input(self, input):
        """The input as (N, H_in), and whether it came batched."""
        name = type(self).__name__
        if input.ndim not in (1, 2) or input.shape[-1] != self.input_size:
            raise ShapeError(f"{name}: expected input of shape (N, {self.input_size}) or ({self.input_size},), "
                             f"got {tuple(input.shape)}")
        _check_dtype(name, input, self.weight_ih)
        return (input if input.ndim == 2 else input.unsqueeze(0)), input.ndim == 2

    def _hidden(self, hx, x, batched: bool, what: str = "hx"):
        """A state as (N, H): zeros when None, else checked against the input's batch."""
        n, h = x.shape[0], self.hidden_size
        state = _state(f"{type(self).__name__} {what}", hx, (n, h) if batched else (h,), x)
        return state if batched else state.unsqueeze(0)

    def _step(self, x, state):
        return _step(self.mode, F.linear(x, self.weight_ih, self.bias_ih), state, self.weight_hh, self.bias_hh)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        return s


class RNNCell(RNNCellBase):
    """h' = φ(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh), φ = tanh or relu, as ``torch.nn.RNNCell``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype="float32"):
        super().__init__(_mode(nonlinearity), input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        h = self._step(x, self._hidden(hx, x, batched))
        return h if batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step, gates i, f, g, o, as ``torch.nn.LSTMCell``: forward(input, (h, c)) → (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype="float32"):
        super().__init__("LSTM", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise ValueError(f"LSTMCell: hx must be a pair (h, c), got {type(hx).__name__}")
        h0, c0 = (None, None) if hx is None else hx
        state = self._step(x, cat([self._hidden(h0, x, batched, "h"), self._hidden(c0, x, batched, "c")], dim=1))
        h, c = state[:, :self.hidden_size], state[:, self.hidden_size:]
        return (h, c) if batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step, gates r, z, n, as ``torch.nn.GRUCell``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype="float32"):
        super().__init__("GRU", input_size, hidden_size, bias, device, dtype)

    def forward(self, input, hx=None):
        x, batched = self._input(input)
        h = self._step(x, self._hidden(hx, x, batched))
        return h if batched else h.squeeze(0)


__all__ = ["GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNBase", "RNNCell", "RNNCellBase", "recurrent_states"]
