"""Seeded random networks for the differential tests (``test_differential.py``).

A network is drawn from one integer seed (:func:`generate`) as a :class:`Spec`: NCHW chains and
DAGs of convolutions (kernels 1–5, square and not, stride 1–3, padding 0–2, dilation 1–2, groups,
with and without bias; 1×1 convolutions right after other convolutions; one module applied
twice), max/average/adaptive pooling, batch norm, activations, residual adds, broadcasting
arithmetic and reductions, then a flatten + Linear (+ ReLU) head and a loss. :func:`draw_data`
draws its weights and inputs (from the seed and an attempt number), and one description builds
it both in nablab (:class:`NablabNet`) and in PyTorch (:class:`TorchNet`) with the same arrays.
:func:`run_nablab` and :func:`run_torch` train it for two steps — forward, backward, an
optimizer step, then a second forward (in evaluation mode where the spec says so), backward and
step — and return every output, gradient, running statistic and parameter under the same keys.

``python tests/kernels/random_graphs.py SEED [SEED ...]`` prints the description of those seeds.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "improved_sigmoid")
#: largest height/width a node may have (keeps every tensor small)
MAX_HW = 12
#: ReLU inputs and the gaps between a max-pool window's (or a max's) two largest values must stay
#: this far (relative to the largest |value| of that input) from the kink, so that implementations
#: whose values differ by float rounding take the same branch; and the standard deviation of every
#: channel batch norm normalises must be at least this fraction of its largest |value| (a channel
#: constant up to rounding normalises rounding noise). Data that come closer are drawn again.
KINK_MARGIN = {"float32": 1e-5, "float64": 1e-9}
MAX_ATTEMPTS = 20


@dataclass
class Node:
    op: str
    inputs: tuple
    shape: tuple
    attrs: dict = field(default_factory=dict)


@dataclass
class Spec:
    """The structure drawn from ``seed``: node 0 is the input; every later node consumes earlier ones."""

    seed: int
    dtype: str
    nodes: list
    modules: dict  # name → dict(kind=..., settings)
    loss: dict  # kind: "cross_entropy" (reduction) or "weighted" (the sum of the output times a fixed tensor)
    optimizer: dict  # name: sgd | adam | adamw, and its settings
    second: str  # "train" or "eval": the mode of the second forward (after the first step)

    @property
    def output_shape(self) -> tuple:
        return self.nodes[-1].shape

    def ops(self) -> set:
        """The kinds of nodes in the graph (``conv``, ``maxpool``, ``act:relu``, ``adaptive:global``, …)."""
        kinds = set()
        for node in self.nodes[1:]:
            kinds.add(node.op)
            if node.op == "act":
                kinds.add(f"act:{node.attrs['fn']}")
            if node.op == "adaptive":
                kinds.add("adaptive:global" if node.attrs["o"] == 1 else "adaptive:tiles")
        return kinds

    def describe(self) -> str:
        opt = ", ".join(f"{k}={v}" for k, v in self.optimizer.items() if k != "name")
        loss = ", ".join(f"{k}={v}" for k, v in self.loss.items() if k != "kind")
        lines = [f"seed {self.seed}: {self.dtype}, input {self.nodes[0].shape}, loss {self.loss['kind']}({loss}), "
                 f"optimizer {self.optimizer['name']}({opt}), second forward in {self.second} mode"]
        for name, m in self.modules.items():
            lines.append(f"  {name}: {_describe_module(m)}")
        for i, node in enumerate(self.nodes[1:], start=1):
            args = ", ".join(f"n{j}" for j in node.inputs)
            attrs = ", ".join(f"{k}={v}" for k, v in node.attrs.items())
            call = f"{node.op}({args}{', ' if attrs else ''}{attrs})"
            lines.append(f"  n{i} = {call:<60} -> {node.shape}")
        return "\n".join(lines)


def _describe_module(m) -> str:
    kind = m["kind"]
    if kind == "conv":
        return (f"Conv2d({m['cin']}→{m['cout']}, kernel {m['kh']}×{m['kw']}, stride {m['stride']}, "
                f"padding {m['padding']}, dilation {m['dilation']}, groups {m['groups']}"
                f"{', bias' if m['bias'] else ', no bias'})")
    if kind == "bn":
        return f"BatchNorm2d({m['c']}, momentum={m['momentum']})"
    if kind == "scale":
        return f"Parameter(1, {m['c']}, 1, 1)"
    return "Sequential(" + ", ".join(_describe_layer(layer) for layer in m["layers"]) + ")"


def _describe_layer(layer) -> str:
    if layer[0] == "linear":
        return f"Linear({layer[1]}, {layer[2]}{'' if layer[3] else ', bias=False'})"
    return {"flatten": "Flatten", "relu": "ReLU", "tanh": "Tanh"}[layer[0]] + "()"


# --------------------------------------------------------------------------- the generator
def _conv_out(size, k, s, p, d):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def _reads_input(size, k, s, p, d, out) -> bool:
    """Whether some output position of a convolution reads the input, not only its zero padding
    (a 1×1 convolution with stride 3 and padding 1 over 2 rows reads only padding: its output is
    its bias, and batch norm over it normalises rounding noise)."""
    return any(p <= i * s + u * d < p + size for i in range(out) for u in range(k))


def _pool_out(size, k, s, p):
    return (size + 2 * p - k) // s + 1


class _Drawer:
    """Draws one network node by node, keeping track of every node's shape."""

    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[Node] = []
        self.modules: dict = {}
        self.exact_only = False  # only ops whose kernels must match the reference bit for bit

    # small helpers over the Generator
    def pick(self, options, weights=None):
        p = None if weights is None else np.asarray(weights, dtype=float) / np.sum(weights)
        return options[int(self.rng.choice(len(options), p=p))]

    def randint(self, lo: int, hi: int) -> int:  # inclusive
        return int(self.rng.integers(lo, hi + 1))

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def add(self, node_op, inputs, shape, **attrs) -> int:
        self.nodes.append(Node(node_op, tuple(inputs), tuple(int(s) for s in shape), attrs))
        return len(self.nodes) - 1

    def shape(self, i) -> tuple:
        return self.nodes[i].shape

    def module(self, kind, **spec) -> str:
        name = f"{kind}{len(self.modules)}"
        self.modules[name] = dict(kind=kind, **spec)
        return name

    def divisor(self, n: int) -> int:
        """1 half the time, else any divisor of n."""
        if self.chance(0.5):
            return 1
        return self.pick([d for d in range(1, n + 1) if n % d == 0])

    # convolutions
    def conv_spec(self, c, h, w, style, cout=None):
        """A convolution over C×H×W inputs of one of the styles "fast" (what the stride-1 CPU kernel
        takes), "1x1", "same" (the output keeps the input's shape) or "any"; None if none fits."""
        for _ in range(100):
            o = cout if cout is not None else self.randint(1, 8)
            if style == "1x1":
                kh = kw = d = 1
                s, p = (1, 0) if self.chance(0.7) else (self.randint(1, 2), self.randint(0, 1))
                g = 1 if self.chance(0.7) else self.divisor(math.gcd(c, o))
            elif style == "fast":
                kh = kw = self.randint(1, 5)
                s, d, g = 1, 1, 1
                p = self.randint(0, min(2, kh - 1))
            elif style == "same":
                o = c
                kh, d = self.pick([(1, 1), (1, 2), (3, 1), (3, 2), (5, 1)])
                kw, s, p = kh, 1, d * (kh - 1) // 2
                g = self.divisor(c)
            else:
                kh = self.randint(1, 5)
                kw = kh if self.chance(0.5) else self.randint(1, 5)
                s, p, d = self.randint(1, 3), self.randint(0, 2), self.randint(1, 2)
                g = self.divisor(math.gcd(c, o))
            ho, wo = _conv_out(h, kh, s, p, d), _conv_out(w, kw, s, p, d)
            if 1 <= ho <= MAX_HW and 1 <= wo <= MAX_HW and _reads_input(h, kh, s, p, d, ho) \
                    and _reads_input(w, kw, s, p, d, wo):
                return dict(cin=c, cout=o, kh=kh, kw=kw, stride=s, padding=p, dilation=d, groups=g,
                            bias=self.chance(0.7))
        return None

    def apply_conv(self, i, name) -> int | None:
        """Node ``conv(module name)`` on node i, or None where that module does not fit i."""
        m = self.modules[name]
        n, c, h, w = self.shape(i)
        ho = _conv_out(h, m["kh"], m["stride"], m["padding"], m["dilation"])
        wo = _conv_out(w, m["kw"], m["stride"], m["padding"], m["dilation"])
        if c != m["cin"] or not (1 <= ho <= MAX_HW and 1 <= wo <= MAX_HW):
            return None
        if not (_reads_input(h, m["kh"], m["stride"], m["padding"], m["dilation"], ho)
                and _reads_input(w, m["kw"], m["stride"], m["padding"], m["dilation"], wo)):
            return None
        return self.add("conv", (i,), (n, m["cout"], ho, wo), module=name)

    def conv(self, i, style, cout=None) -> int:
        n, c, h, w = self.shape(i)
        spec = self.conv_spec(c, h, w, style, cout)
        if spec is None:
            return i
        return self.apply_conv(i, self.module("conv", **spec))

    # the other nodes
    def act(self, i, fn=None) -> int:
        fn = fn or self.pick(ACTIVATIONS)
        attrs = dict(fn=fn)
        if fn == "leaky_relu":
            attrs["slope"] = self.pick([0.01, 0.1, 0.3])
        return self.add("act", (i,), self.shape(i), **attrs)

    def bn_fits(self, i) -> bool:
        n, _, h, w = self.shape(i)
        return n * h * w >= 4  # batch statistics over fewer values are degenerate (two: x̂ = ±1)

    def bn(self, i) -> int:
        c = self.shape(i)[1]
        name = self.module("bn", c=c, momentum=self.pick([0.1, 0.3, 0.5]))
        return self.add("bn", (i,), self.shape(i), module=name)

    def scale(self, i) -> int:
        name = self.module("scale", c=self.shape(i)[1])
        return self.add("scale", (i,), self.shape(i), module=name)

    def scalar(self, i, rsub=True) -> int:
        """x + c, c·x or (where ``rsub``) c − x; branches never get c − x, whose sum with x or with the
        same convolution of x is constant up to rounding (and then no tie of a max pool is resolved)."""
        op = self.pick(["add", "mul", "rsub"] if rsub else ["add", "mul"])
        c = self.pick([-1.5, -0.5, 0.25, 0.5, 2.0])
        return self.add("scalar", (i,), self.shape(i), op=op, c=c)

    def pool(self, i, kind=None) -> int:
        n, c, h, w = self.shape(i)
        kind = kind or ("maxpool" if self.exact_only or self.chance(0.55) else "avgpool")
        for _ in range(50):
            k = self.randint(1, 3)
            s, p = self.randint(1, 3), self.randint(0, k // 2)
            ho, wo = _pool_out(h, k, s, p), _pool_out(w, k, s, p)
            if ho >= 1 and wo >= 1:
                return self.add(kind, (i,), (n, c, ho, wo), k=k, s=s, p=p)
        return i

    def adaptive(self, i) -> int:
        n, c, h, w = self.shape(i)
        tiles = [o for o in range(2, h) if h == w and h % o == 0]
        o = self.pick(tiles) if tiles and not self.exact_only and self.chance(0.7) else 1
        return self.add("adaptive", (i,), (n, c, o, o), o=o)

    def reduce(self, i, keepdims=True, axes=None) -> int:
        shape = self.shape(i)
        if axes is None:
            axes = self.pick([(2, 3), (1,), (0,), (1, 2, 3), (3,), (2,), (0, 2, 3), (1, 3)])
        fn = self.pick(["sum", "mean", "max"])
        out = tuple(1 if a in axes else s for a, s in enumerate(shape)) if keepdims else \
            tuple(s for a, s in enumerate(shape) if a not in axes)
        return self.add("reduce", (i,), out, fn=fn, axis=tuple(axes), keepdims=keepdims)

    def binary(self, op, a, b) -> int:
        shape = np.broadcast_shapes(self.shape(a), self.shape(b))
        return self.add("binary", (a, b), shape, op=op)

    def same_op(self, i) -> int:
        """One shape-preserving node on i."""
        c = self.shape(i)[1]
        options = ["act", "scale", "scalar", "maxpool"]
        if not self.exact_only:
            options += ["conv", "conv", "avgpool"] + (["bn"] if self.bn_fits(i) else [])
            shared = [name for name, m in self.modules.items() if m["kind"] == "conv" and m["cin"] == m["cout"] == c
                      and m["stride"] == 1 and m["kh"] == m["kw"] and m["padding"] * 2 == m["dilation"] * (m["kh"] - 1)]
            if shared:
                options.append("shared")
        kind = self.pick(options)
        if kind == "act":
            return self.act(i)
        if kind == "scale":
            return self.scale(i)
        if kind == "scalar":
            return self.scalar(i, rsub=False)
        if kind in ("maxpool", "avgpool"):
            n, c, h, w = self.shape(i)
            k, p = self.pick([(3, 1), (1, 0)], [3, 1])
            return self.add(kind, (i,), (n, c, h, w), k=k, s=1, p=p)
        if kind == "bn":
            return self.bn(i)
        if kind == "shared":  # a module applied once more
            return self.apply_conv(i, self.pick(shared))
        return self.conv(i, "same")

    def chain(self, i, length) -> int:
        for _ in range(length):
            i = self.same_op(i)
        return i

    # blocks
    def block(self, i) -> int:
        kinds = ["conv", "conv_1x1", "shared_chain", "shared_branches", "pool", "adaptive", "bn", "act", "residual",
                 "branches", "scale", "scalar", "broadcast"]
        weights = [3, 3, 1, 1, 2, 0.8, 1.5, 2, 2, 1.5, 1, 1, 1.5]
        if self.exact_only:
            weights = [0, 0, 0, 0, 2, 0.8, 0, 2, 2, 1.5, 1, 1, 1.5]
        kind = self.pick(kinds, weights)
        n, c, h, w = self.shape(i)
        if kind == "conv":
            j = self.conv(i, self.pick(["fast", "any", "same"], [2, 2, 1]))
            if self.chance(0.25) and self.bn_fits(j):
                j = self.bn(j)
            return self.act(j) if self.chance(0.6) else j
        if kind == "conv_1x1":  # the case of issue 14: a 1×1 convolution right after another convolution
            j = self.conv(i, self.pick(["fast", "any", "1x1"], [3, 2, 1]))
            if self.chance(0.3):
                j = self.act(j)
            j = self.conv(j, "1x1")
            return self.conv(j, "1x1") if self.chance(0.3) else j
        if kind == "shared_chain":  # one module applied to its own output
            spec = self.conv_spec(c, h, w, self.pick(["fast", "any", "1x1", "same"]), cout=c)
            if spec is None:
                return i
            name = self.module("conv", **spec)
            j = self.apply_conv(i, name)
            if self.chance(0.6):
                j = self.act(j)
            return self.apply_conv(j, name) or j
        if kind == "shared_branches":  # one module applied to two branches, merged
            spec = self.conv_spec(c, h, w, self.pick(["fast", "any", "1x1"]))
            if spec is None:
                return i
            name = self.module("conv", **spec)
            a = self.apply_conv(i, name)
            b = self.apply_conv(self.pick([self.act, self.scale, lambda j: self.scalar(j, rsub=False)])(i), name)
            return self.binary(self.pick(["add", "mul", "sub"]), a, b)
        if kind == "pool":
            return self.pool(i)
        if kind == "adaptive":
            return self.adaptive(i)
        if kind == "bn":
            if not self.bn_fits(i):
                return self.act(i)
            j = self.bn(i)
            return self.act(j) if self.chance(0.5) else j
        if kind == "act":
            return self.act(i)
        if kind == "residual":
            j = self.chain(i, self.randint(1, 3))
            return self.binary("add", i, j) if self.chance(0.5) else self.binary("add", j, i)
        if kind == "branches":
            a, b = self.chain(i, self.randint(1, 2)), self.chain(i, self.randint(1, 2))
            return self.binary(self.pick(["add", "mul", "sub"]), a, b)
        if kind == "scale":
            return self.scale(i)
        if kind == "scalar":
            return self.scalar(i)
        # broadcast: combine x with a reduction of itself (x − max over space, x · σ(mean), x + Σ over the batch …)
        r = self.reduce(i, keepdims=True)
        if self.chance(0.4):
            r = self.act(r, self.pick(["sigmoid", "tanh", "relu"]))
        op = self.pick(["add", "sub", "mul"])
        return self.binary(op, i, r) if self.chance(0.7) else self.binary(op, r, i)

    def head(self, i, classes) -> int:
        features = int(np.prod(self.shape(i)[1:]))
        hidden, hidden2 = self.randint(1, 16), self.randint(1, 12)
        bias = self.chance(0.8)
        layouts = [
            [("linear", features, classes, bias)],
            [("linear", features, hidden, bias), ("relu",), ("linear", hidden, classes, True)],
            [("linear", features, hidden, bias), ("relu",), ("linear", hidden, hidden2, bias), ("relu",),
             ("linear", hidden2, classes, True)],
            [("linear", features, hidden, bias), ("tanh",), ("linear", hidden, classes, True)],
            [("linear", features, classes, bias), ("relu",)],
        ]
        layers = [("flatten",)] + self.pick(layouts, [1, 3, 1, 1, 0.5])
        name = self.module("head", layers=layers)
        out = [layer for layer in layers if layer[0] == "linear"][-1][2]
        return self.add("head", (i,), (self.shape(i)[0], out), module=name)


def generate(seed: int) -> Spec:
    """The network of ``seed`` (structure only; :func:`draw_data` gives it numbers)."""
    d = _Drawer(seed)
    dtype = d.pick(["float32", "float64"])
    d.exact_only = d.chance(0.15)
    n, c = d.randint(1, 4), d.randint(1, 8)
    h = d.randint(3, 10)
    w = h if d.chance(0.3) else d.randint(3, 10)
    i = d.add("input", (), (n, c, h, w))
    if not d.exact_only and d.chance(0.8):  # most networks open with a convolution
        i = d.conv(i, d.pick(["fast", "any"]))
    for _ in range(d.randint(1, 6)):
        i = d.block(i)
    if d.chance(0.2):  # a reduction that drops axes, straight into the head or the loss
        i = d.reduce(i, keepdims=False, axes=d.pick([(1,), (2,), (3,), (2, 3), (1, 2), (1, 3)]))
    if d.chance(0.75):
        loss = dict(kind="cross_entropy", reduction=d.pick(["mean", "sum"]))
        i = d.head(i, d.randint(2, 6))
    else:
        loss = dict(kind="weighted")
        if d.chance(0.5) or not d.modules:  # every network has parameters for the optimizer
            i = d.head(i, d.randint(1, 6))
    opt = d.pick([
        dict(name="sgd", lr=0.01, momentum=0.9),
        dict(name="sgd", lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.01),
        dict(name="sgd", lr=0.02, momentum=0.8, dampening=0.1, weight_decay=0.05),
        # ε = 10·lr: Adam's step is about lr·g/(|g| + ε), ≈ lr·sign(g) for a tiny ε, so a gradient that is
        # zero in exact arithmetic (a bias before batch norm) would move by ±lr on rounding noise alone;
        # with ε ≥ 10·lr the step moves at most 0.1× the gradient's rounding error
        dict(name="adam", lr=1e-3, eps=1e-2),
        dict(name="adam", lr=3e-3, eps=3e-2, betas=(0.8, 0.99), weight_decay=0.01),
        dict(name="adamw", lr=2e-3, eps=2e-2, weight_decay=0.05),
    ], [2, 1, 1, 2, 1, 1])
    second = "eval" if d.chance(0.4) else "train"
    return Spec(seed, dtype, d.nodes, d.modules, loss, opt, second)


# --------------------------------------------------------------------------- data
@dataclass
class Data:
    params: dict  # parameter name (as named_parameters gives it) → float64 array
    buffers: dict  # batch norm running statistics
    x: tuple  # the inputs of the two forward passes
    targets: tuple  # labels (cross entropy) or the fixed weights of the weighted sum, per pass
    attempt: int


def param_shapes(spec) -> dict:
    """name → (shape, kind of initial values) for every parameter, by the names both frameworks give them."""
    shapes = {}
    for name, m in spec.modules.items():
        if m["kind"] == "conv":
            fan_in = m["cin"] // m["groups"] * m["kh"] * m["kw"]
            shapes[f"{name}.weight"] = ((m["cout"], m["cin"] // m["groups"], m["kh"], m["kw"]), 1.5 / math.sqrt(fan_in))
            if m["bias"]:
                shapes[f"{name}.bias"] = ((m["cout"],), 0.3)
        elif m["kind"] == "bn":
            shapes[f"{name}.weight"] = ((m["c"],), "gamma")
            shapes[f"{name}.bias"] = ((m["c"],), 0.3)
        elif m["kind"] == "scale":
            shapes[name] = ((1, m["c"], 1, 1), "scale")
        else:
            for idx, layer in enumerate(m["layers"]):
                if layer[0] == "linear":
                    shapes[f"{name}.{idx}.weight"] = ((layer[2], layer[1]), 1.5 / math.sqrt(layer[1]))
                    if layer[3]:
                        shapes[f"{name}.{idx}.bias"] = ((layer[2],), 0.3)
    return shapes


def draw_data(spec: Spec, attempt: int = 0) -> Data:
    """Weights, running statistics, inputs and targets of ``spec`` (float64 arrays holding values
    of the spec's dtype), drawn from its seed and ``attempt``."""
    rng = np.random.default_rng([spec.seed, attempt, 14])
    params = {}
    for name, (shape, how) in param_shapes(spec).items():
        if how == "gamma":
            params[name] = rng.uniform(0.5, 1.5, shape) * rng.choice([-1.0, 1.0], shape, p=[0.2, 0.8])
        elif how == "scale":
            params[name] = 1.0 + 0.5 * rng.standard_normal(shape)
        else:
            params[name] = how * rng.standard_normal(shape)
    buffers = {}
    for name, m in spec.modules.items():
        if m["kind"] == "bn":
            buffers[f"{name}.running_mean"] = 0.5 * rng.standard_normal(m["c"])
            buffers[f"{name}.running_var"] = rng.uniform(0.5, 2.0, m["c"])
    shape = spec.nodes[0].shape
    x = tuple(rng.standard_normal(shape) for _ in range(2))
    out = spec.output_shape
    if spec.loss["kind"] == "cross_entropy":
        targets = tuple(rng.integers(0, out[1], out[0]) for _ in range(2))
    else:
        targets = tuple(rng.standard_normal(out) / math.sqrt(math.prod(out)) for _ in range(2))
    if spec.dtype == "float32":  # both frameworks then start from exactly the same numbers
        def rounded(a):
            return a.astype(np.float32).astype(np.float64)

        params = {k: rounded(v) for k, v in params.items()}
        buffers = {k: rounded(v) for k, v in buffers.items()}
        x = tuple(rounded(a) for a in x)
        if spec.loss["kind"] == "weighted":
            targets = tuple(rounded(a) for a in targets)
    return Data(params, buffers, x, targets, attempt)


# --------------------------------------------------------------------------- kinks
class TooCloseToKink(Exception):
    """A ReLU input or a max-pool/max gap too close to its kink for a comparison across implementations."""


def kink_distance(op, x, attrs):
    """(distance to the nearest kink, the scale of x) for the input x of a relu/leaky_relu node
    (op "relu"), a max pool or a max reduction; exact ties count as no kink (every implementation
    sees the same tie and breaks it by the same rule). For batch norm in training (op "bn"): the
    smallest ratio of a channel's standard deviation to its largest |value|, and 1."""
    scale = float(np.abs(x).max()) if x.size else 0.0
    if op == "bn":  # batch statistics: the smallest std of a channel relative to its largest |value|
        per_channel = np.moveaxis(x, 1, 0).reshape(x.shape[1], -1)
        top = np.abs(per_channel).max(axis=1)
        ratios = per_channel.std(axis=1)[top > 0] / top[top > 0]  # an all-zero channel normalises to exact zeros
        return (float(ratios.min()) if ratios.size else math.inf), 1.0
    if op == "relu":
        nonzero = np.abs(x[x != 0])
        return (float(nonzero.min()) if nonzero.size else math.inf), scale
    if op == "maxpool":
        k, s, p = attrs["k"], attrs["s"], attrs["p"]
        if k == 1:
            return math.inf, scale
        xpad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
        win = np.lib.stride_tricks.sliding_window_view(xpad, (k, k), axis=(2, 3))[:, :, ::s, ::s]
        values = win.reshape(*win.shape[:4], k * k)
    else:  # max over axes
        axes = attrs["axis"]
        rest = [a for a in range(x.ndim) if a not in axes]
        values = np.transpose(x, rest + list(axes)).reshape([x.shape[a] for a in rest] + [-1])
        if values.shape[-1] == 1:
            return math.inf, scale
    top2 = np.sort(values, axis=-1)[..., -2:]
    gaps = top2[..., 1] - top2[..., 0]
    gaps = gaps[gaps > 0]
    return (float(gaps.min()) if gaps.size else math.inf), scale


def kink_probe(dtype):
    """A probe for :class:`NablabNet`: raises :class:`TooCloseToKink` for a node too close to its kink."""
    margin = KINK_MARGIN[dtype]

    def probe(index, op, x, attrs):
        distance, scale = kink_distance(op, np.asarray(x, dtype=np.float64), attrs)
        if distance < margin * scale:
            raise TooCloseToKink(f"n{index} ({op}): {distance:.3g} from its kink, values up to {scale:.3g}")

    return probe


# --------------------------------------------------------------------------- scratch aliasing
def scratch_buffers() -> list:
    """This thread's nablab scratch buffers (flat arrays)."""
    from nablab import scratch

    if hasattr(scratch, "buffers"):
        return list(scratch.buffers())
    return list(scratch._state.buffers.values())


def _arrays_in(value, depth=0):
    if isinstance(value, np.ndarray):
        yield value
    elif hasattr(value, "data") and isinstance(getattr(value, "data", None), np.ndarray):  # a Tensor
        yield value.data
    elif depth < 3 and isinstance(value, (tuple, list)):
        for v in value:
            yield from _arrays_in(v, depth + 1)
    elif depth < 3 and isinstance(value, dict):
        for v in value.values():
            yield from _arrays_in(v, depth + 1)


def _aliases(array, buffers) -> bool:
    return any(np.may_share_memory(array, b) and np.shares_memory(array, b) for b in buffers)


def saved_scratch_aliases(root) -> list[str]:
    """Every array kept by the recorded graph of ``root`` (a node's saved attributes, the tensors it
    keeps as inputs, and root itself) that shares memory with a scratch buffer."""
    buffers = scratch_buffers()
    if not buffers:
        return []
    found = []
    if _aliases(root.data, buffers):
        found.append("the output itself")
    stack, seen = ([root.creator] if root.creator is not None else []), set()
    while stack:
        fn = stack.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        for name, value in vars(fn).items():
            if name == "inputs":
                continue
            if any(_aliases(a, buffers) for a in _arrays_in(value)):
                found.append(f"{type(fn).__name__}.{name}")
        for k, t in enumerate(getattr(fn, "inputs", ())):
            if _aliases(t.data, buffers):
                found.append(f"input {k} of {type(fn).__name__} (the output of {type(t.creator).__name__})")
            if t.creator is not None:
                stack.append(t.creator)
    return found


def named_scratch_aliases(arrays: dict) -> list[str]:
    buffers = scratch_buffers()
    return [name for name, a in arrays.items() if a is not None and buffers and _aliases(a, buffers)]


# --------------------------------------------------------------------------- nablab
def _scalar(t, attrs):
    """x + c, c·x or c − x, on a nablab or a torch tensor."""
    c = attrs["c"]
    return t + c if attrs["op"] == "add" else c * t if attrs["op"] == "mul" else c - t


def _binary(left, right, attrs):
    op = attrs["op"]
    return left + right if op == "add" else left - right if op == "sub" else left * right


def _nablab_net_class():
    from nablab import nn
    from nablab.nn import Parameter

    class NablabNet(nn.Module):
        """The spec as a nablab module: every conv, batch norm, scale and head a registered sub-module."""

        def __init__(self, spec: Spec, data: Data):
            super().__init__()
            dtype = spec.dtype
            object.__setattr__(self, "spec", spec)
            for name, m in spec.modules.items():
                if m["kind"] == "conv":
                    mod = nn.Conv2d(m["cin"], m["cout"], m["kh"], m["stride"], m["padding"], m["dilation"], m["groups"],
                                    m["bias"], dtype=dtype)
                    if m["kw"] != m["kh"]:  # Conv2d takes one kernel size; F.conv2d any weight
                        mod.weight = Parameter(np.zeros((m["cout"], m["cin"] // m["groups"], m["kh"], m["kw"]), dtype))
                elif m["kind"] == "bn":
                    mod = nn.BatchNorm2d(m["c"], momentum=m["momentum"], dtype=dtype)
                    mod.running_mean.data[...] = data.buffers[f"{name}.running_mean"]
                    mod.running_var.data[...] = data.buffers[f"{name}.running_var"]
                elif m["kind"] == "scale":
                    mod = Parameter(np.zeros((1, m["c"], 1, 1), dtype))
                else:
                    layers = {"flatten": nn.Flatten, "relu": nn.ReLU, "tanh": nn.Tanh}
                    mod = nn.Sequential(*[nn.Linear(*layer[1:], dtype=dtype) if layer[0] == "linear"
                                          else layers[layer[0]]() for layer in m["layers"]])
                setattr(self, name, mod)
            params = dict(self.named_parameters())
            assert set(params) == set(data.params), (sorted(params), sorted(data.params))
            for name, p in params.items():
                assert p.data.shape == data.params[name].shape, name
                p.data[...] = data.params[name]

        def forward(self, x, probe=None):
            import nablab.nn.functional as F

            values = [x]
            for index, node in enumerate(self.spec.nodes[1:], start=1):
                args = [values[j] for j in node.inputs]
                a, op = node.attrs, node.op
                if probe is not None:
                    if op == "act" and a["fn"] in ("relu", "leaky_relu"):
                        probe(index, "relu", args[0].data, a)
                    elif op == "bn" and self.training:
                        probe(index, "bn", args[0].data, a)
                    elif op == "maxpool" or (op == "reduce" and a["fn"] == "max"):
                        probe(index, "maxpool" if op == "maxpool" else "max", args[0].data, a)
                    elif op == "head":
                        self._probe_head(index, getattr(self, a["module"]), args[0].data, probe)
                if op in ("conv", "bn", "head"):
                    y = getattr(self, a["module"])(args[0])
                elif op == "scale":
                    y = args[0] * getattr(self, a["module"])
                elif op == "act":
                    fn = a["fn"]
                    y = F.leaky_relu(args[0], a["slope"]) if fn == "leaky_relu" else {
                        "relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid,
                        "improved_sigmoid": nn.ImprovedSigmoid}[fn]()(args[0])
                elif op == "maxpool":
                    y = nn.MaxPool2d(a["k"], a["s"], a["p"])(args[0])
                elif op == "avgpool":
                    y = nn.AvgPool2d(a["k"], a["s"], a["p"])(args[0])
                elif op == "adaptive":
                    y = nn.AdaptiveAvgPool2d(a["o"])(args[0])
                elif op == "scalar":
                    y = _scalar(args[0], a)
                elif op == "binary":
                    y = _binary(*args, a)
                elif op == "reduce":
                    y = getattr(args[0], a["fn"])(axis=a["axis"], keepdims=a["keepdims"])
                else:  # pragma: no cover
                    raise ValueError(op)
                assert tuple(y.shape) == node.shape, (index, node, y.shape)
                values.append(y)
            return values[-1]

        @staticmethod
        def _probe_head(index, head, x, probe):
            """The pre-activations of the head's ReLUs (fused into their Linear, so computed beside it)."""
            h = x.reshape(x.shape[0], -1).astype(np.float64)
            for layer in head:
                name = type(layer).__name__
                if name == "Linear":
                    h = h @ layer.weight.data.T.astype(np.float64)
                    if layer.bias is not None:
                        h = h + layer.bias.data
                elif name == "ReLU":
                    probe(index, "relu", h, {})
                    h = np.maximum(h, 0)
                elif name == "Tanh":
                    h = np.tanh(h)

    return NablabNet


def _bn_modules(net, spec):
    return {name: getattr(net, name) for name, m in spec.modules.items() if m["kind"] == "bn"}


def _fail(what, where, names):
    raise AssertionError(f"{where}: {what} shares memory with a scratch buffer: {', '.join(names)}")


def run_nablab(spec: Spec, data: Data, probe=None) -> dict:
    """Two training steps of the spec in nablab; every result as a float array (copied), by key.

    After each forward, every array the recorded graph keeps must be free of scratch memory; after
    each backward every gradient, after each step every parameter and optimizer state.
    """
    import nablab
    import nablab.nn.functional as F
    from nablab import optim

    net = _nablab_net_class()(spec, data)
    params = dict(net.named_parameters())
    o = dict(spec.optimizer)
    name = o.pop("name")
    opt = {"sgd": optim.SGD, "adam": optim.Adam, "adamw": optim.AdamW}[name](list(params.values()), **o)
    results = {}
    for phase in (1, 2):
        net.train(phase == 1 or spec.second == "train")
        x = nablab.tensor(data.x[phase - 1], dtype=spec.dtype, requires_grad=True)
        out = net(x, probe)
        target = data.targets[phase - 1]
        if spec.loss["kind"] == "cross_entropy":
            loss = F.cross_entropy(out, nablab.tensor(target), reduction=spec.loss["reduction"])
        else:
            loss = (out * nablab.tensor(target, dtype=spec.dtype)).sum()
        where = f"forward {phase}"
        aliases = saved_scratch_aliases(loss)
        if aliases:
            _fail("an array saved for backward", where, aliases)
        results[f"out{phase}"] = out.data.copy()
        results[f"loss{phase}"] = np.array(loss.data, copy=True)
        for bn_name, bn in _bn_modules(net, spec).items():
            results[f"running{phase}:{bn_name}.running_mean"] = bn.running_mean.data.copy()
            results[f"running{phase}:{bn_name}.running_var"] = bn.running_var.data.copy()
        opt.zero_grad()
        loss.backward()
        grads = {"x": x.grad.data if x.grad is not None else None}
        grads.update({k: p.grad.data if p.grad is not None else None for k, p in params.items()})
        aliases = named_scratch_aliases(grads)
        if aliases:
            _fail("a gradient", f"backward {phase}", aliases)
        for k, g in grads.items():
            results[f"grad{phase}:{k}"] = None if g is None else g.copy()
        opt.step()
        state = {f"{k}.{s}": v for k, p in params.items() for s, v in opt.state.get(id(p), {}).items()
                 if isinstance(v, np.ndarray)}
        aliases = named_scratch_aliases({**{k: p.data for k, p in params.items()}, **state})
        if aliases:
            _fail("a parameter or optimizer state", f"step {phase}", aliases)
        for k, p in params.items():
            results[f"param{phase}:{k}"] = p.data.copy()
    return results


# --------------------------------------------------------------------------- PyTorch
def _torch_net_class():
    import torch

    class TorchNet(torch.nn.Module):
        def __init__(self, spec: Spec, data: Data):
            super().__init__()
            self.spec = spec
            for name, m in spec.modules.items():
                if m["kind"] == "conv":
                    mod = torch.nn.Conv2d(m["cin"], m["cout"], (m["kh"], m["kw"]), m["stride"], m["padding"],
                                          m["dilation"], m["groups"], m["bias"])
                elif m["kind"] == "bn":
                    mod = torch.nn.BatchNorm2d(m["c"], momentum=m["momentum"])
                elif m["kind"] == "scale":
                    mod = torch.nn.Parameter(torch.zeros((1, m["c"], 1, 1)))
                else:
                    layers = {"flatten": torch.nn.Flatten, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}
                    mod = torch.nn.Sequential(*[torch.nn.Linear(*layer[1:]) if layer[0] == "linear"
                                                else layers[layer[0]]() for layer in m["layers"]])
                setattr(self, name, mod)
            self.to(getattr(torch, spec.dtype))
            params = dict(self.named_parameters())
            assert set(params) == set(data.params), (sorted(params), sorted(data.params))
            with torch.no_grad():
                for name, p in params.items():
                    p.copy_(torch.from_numpy(data.params[name]))
                for name, b in self.named_buffers():
                    if name in data.buffers:
                        b.copy_(torch.from_numpy(data.buffers[name]))

        def forward(self, x):
            F = torch.nn.functional
            values = [x]
            for node in self.spec.nodes[1:]:
                args = [values[j] for j in node.inputs]
                a, op = node.attrs, node.op
                if op in ("conv", "bn", "head"):
                    y = getattr(self, a["module"])(args[0])
                elif op == "scale":
                    y = args[0] * getattr(self, a["module"])
                elif op == "act":
                    t, fn = args[0], a["fn"]
                    if fn == "leaky_relu":
                        y = F.leaky_relu(t, a["slope"])
                    elif fn == "improved_sigmoid":  # nablab's F.improved_sigmoid, in its order
                        y = torch.tanh(t * (2.0 / 3.0)) * 1.7159
                    else:
                        y = {"relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[fn](t)
                elif op == "maxpool":
                    y = F.max_pool2d(args[0], a["k"], a["s"], a["p"])
                elif op == "avgpool":
                    y = F.avg_pool2d(args[0], a["k"], a["s"], a["p"])
                elif op == "adaptive":
                    y = F.adaptive_avg_pool2d(args[0], a["o"])
                elif op == "scalar":
                    y = _scalar(args[0], a)
                elif op == "binary":
                    y = _binary(*args, a)
                elif op == "reduce":
                    fn = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax}[a["fn"]]
                    y = fn(args[0], dim=a["axis"], keepdim=a["keepdims"])
                else:  # pragma: no cover
                    raise ValueError(op)
                values.append(y)
            return values[-1]

    return TorchNet


def run_torch(spec: Spec, data: Data) -> dict:
    """:func:`run_nablab` in PyTorch: the same two steps, the same keys."""
    import torch

    net = _torch_net_class()(spec, data)
    params = dict(net.named_parameters())
    o = dict(spec.optimizer)
    name = o.pop("name")
    opt = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[name](
        list(params.values()), foreach=False, **o)
    dtype = getattr(torch, spec.dtype)
    results = {}
    for phase in (1, 2):
        net.train(phase == 1 or spec.second == "train")
        x = torch.tensor(data.x[phase - 1], dtype=dtype, requires_grad=True)
        out = net(x)
        target = torch.from_numpy(data.targets[phase - 1])
        if spec.loss["kind"] == "cross_entropy":
            loss = torch.nn.functional.cross_entropy(out, target, reduction=spec.loss["reduction"])
        else:
            loss = (out * target.to(dtype)).sum()
        results[f"out{phase}"] = out.detach().numpy().copy()
        results[f"loss{phase}"] = loss.detach().numpy().copy()
        for bn_name, m in spec.modules.items():
            if m["kind"] == "bn":
                bn = getattr(net, bn_name)
                results[f"running{phase}:{bn_name}.running_mean"] = bn.running_mean.numpy().copy()
                results[f"running{phase}:{bn_name}.running_var"] = bn.running_var.numpy().copy()
        opt.zero_grad()
        loss.backward()
        results[f"grad{phase}:x"] = x.grad.numpy().copy()
        for k, p in params.items():
            results[f"grad{phase}:{k}"] = None if p.grad is None else p.grad.numpy().copy()
        opt.step()
        for k, p in params.items():
            results[f"param{phase}:{k}"] = p.detach().numpy().copy()
    return results


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["0"]:
        print(generate(int(arg)).describe())
        print()
