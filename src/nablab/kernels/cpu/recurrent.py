"""A whole recurrent sequence (one layer, one direction) as one graph node: the speed path of
:func:`nablab.nn.rnn.recurrent_states` on NumPy float32/float64, for each kind of cell
(:class:`LSTMSequence`, :class:`GRUSequence`, :class:`RNNSequence`).

The reference runs a ``Linear`` and a cell-step node (:mod:`nablab.ops.recurrent`) per time step,
and the sweep goes back through them one by one. Here the input part of the gates of all L steps
is one product, the loop through time runs inside ``forward``, backpropagation through time inside
``backward``, and the weight gradients are one product each over all steps. The numbers are the
reference's up to the order of float rounding.

Common to all three, with x (L, N, H_in), G·H gate rows, and "the previous step" p(t) = t − 1
(t + 1 when ``reverse``, the steps then taken from L − 1 down to 0): the sweep back through time
yields dL/dgi_t, the gradient of the input part of the gates gi_t = x_t W_ihᵀ + b_ih, and dL/dgh_t,
that of the recurrent part gh_t = h_{p(t)} W_hhᵀ + b_hh (the same array where the cell only adds
the two); then, over all steps at once, with the steps as rows (L·N, ·):

    dL/dx = dGi W_ih    dL/dW_ih = dGiᵀ x    dL/db_ih = Σ dGi
    dL/dW_hh = dGhᵀ h_p    dL/db_hh = Σ dGh        (h_p: the previous h of every step)
"""

from __future__ import annotations

import numpy as np

from ... import kernels
from ...function import Function
from ...nn.rnn import recurrent_states

FLOATS = (np.float32, np.float64)


def _sigmoid_in_place(a):
    """a ← σ(a) = (1 + tanh(a/2)) / 2, as :mod:`nablab.ops.recurrent` computes it."""
    a *= 0.5
    np.tanh(a, out=a)
    a += 1
    a *= 0.5
    return a


class RecurrentSequence(Function):
    """What the whole-sequence kernels share: the order of the steps, the input projection, the
    previous h of every step and the gradients over all steps (see the module docstring).
    A subclass's forward returns every state (L, N, S), h its first H columns, and its
    ``_through_time(gy)`` returns (dGi, dGh, dL/ds₀)."""

    fresh_grads = True
    saves_output = True  # backward reads the states it returned
    modes: tuple = ()

    def __init__(self, mode: str, reverse: bool = False):
        if mode not in self.modes:
            raise ValueError(f"{type(self).__name__} runs {' or '.join(self.modes)} layers only, got mode={mode!r}")
        self.mode, self.reverse = mode, bool(reverse)

    def _steps(self, length: int):
        """(t, p(t)) in the order the steps run; p is None for the first one (it reads s₀)."""
        order = list(range(length))[::-1] if self.reverse else list(range(length))
        return list(zip(order, [None] + order[:-1]))

    def _project(self, x, w_ih, bias):
        """gi = x W_ihᵀ + bias for all steps at once, (L, N, G·H): the node's own array."""
        gi = (x.reshape(-1, x.shape[2]) @ w_ih.T).reshape(x.shape[0], x.shape[1], w_ih.shape[0])
        if bias is not None:
            gi += bias
        return gi

    def _previous_h(self):
        """h_{p(t)} for every step t, (L, N, H): h₀ for the first step, then the h before each."""
        hidden = self.w_hh.shape[1]
        h = self.states[:, :, :hidden]
        previous = np.empty_like(h)
        first, rest, before = (-1, slice(None, -1), h[1:]) if self.reverse else (0, slice(1, None), h[:-1])
        previous[first] = self.state[:, :hidden]
        previous[rest] = before
        return previous

    def backward(self, gy):
        d_gi, d_gh, g_state = self._through_time(gy)
        x, needs, same = self.x, self.needs_input_grad, d_gh is d_gi
        rows = d_gi.shape[2]
        d_gi, d_gh = d_gi.reshape(-1, rows), d_gh.reshape(-1, rows)
        grads = ((d_gi @ self.w_ih).reshape(x.shape) if needs[0] else None,
                 g_state if needs[1] else None,
                 d_gi.T @ x.reshape(-1, x.shape[2]) if needs[2] else None,
                 d_gh.T @ self._previous_h().reshape(-1, self.w_hh.shape[1]) if needs[3] else None)
        if len(needs) > 4:
            db_ih = d_gi.sum(axis=0) if needs[4] else None
            db_hh = (db_ih.copy() if same and db_ih is not None else d_gh.sum(axis=0)) if needs[5] else None
            grads += (db_ih, db_hh)  # each its own array, also where the two sums are equal
        return grads


