"""One time step of the recurrent cells (Elman RNN, LSTM, GRU), each one graph node with its
hand-derived backward.

Each step takes the input part of its gates already computed, ``gi = x_t W_ihᵀ + b_ih`` (a
``Linear`` node before it), the previous state, and the recurrent weights
``W_hh`` (G·H, H) and bias ``b_hh`` (G·H,) (optional), for a batch of N rows and hidden size H.
The gate blocks are stacked along the last axis in PyTorch's order (LSTM i, f, g, o; GRU r, z, n),
so PyTorch's weights fit unchanged. σ is the logistic sigmoid, ⊙ the elementwise product; the
derivatives used are σ' = σ(1 − σ) and tanh' = 1 − tanh².

Every backward returns dL/dgi, dL/d(state), dL/dW_hh = Σ_n dAᵀ h and dL/db_hh = Σ_n dA, where
dA is dL/d(h W_hhᵀ + b_hh), and dL/dh gets dA W_hh from the recurrent product.
"""

from __future__ import annotations

from ..backend import get_array_module
from ..function import Function


def _sigmoid(xp, a):
    """σ(a) = 1 / (1 + e⁻ᵃ) = (1 + tanh(a/2)) / 2: one pass of tanh, no overflow for any a."""
    y = xp.tanh(a * 0.5)
    y += 1
    y *= 0.5
    return y


def _recurrent(h, w_hh, b_hh):
    """h W_hhᵀ + b_hh (the bias may be absent)."""
    a = h @ w_hh.T
    if b_hh is not None:
        a += b_hh
    return a


def _weight_grads(needs, da, h, w_hh):
    """(dL/dh from the product, dL/dW_hh, dL/db_hh) given dA = dL/d(h W_hhᵀ + b_hh)."""
    gh = da @ w_hh if needs[1] else None
    gw = da.T @ h if needs[2] else None
    gb = da.sum(axis=0) if len(needs) > 3 and needs[3] else None
    return gh, gw, gb


class RNNStep(Function):
    """Elman step: h' = φ(gi + h W_hhᵀ + b_hh) with φ = tanh or relu.

    With a = gi + h W_hhᵀ + b_hh and dA = dL/dh' ⊙ φ'(a), where tanh'(a) = 1 − h'² and
    relu'(a) = [a > 0] = [h' > 0]:
    dL/dgi = dA,  dL/dh = dA W_hh,  dL/dW_hh = dAᵀ h,  dL/db_hh = Σ_n dA.
    """

    fresh_grads = True

    def __init__(self, nonlinearity="tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNStep: unknown nonlinearity {nonlinearity!r}; expected 'tanh' or 'relu'")
        self.nonlinearity = nonlinearity

    def forward(self, gi, h, w_hh, b_hh=None):
        xp = get_array_module(gi)
        a = gi + _recurrent(h, w_hh, b_hh)
        self.h, self.w_hh = h, w_hh
        self.out = xp.tanh(a) if self.nonlinearity == "tanh" else xp.maximum(a, 0)
        return self.out

    def backward(self, gy):
        y = self.out
        da = gy * (1 - y * y) if self.nonlinearity == "tanh" else gy * (y > 0)
        gh, gw, gb = _weight_grads(self.needs_input_grad, da, self.h, self.w_hh)
        return da, gh, gw, gb


