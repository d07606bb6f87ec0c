"""How to run an LSTM through time: one graph node per step composed of existing ops, one fused node
per step (what ``nablab.nn.LSTM`` does), the same with the input projection of all steps in one
product sliced per step, or one node for the whole sequence — timed against each other and against
PyTorch (CPU, same threads) for a training step's forward and backward.

The issue's rule: keep the readable form unless another is at least 2× faster. All variants start
from the same weights and are first checked to give the same output and gradients. Each figure is
the fastest of ``--repeats`` steps in process CPU time (one thread by default): on a shared machine
the wall clock measures the other tenants more than the code; ``--threads`` > 1 times the wall clock.

    python benchmarks/bench_recurrent.py [--batch 32 --seq 64 --input 64 --hidden 256 --repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from common import limit_threads

import nablab
from nablab import ops
from nablab.function import Function
from nablab.nn import functional as F
from nablab.nn.rnn import LSTM
from nablab.shape_functions import stack


def composed_lstm(layer, x):
    """The LSTM layer from existing ops only: per step two Linears, four gate activations and the products."""
    h = c = x.new_zeros(x.shape[1], layer.hidden_size)
    outputs = []
    for x_t in x.unbind(0):
        a = F.linear(x_t, layer.weight_ih_l0, layer.bias_ih_l0) + F.linear(h, layer.weight_hh_l0, layer.bias_hh_l0)
        i, f, g, o = a.chunk(4, 1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        outputs.append(h)
    return stack(outputs)


def fused_steps_one_projection(layer, x):
    """One fused node per step, the input projection of all steps in one product (L, N, 4H) sliced per
    step: each slice's backward is a full-size (L, N, 4H) gradient, so the sweep adds L of them."""
    gates = F.linear(x, layer.weight_ih_l0, layer.bias_ih_l0).unbind(0)
    hc = x.new_zeros(x.shape[1], 2 * layer.hidden_size)
    outputs = []
    for gi in gates:
        hc = ops.LSTMStep.apply(gi, hc, layer.weight_hh_l0, layer.bias_hh_l0)
        outputs.append(hc[:, :layer.hidden_size])
    return stack(outputs)


def _sigmoid(a):
    return 0.5 * (np.tanh(0.5 * a) + 1.0)


class LSTMSequence(Function):
    """A whole single-layer LSTM sequence as one node (zero initial state): the time loop, and the
    loop back through time, inside forward and backward (for timing only)."""

    fresh_grads = True

    def forward(self, x, w_ih, w_hh, b_ih, b_hh):
        steps, batch, hidden = x.shape[0], x.shape[1], w_hh.shape[1]
        gi = x @ w_ih.T + (b_ih + b_hh)
        self.x, self.w_ih, self.w_hh = x, w_ih, w_hh
        self.h = np.zeros((steps + 1, batch, hidden), x.dtype)
        self.c = np.zeros((steps + 1, batch, hidden), x.dtype)
        self.gates = np.empty((steps, batch, 4 * hidden), x.dtype)
        for t in range(steps):
            a = gi[t] + self.h[t] @ w_hh.T
            act = self.gates[t]
            act[:, :2 * hidden] = _sigmoid(a[:, :2 * hidden])
            act[:, 2 * hidden:3 * hidden] = np.tanh(a[:, 2 * hidden:3 * hidden])
            act[:, 3 * hidden:] = _sigmoid(a[:, 3 * hidden:])
            i, f, g, o = np.split(act, 4, axis=1)
            self.c[t + 1] = f * self.c[t] + i * g
            self.h[t + 1] = o * np.tanh(self.c[t + 1])
        return self.h[1:].copy()

    def backward(self, gy):
        steps, hidden = gy.shape[0], self.w_hh.shape[1]
        da = np.empty_like(self.gates)
        dh_next = np.zeros_like(gy[0])
        dc_next = np.zeros_like(gy[0])
        for t in reversed(range(steps)):
            i, f, g, o = np.split(self.gates[t], 4, axis=1)
            dh = gy[t] + dh_next
            tau = np.tanh(self.c[t + 1])
            dc = dc_next + dh * o * (1 - tau * tau)
            da[t] = np.concatenate([dc * g * i * (1 - i), dc * self.c[t] * f * (1 - f), dc * i * (1 - g * g),
                                    dh * tau * o * (1 - o)], axis=1)
            dh_next, dc_next = da[t] @ self.w_hh, dc * f
        flat = da.reshape(-1, 4 * hidden)
        db = flat.sum(axis=0)
        return (da @ self.w_ih, flat.T @ self.x.reshape(-1, self.x.shape[2]),
                flat.T @ self.h[:-1].reshape(-1, hidden), db, db.copy())