class LSTMSequence(RecurrentSequence):
    """All the states of one LSTM layer in one direction: x (L, N, H_in), s₀ = [h₀ | c₀] (N, 2H),
    W_ih (4H, H_in), W_hh (4H, H), biases b_ih, b_hh (4H,) (both or neither) → S (L, N, 2H), row t
    the state [h_t | c_t] after reading x_t.

    Forward, with gi = x W_ihᵀ + b_ih + b_hh for all steps at once:

        a_t = gi_t + h_{p(t)} W_hhᵀ = [a_i, a_f, a_g, a_o]
        i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        c_t = f ⊙ c_{p(t)} + i ⊙ g      τ_t = tanh(c_t)      h_t = o ⊙ τ_t

    Backward through time, from dL/dS = [dH | dC] and running the steps in the opposite order, with
    dh, dc the gradients that step t hands back to p(t) (zero after the last step):

        δh = dH_t + dh        δc = dC_t + dc + δh ⊙ o ⊙ (1 − τ_t²)
        dA_t = [δc ⊙ g ⊙ i(1 − i),  δc ⊙ c_{p(t)} ⊙ f(1 − f),  δc ⊙ i ⊙ (1 − g²),  δh ⊙ τ_t ⊙ o(1 − o)]
        dh ← dA_t W_hh        dc ← δc ⊙ f

    dL/dgi_t = dL/dgh_t = dA_t, and dL/ds₀ = [dh | dc] left after the first step.
    """

    modes = ("LSTM",)

    def __init__(self, mode: str = "LSTM", reverse: bool = False):
        super().__init__(mode, reverse)

    def forward(self, x, state, w_ih, w_hh, b_ih=None, b_hh=None):
        length, batch, hidden = x.shape[0], x.shape[1], w_hh.shape[1]
        gates = self._project(x, w_ih, None if b_ih is None else b_ih + b_hh)
        states = np.empty((length, batch, 2 * hidden), dtype=x.dtype)
        tau = np.empty((length, batch, hidden), dtype=x.dtype)
        h0, c0 = state[:, :hidden], state[:, hidden:]
        w_hh_t = np.ascontiguousarray(w_hh.T)  # BLAS multiplies by a contiguous (H, 4H) faster than by a transpose
        recurrent, input_gate = np.empty_like(gates[0]), np.empty_like(tau[0])
        for t, p in self._steps(length):
            h_prev, c_prev = (h0, c0) if p is None else (states[p, :, :hidden], states[p, :, hidden:])
            a = gates[t]  # becomes the activations [i, f, g, o], kept for backward
            a += np.matmul(h_prev, w_hh_t, out=recurrent)
            _sigmoid_in_place(a[:, :2 * hidden])
            np.tanh(a[:, 2 * hidden:3 * hidden], out=a[:, 2 * hidden:3 * hidden])
            _sigmoid_in_place(a[:, 3 * hidden:])
            i, f, g, o = a[:, :hidden], a[:, hidden:2 * hidden], a[:, 2 * hidden:3 * hidden], a[:, 3 * hidden:]
            c = states[t, :, hidden:]
            np.multiply(f, c_prev, out=c)
            c += np.multiply(i, g, out=input_gate)
            np.tanh(c, out=tau[t])
            np.multiply(o, tau[t], out=states[t, :, :hidden])
        self.x, self.state, self.w_ih, self.w_hh = x, state, w_ih, w_hh
        self.gates, self.tau, self.states = gates, tau, states
        return states

    def _through_time(self, gy):
        w_hh, gates, tau, states = self.w_hh, self.gates, self.tau, self.states
        hidden = w_hh.shape[1]
        c0 = self.state[:, hidden:]
        da = np.empty_like(gates)
        dh = np.zeros_like(gy[0, :, :hidden])
        dc = np.zeros_like(dh)
        for t, p in reversed(self._steps(gy.shape[0])):
            act, tau_t = gates[t], tau[t]
            i, f, g, o = act[:, :hidden], act[:, hidden:2 * hidden], act[:, 2 * hidden:3 * hidden], act[:, 3 * hidden:]
            c_prev = c0 if p is None else states[p, :, hidden:]
            delta_h = gy[t, :, :hidden] + dh
            delta_c = gy[t, :, hidden:] + dc
            delta_c += delta_h * o * (1 - tau_t * tau_t)
            d = da[t]
            np.multiply(delta_c * g, i * (1 - i), out=d[:, :hidden])
            np.multiply(delta_c * c_prev, f * (1 - f), out=d[:, hidden:2 * hidden])
            np.multiply(delta_c * i, 1 - g * g, out=d[:, 2 * hidden:3 * hidden])
            np.multiply(delta_h * tau_t, o * (1 - o), out=d[:, 3 * hidden:])
            dh, dc = d @ w_hh, delta_c * f
        return da, da, np.concatenate([dh, dc], axis=1)