class LSTMStep(Function):
    """LSTM step (Hochreiter & Schmidhuber 1997, with a forget gate) on the state s = [h | c] (N, 2H).

    With a = gi + h W_hhᵀ + b_hh split into [a_i, a_f, a_g, a_o]:

        i = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
        c' = f ⊙ c + i ⊙ g        h' = o ⊙ tanh(c')          returns s' = [h' | c']

    The pair (h, c) travels as one array because a node has one output. Backward, from
    dL/ds' = [dh' | dc'] and τ = tanh(c'):

        dC = dc' + dh' ⊙ o ⊙ (1 − τ²)                  (all that reaches c')
        da_i = dC ⊙ g ⊙ i(1 − i)     da_f = dC ⊙ c ⊙ f(1 − f)
        da_g = dC ⊙ i ⊙ (1 − g²)     da_o = dh' ⊙ τ ⊙ o(1 − o)
        dL/dgi = dA = [da_i, da_f, da_g, da_o]     dL/ds = [dA W_hh | dC ⊙ f]
        dL/dW_hh = dAᵀ h     dL/db_hh = Σ_n dA
    """

    fresh_grads = True

    def forward(self, gi, state, w_hh, b_hh=None):
        xp = get_array_module(gi)
        hidden = w_hh.shape[1]
        h, c = xp.ascontiguousarray(state[:, :hidden]), state[:, hidden:]
        a = gi + _recurrent(h, w_hh, b_hh)
        i_f, o = _sigmoid(xp, a[:, :2 * hidden]), _sigmoid(xp, a[:, 3 * hidden:])
        i, f, g = i_f[:, :hidden], i_f[:, hidden:], xp.tanh(a[:, 2 * hidden:3 * hidden])
        c_new = f * c + i * g
        tau = xp.tanh(c_new)
        self.h, self.c, self.w_hh = h, c, w_hh
        self.i, self.f, self.g, self.o, self.tau = i, f, g, o, tau
        return xp.concatenate([o * tau, c_new], axis=1)

    def backward(self, gy):
        xp = get_array_module(gy)
        hidden = self.w_hh.shape[1]
        dh, dc = gy[:, :hidden], gy[:, hidden:]
        i, f, g, o, tau = self.i, self.f, self.g, self.o, self.tau
        d_cell = dc + dh * o * (1 - tau * tau)
        da = xp.concatenate([d_cell * g * i * (1 - i), d_cell * self.c * f * (1 - f),
                             d_cell * i * (1 - g * g), dh * tau * o * (1 - o)], axis=1)
        needs = self.needs_input_grad
        gh, gw, gb = _weight_grads(needs, da, self.h, self.w_hh)
        g_state = xp.concatenate([gh, d_cell * f], axis=1) if needs[1] else None
        return da, g_state, gw, gb


class GRUStep(Function):
    """GRU step (Cho et al. 2014) in PyTorch's form, with b_hn inside the reset product.

    With gi = [gi_r, gi_z, gi_n] and gh = h W_hhᵀ + b_hh = [gh_r, gh_z, gh_n]:

        r = σ(gi_r + gh_r)   z = σ(gi_z + gh_z)   n = tanh(gi_n + r ⊙ gh_n)
        h' = (1 − z) ⊙ n + z ⊙ h

    Backward, from dh' = dL/dh':

        da_n = dh' ⊙ (1 − z) ⊙ (1 − n²)        (dL/d of n's argument)
        da_r = da_n ⊙ gh_n ⊙ r(1 − r)     da_z = dh' ⊙ (h − n) ⊙ z(1 − z)
        dL/dgi = [da_r, da_z, da_n]        dL/dgh = dA = [da_r, da_z, da_n ⊙ r]
        dL/dh = dh' ⊙ z + dA W_hh     dL/dW_hh = dAᵀ h     dL/db_hh = Σ_n dA
    """

    fresh_grads = True

    def forward(self, gi, h, w_hh, b_hh=None):
        xp = get_array_module(gi)
        hidden = w_hh.shape[1]
        gh = _recurrent(h, w_hh, b_hh)
        r = _sigmoid(xp, gi[:, :hidden] + gh[:, :hidden])
        z = _sigmoid(xp, gi[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
        gh_n = gh[:, 2 * hidden:]
        n = xp.tanh(gi[:, 2 * hidden:] + r * gh_n)
        self.h, self.w_hh, self.r, self.z, self.n, self.gh_n = h, w_hh, r, z, n, gh_n
        return (1 - z) * n + z * h

    def backward(self, gy):
        xp = get_array_module(gy)
        r, z, n = self.r, self.z, self.n
        da_n = gy * (1 - z) * (1 - n * n)
        da_r = da_n * self.gh_n * r * (1 - r)
        da_z = gy * (self.h - n) * z * (1 - z)
        g_gi = xp.concatenate([da_r, da_z, da_n], axis=1)
        da = xp.concatenate([da_r, da_z, da_n * r], axis=1)
        needs = self.needs_input_grad
        gh, gw, gb = _weight_grads(needs, da, self.h, self.w_hh)
        return g_gi, (gy * z + gh) if needs[1] else None, gw, gb
