"""A whole LSTM sequence (one layer, one direction) as one graph node: the speed path of
:func:`nablab.nn.rnn.recurrent_states` for ``mode="LSTM"`` on NumPy float32/float64.

The reference runs a ``Linear`` and an :class:`nablab.ops.LSTMStep` node per time step, and the
sweep goes back through them one by one. Here the input part of the gates of all L steps is one
product, the loop through time runs inside ``forward``, backpropagation through time inside
``backward``, and the weight gradients are one product each over all steps. The numbers are the
reference's up to the order of float rounding. The other modes (RNN, GRU) stay on the reference.
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


class LSTMSequence(Function):
    """All the states of one LSTM layer in one direction: x (L, N, H_in), s₀ = [h₀ | c₀] (N, 2H),
    W_ih (4H, H_in), W_hh (4H, H), biases b_ih, b_hh (4H,) (both or neither) → S (L, N, 2H), row t
    the state [h_t | c_t] after reading x_t (steps taken from L − 1 down to 0 when ``reverse``;
    "the previous step" p(t) is then t + 1 instead of t − 1).

    Forward, with G = x W_ihᵀ + b_ih + b_hh for all steps at once (one product (L·N, H_in)·(H_in, 4H)):

        a_t = G_t + h_{p(t)} W_hhᵀ = [a_i, a_f, a_g, a_o]
        i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        c_t = f ⊙ c_{p(t)} + i ⊙ g      τ_t = tanh(c_t)      h_t = o ⊙ τ_t

    Backward through time, from dL/dS = [dH | dC] and running the steps in the opposite order, with
    dh, dc the gradients that step t hands back to p(t) (zero after the last step):

        δh = dH_t + dh        δc = dC_t + dc + δh ⊙ o ⊙ (1 − τ_t²)
        dA_t = [δc ⊙ g ⊙ i(1 − i),  δc ⊙ c_{p(t)} ⊙ f(1 − f),  δc ⊙ i ⊙ (1 − g²),  δh ⊙ τ_t ⊙ o(1 − o)]
        dh ← dA_t W_hh        dc ← δc ⊙ f

    then, over all steps at once (dA as (L·N, 4H), h_p the previous h of every step):

        dL/dx = dA W_ih    dL/dW_ih = dAᵀ x    dL/dW_hh = dAᵀ h_p    dL/db_ih = dL/db_hh = Σ dA
        dL/ds₀ = [dh | dc] left after the first step.
    """

    fresh_grads = True

    def __init__(self, mode: str = "LSTM", reverse: bool = False):
        if mode != "LSTM":
            raise ValueError(f"LSTMSequence runs LSTM layers only, got mode={mode!r}")
        self.reverse = bool(reverse)

    def _steps(self, length: int):
        """(t, p(t)) in the order the steps run; p is None for the first one (it reads s₀)."""
        order = list(range(length))[::-1] if self.reverse else list(range(length))
        return list(zip(order, [None] + order[:-1]))

    def forward(self, x, state, w_ih, w_hh, b_ih=None, b_hh=None):
        length, batch, hidden = x.shape[0], x.shape[1], w_hh.shape[1]
        gates = (x.reshape(-1, x.shape[2]) @ w_ih.T).reshape(length, batch, 4 * hidden)
        if b_ih is not None:
            gates += b_ih + b_hh
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

    def backward(self, gy):
        x, w_hh, gates, tau, states = self.x, self.w_hh, self.gates, self.tau, self.states
        length, hidden = x.shape[0], w_hh.shape[1]
        c0 = self.state[:, hidden:]
        da = np.empty_like(gates)
        dh = np.zeros_like(gy[0, :, :hidden])
        dc = np.zeros_like(dh)
        for t, p in reversed(self._steps(length)):
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
        needs = self.needs_input_grad
        flat = da.reshape(-1, 4 * hidden)
        gx = (flat @ self.w_ih).reshape(x.shape) if needs[0] else None
        g_state = np.concatenate([dh, dc], axis=1) if needs[1] else None
        gw_ih = flat.T @ x.reshape(-1, x.shape[2]) if needs[2] else None
        gw_hh = flat.T @ self._previous_h().reshape(-1, hidden) if needs[3] else None
        grads = (gx, g_state, gw_ih, gw_hh)
        if len(needs) > 4:  # the two biases get the same gradient, each its own array
            db_ih = flat.sum(axis=0) if needs[4] else None
            db_hh = (flat.sum(axis=0) if db_ih is None else db_ih.copy()) if needs[5] else None
            grads += (db_ih, db_hh)
        return grads

    def _previous_h(self):
        """h_{p(t)} for every step t, (L, N, H): h₀ for the first step, then the h before each."""
        hidden = self.w_hh.shape[1]
        h = self.states[:, :, :hidden]
        previous = np.empty_like(h)
        first, rest, before = (-1, slice(None, -1), h[1:]) if self.reverse else (0, slice(1, None), h[:-1])
        previous[first] = self.state[:, :hidden]
        previous[rest] = before
        return previous


def _takes(x, state, w_ih, w_hh, *biases, mode, reverse=False):
    """An LSTM direction over at least one step, every array a NumPy float32/float64 of x's dtype."""
    arrays = (x, state, w_ih, w_hh, *biases)
    return (mode == "LSTM" and x.ndim == 3 and x.shape[0] > 0 and x.dtype in FLOATS
            and all(type(a) is np.ndarray and a.dtype == x.dtype for a in arrays))


kernels.register(recurrent_states, LSTMSequence.apply, when=_takes)