class GRUSequence(RecurrentSequence):
    """All the states of one GRU layer in one direction (PyTorch's form, b_hn inside the reset
    product): x (L, N, H_in), h₀ (N, H), W_ih (3H, H_in), W_hh (3H, H), b_ih, b_hh (3H,) (both or
    neither) → h (L, N, H), row t the state after reading x_t.

    Forward, with gi = x W_ihᵀ + b_ih for all steps at once and gh_t = h_{p(t)} W_hhᵀ + b_hh:

        r = σ(gi_r + gh_r)   z = σ(gi_z + gh_z)   n = tanh(gi_n + r ⊙ gh_n)
        h_t = (1 − z) ⊙ n + z ⊙ h_{p(t)}

    Backward through time, from dH = dL/dh and with dh the gradient step t hands back to p(t):

        δ = dH_t + dh      da_n = δ ⊙ (1 − z) ⊙ (1 − n²)
        da_r = da_n ⊙ gh_n ⊙ r(1 − r)      da_z = δ ⊙ (h_{p(t)} − n) ⊙ z(1 − z)
        dL/dgi_t = [da_r, da_z, da_n]      dL/dgh_t = [da_r, da_z, da_n ⊙ r]
        dh ← δ ⊙ z + dL/dgh_t W_hh
    """

    modes = ("GRU",)

    def __init__(self, mode: str = "GRU", reverse: bool = False):
        super().__init__(mode, reverse)

    def forward(self, x, state, w_ih, w_hh, b_ih=None, b_hh=None):
        length, batch, hidden = x.shape[0], x.shape[1], w_hh.shape[1]
        gates = self._project(x, w_ih, b_ih)  # becomes [r, z, n], kept for backward
        gh_n = np.empty((length, batch, hidden), dtype=x.dtype)
        states = np.empty((length, batch, hidden), dtype=x.dtype)
        w_hh_t = np.ascontiguousarray(w_hh.T)
        recurrent = np.empty_like(gates[0])
        for t, p in self._steps(length):
            h_prev = state if p is None else states[p]
            gh = np.matmul(h_prev, w_hh_t, out=recurrent)
            if b_hh is not None:
                gh += b_hh
            a = gates[t]
            a[:, :2 * hidden] += gh[:, :2 * hidden]
            r, z = _sigmoid_in_place(a[:, :hidden]), _sigmoid_in_place(a[:, hidden:2 * hidden])
            gh_n[t] = gh[:, 2 * hidden:]
            n = a[:, 2 * hidden:]
            n += r * gh_n[t]
            np.tanh(n, out=n)
            h = states[t]
            np.subtract(h_prev, n, out=h)
            h *= z
            h += n  # (1 − z) ⊙ n + z ⊙ h_{p(t)} = n + z ⊙ (h_{p(t)} − n)
        self.x, self.state, self.w_ih, self.w_hh = x, state, w_ih, w_hh
        self.gates, self.gh_n, self.states = gates, gh_n, states
        return states

    def _through_time(self, gy):
        w_hh, gates, states = self.w_hh, self.gates, self.states
        hidden = w_hh.shape[1]
        d_gi, d_gh = np.empty_like(gates), np.empty_like(gates)
        dh = np.zeros_like(gy[0])
        for t, p in reversed(self._steps(gy.shape[0])):
            r, z, n = gates[t, :, :hidden], gates[t, :, hidden:2 * hidden], gates[t, :, 2 * hidden:]
            h_prev = self.state if p is None else states[p]
            delta = gy[t] + dh
            da_n = delta * (1 - z) * (1 - n * n)
            np.multiply(da_n * self.gh_n[t], r * (1 - r), out=d_gi[t, :, :hidden])
            np.multiply(delta * (h_prev - n), z * (1 - z), out=d_gi[t, :, hidden:2 * hidden])
            d_gi[t, :, 2 * hidden:] = da_n
            d_gh[t, :, :2 * hidden] = d_gi[t, :, :2 * hidden]
            np.multiply(da_n, r, out=d_gh[t, :, 2 * hidden:])
            dh = delta * z + d_gh[t] @ w_hh
        return d_gi, d_gh, dh