def sequence_node_lstm(layer, x):
    return LSTMSequence.apply(x, layer.weight_ih_l0, layer.weight_hh_l0, layer.bias_ih_l0, layer.bias_hh_l0)


def module_lstm(layer, x):
    return layer(x)[0]


VARIANTS = {
    "per step, composed of existing ops": composed_lstm,
    "per step, one fused node (nn.LSTM)": module_lstm,
    "per step, fused node, one projection sliced": fused_steps_one_projection,
    "one node for the whole sequence": sequence_node_lstm,
}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for name, default in (("batch", 32), ("seq", 64), ("input", 64), ("hidden", 256), ("repeats", 3),
                          ("threads", 1)):
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args(argv)
    limit_threads(args.threads)
    nablab.manual_seed(0)
    layer = LSTM(args.input, args.hidden)
    x_data = np.random.default_rng(0).standard_normal((args.seq, args.batch, args.input)).astype(np.float32)
    w = np.random.default_rng(1).standard_normal((args.seq, args.batch, args.hidden)).astype(np.float32)

    def step_of(fn):
        def step():
            layer.zero_grad()
            x = nablab.tensor(x_data, requires_grad=True)
            (fn(layer, x) * nablab.tensor(w)).sum().backward()
            return x.grad.numpy(), [p.grad.numpy() for p in layer.parameters()]
        return step

    steps = {name: step_of(fn) for name, fn in VARIANTS.items()}
    reference = steps["per step, one fused node (nn.LSTM)"]()
    for name, step in steps.items():
        gx, grads = step()
        for got, want in zip([gx, *grads], [reference[0], *reference[1]]):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4, err_msg=name)

    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(args.threads)
        t_layer = torch.nn.LSTM(args.input, args.hidden)
        with torch.no_grad():
            for (_, p), q in zip(t_layer.named_parameters(), layer.parameters()):
                p.copy_(torch.from_numpy(q.numpy()))
        t_w = torch.from_numpy(w)

        def torch_step():
            t_layer.zero_grad()
            x = torch.from_numpy(x_data).requires_grad_(True)
            (t_layer(x)[0] * t_w).sum().backward()
        steps["PyTorch (CPU)"] = torch_step

    seconds = {name: _fastest(step, args.repeats, cpu_time=args.threads == 1) for name, step in steps.items()}
    base = seconds["per step, one fused node (nn.LSTM)"]
    print(f"LSTM fwd+bwd, batch {args.batch}, seq {args.seq}, input {args.input}, hidden {args.hidden}, "
          f"{args.threads} thread(s), fastest of {args.repeats} steps in {'CPU' if args.threads == 1 else 'wall'} time")
    for name, s in seconds.items():
        print(f"  {name:45s} {s * 1e3:8.1f} ms/step   {base / s:5.2f}× nn.LSTM's speed")


def _fastest(step, repeats: int, cpu_time: bool) -> float:
    """The fastest of ``repeats`` calls of ``step`` after one warm-up, in seconds."""
    clock = time.process_time if cpu_time else time.perf_counter
    step()
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        step()
        best = min(best, clock() - start)
    return best

if __name__ == "__main__":
    main()
