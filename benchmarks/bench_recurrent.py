"""How to run an LSTM through time: one graph node per step composed of existing ops, one fused node
per step (``nablab.nn.LSTM``'s reference path), the same with the input projection of all steps in
one product sliced per step, or one node for the whole sequence (the kernel
:class:`nablab.kernels.cpu.recurrent.LSTMSequence`, which ``nn.LSTM`` runs by default) — timed
against each other and against PyTorch (CPU, same threads) for a training step's forward and backward.

The readable per-step form stays the reference; the kernel is its speed path. All variants start
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
from nablab import kernels, ops
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


def reference_lstm(layer, x):
    """``nn.LSTM`` on the reference path: per step a Linear and one fused LSTMStep node."""
    with kernels.use_reference():
        return layer(x)[0]


def kernel_lstm(layer, x):
    """``nn.LSTM`` as it runs by default: one LSTMSequence node for the whole sequence."""
    with kernels.use_reference(False):
        return layer(x)[0]


REFERENCE = "per step, one fused node (nn.LSTM reference)"
VARIANTS = {
    "per step, composed of existing ops": composed_lstm,
    REFERENCE: reference_lstm,
    "per step, fused node, one projection sliced": fused_steps_one_projection,
    "one node for the whole sequence (nn.LSTM kernel)": kernel_lstm,
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
    reference = steps[REFERENCE]()
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
    base = seconds[REFERENCE]
    print(f"LSTM fwd+bwd, batch {args.batch}, seq {args.seq}, input {args.input}, hidden {args.hidden}, "
          f"{args.threads} thread(s), fastest of {args.repeats} steps in {'CPU' if args.threads == 1 else 'wall'} time")
    torch_seconds = seconds.get("PyTorch (CPU)")
    for name, s in seconds.items():
        versus_torch = f"   {torch_seconds / s:5.2f}× PyTorch's" if torch_seconds else ""
        print(f"  {name:50s} {s * 1e3:8.1f} ms/step   {base / s:5.2f}× the reference's speed{versus_torch}")


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