class RNNSequence(RecurrentSequence):
    """All the states of one Elman RNN layer in one direction: x (L, N, H_in), h₀ (N, H),
    W_ih (H, H_in), W_hh (H, H), b_ih, b_hh (H,) (both or neither) → h (L, N, H), with φ = tanh
    (mode ``RNN_TANH``) or relu (``RNN_RELU``):

        h_t = φ(gi_t + h_{p(t)} W_hhᵀ),   gi = x W_ihᵀ + b_ih + b_hh for all steps at once

    Backward through time, with dh the gradient step t hands back to p(t):

        dA_t = (dH_t + dh) ⊙ φ'   (tanh' = 1 − h_t², relu' = [h_t > 0])      dh ← dA_t W_hh

    dL/dgi_t = dL/dgh_t = dA_t.
    """

    modes = ("RNN_TANH", "RNN_RELU")

    def forward(self, x, state, w_ih, w_hh, b_ih=None, b_hh=None):
        states = self._project(x, w_ih, None if b_ih is None else b_ih + b_hh)
        w_hh_t = np.ascontiguousarray(w_hh.T)
        recurrent = np.empty_like(states[0])
        for t, p in self._steps(x.shape[0]):
            h = states[t]
            h += np.matmul(state if p is None else states[p], w_hh_t, out=recurrent)
            if self.mode == "RNN_TANH":
                np.tanh(h, out=h)
            else:
                np.maximum(h, 0, out=h)
        self.x, self.state, self.w_ih, self.w_hh, self.states = x, state, w_ih, w_hh, states
        return states

    def _through_time(self, gy):
        states, w_hh = self.states, self.w_hh
        slope = 1 - states * states if self.mode == "RNN_TANH" else states > 0
        da = np.empty_like(states)
        dh = np.zeros_like(gy[0])
        for t, _ in reversed(self._steps(gy.shape[0])):
            np.multiply(gy[t] + dh, slope[t], out=da[t])
            dh = da[t] @ w_hh
        return da, da, dh


def _taken_by(cls):
    def when(x, state, w_ih, w_hh, *biases, mode, reverse=False):
        """A direction of cls's cells over at least one step, every array a NumPy float32/float64 of x's dtype."""
        arrays = (x, state, w_ih, w_hh, *biases)
        return (mode in cls.modes and x.ndim == 3 and x.shape[0] > 0 and x.dtype in FLOATS
                and all(type(a) is np.ndarray and a.dtype == x.dtype for a in arrays))
    return when


for _cls in (LSTMSequence, GRUSequence, RNNSequence):
    kernels.register(recurrent_states, _cls.apply, when=_taken_by(_cls))
