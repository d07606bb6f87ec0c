"""Differential tests on random networks nobody chose (issue 14).

Two 1×1 convolutions in a row once had wrong weight gradients (the saved column matrix was a view
of scratch memory the next convolution overwrote) and no test noticed, because none ran the
shapes and orders the bug needed. Here every seed draws a network (``random_graphs.generate``:
chains and DAGs of convolutions of every kind — 1×1 right after others, one module applied
twice —, pooling, batch norm, activations, residual and broadcasting arithmetic, reductions, a
Linear (+ ReLU) head and a loss) and trains it for two steps (forward, backward, an SGD or Adam
step, a second forward — in evaluation mode for some — backward and step), on

(a) the CPU kernels (the default), with scratch reuse on;
(b) the same with scratch reuse off (``nablab.scratch.set_budget(0)``): bit for bit the same;
(c) the reference path (``nablab.kernels.use_reference()``): bit for bit the same where the
    kernels do the reference's arithmetic (:data:`BIT_EXACT_NODES`), else within float rounding;
(d) PyTorch, with the same weights: within float rounding.

Every output, gradient (input and parameters), running statistic and parameter after each step
is compared. After every forward no array the recorded graph keeps may share memory with a
scratch buffer; after every backward no gradient, after every step no parameter or optimizer state.

Float rounding means, for an array compared against the trusted side ``ref`` (the reference path;
PyTorch), in float64 arithmetic:

    max |a − ref| ≤ REL·scale + ABS + K_ROUNDING·e

with scale = max|ref| (for a gradient at least ``GRAD_FLOOR`` × the step's largest gradient: a bias
right before batch norm has a gradient that is zero in exact arithmetic and pure rounding noise in
practice) and e the trusted side's own rounding error on that array, measured by running it in
the other dtype as well: max|ref₃₂ − ref₆₄| for a float32 network; for a float64 one that
difference × 2⁻²⁹ (the ratio of the two machine epsilons). e fits the bound to the network — tiny
for most, large where a deep stack of batch norms or a blown-up second step amplifies rounding —
and never comes from the side under test, so a kernel that is off by more than its reference's own
rounding fails. Against PyTorch, e is the larger of PyTorch's and nablab's reference path's own
errors (PyTorch sums batch-norm statistics in double on the CPU, nablab in the tensor's dtype, so
in float32 either can be the more accurate one). Data whose ReLU inputs, max-pool ties or
batch-norm channels come within ``random_graphs.KINK_MARGIN`` of a kink are drawn again, so that
no comparison hinges on which side of a kink rounding falls.

How to run:

    python -m pytest tests/kernels/test_differential.py            # the CI set (CI_SEEDS)
    python -m pytest -m differential_full tests/kernels            # thousands more (FULL_SEEDS)
    python -m pytest tests/kernels/test_differential.py -k "seed123]"   # one network (add
                                                                   # -m differential_full beyond the CI set)
    python tests/kernels/random_graphs.py 123                      # the description of seed 123

A failure prints the seed, the network's description and every mismatch.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest
import random_graphs as rg

import nablab
from nablab import kernels, scratch

CI_SEEDS = range(0, 400)
FULL_SEEDS = range(400, 6400)
DEFAULT_BUDGET = 256 * 2**20

#: node kinds whose CPU kernels must give the reference's numbers bit for bit: the same operations
#: on the same values (in-place ReLU masks, the fused Linear → ReLU, max pooling over strided views,
#: and ops with no kernel). Convolutions (GEMMs in another layout), average pooling over tiles and
#: batch norm (sums in another order) may differ by rounding.
BIT_EXACT_NODES = {"input", "act", "maxpool", "scale", "scalar", "binary", "reduce", "head", "adaptive:global"}
#: optimizers whose kernels (block-wise updates) must give the reference's numbers bit for bit
BIT_EXACT_OPTIMIZERS = {"sgd", "adam", "adamw"}

REL = {"float64": 1e-10, "float32": 1e-4}
ABS = {"float64": 1e-13, "float32": 1e-5}
GRAD_FLOOR = 1e-2
#: multiples of the trusted side's own rounding error allowed (over the 6,400 networks of CI_SEEDS and
#: FULL_SEEDS no comparison needed more than 2.1 in float32 and 0.7 in float64)
K_ROUNDING = 10
#: the other dtype, and the factor from a difference between the two runs to the rounding error in this one
OTHER = {"float32": ("float64", 1.0), "float64": ("float32", 2.0**-29)}


def _params(seeds, *marks):
    return [pytest.param(s, id=f"seed{s}", marks=marks) for s in seeds]


# --------------------------------------------------------------------------- running
@contextlib.contextmanager
def _scratch_reuse_off():
    scratch.set_budget(0)
    try:
        yield
    finally:
        scratch.set_budget(DEFAULT_BUDGET)


def _header(spec, data) -> str:
    marker = "" if spec.seed in CI_SEEDS else " -m differential_full"
    return (f"random network of seed {spec.seed} (data attempt {data.attempt if data else '-'}); reproduce with\n"
            f"  python -m pytest tests/kernels/test_differential.py{marker} -k 'seed{spec.seed}]'\n"
            f"  python tests/kernels/random_graphs.py {spec.seed}\n{spec.describe()}")


@contextlib.contextmanager
def _reported(spec, data, what):
    """Re-raise an assertion from inside a run with the seed and the network's description."""
    try:
        yield
    except AssertionError as e:
        raise AssertionError(f"{what}: {e}\n{_header(spec, data)}") from None


def fast_run(spec):
    """(data, results, kinked) of run (a): the kernels, scratch on, on the first draw of data that
    keeps clear of every kink; ``kinked`` when no draw of ``rg.MAX_ATTEMPTS`` did (then only the
    comparisons that need no margin are made)."""
    data = None
    with kernels.use_reference(False):
        for attempt in range(rg.MAX_ATTEMPTS):
            data = rg.draw_data(spec, attempt)
            try:
                with _reported(spec, data, "kernels, scratch on"):
                    return data, rg.run_nablab(spec, data, rg.kink_probe(spec.dtype)), None
            except rg.TooCloseToKink as e:
                reason = str(e)
        with _reported(spec, data, "kernels, scratch on"):
            return data, rg.run_nablab(spec, data), reason


def bit_exact(spec) -> tuple[bool, bool]:
    """Whether the kernels must match the reference bit for bit (before the first step, after it)."""
    nodes = {n.op if n.op != "adaptive" else ("adaptive:global" if n.attrs["o"] == 1 else "adaptive:tiles")
             for n in spec.nodes}
    graph = nodes <= BIT_EXACT_NODES
    return graph, graph and spec.optimizer["name"] in BIT_EXACT_OPTIMIZERS


# --------------------------------------------------------------------------- comparing
def _phase(key) -> int:
    return int(key.split(":")[0][-1])


def rounding_errors(same: dict, other: dict, dtype: str) -> dict:
    """key → the rounding error of a run in ``dtype`` (``same``), estimated from the same run in the
    other dtype (``other``); infinite where that run overflowed."""
    factor = OTHER[dtype][1]
    errors = {}
    for key, a in same.items():
        b = other.get(key)
        if a is None or b is None or not a.size:
            continue
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64)).max() * factor
        errors[key] = float(diff) if np.isfinite(diff) else np.inf
    return errors


def in_other_dtype(spec):
    return dataclasses.replace(spec, dtype=OTHER[spec.dtype][0])


def compare(ours: dict, ref: dict, dtype: str, exact=(False, False), rounding=None) -> list[str]:
    """Every mismatch between two runs' results: keys, shapes, and values — bit for bit where
    ``exact`` says so (for the results before the first step, and from it on), else within rounding
    (``rounding``: the reference's own rounding error per key, see :func:`rounding_errors`)."""
    rounding = rounding or {}
    problems = []
    if ours.keys() != ref.keys():
        problems.append(f"different results: only here {sorted(ours.keys() - ref.keys())}, "
                        f"only in the reference {sorted(ref.keys() - ours.keys())}")
    largest_grad = {}
    for key, b in ref.items():
        if key.startswith("grad") and b is not None and b.size:
            largest_grad[_phase(key)] = max(largest_grad.get(_phase(key), 0.0), float(np.abs(b).max()))
    rel, atol = REL[dtype], ABS[dtype]
    for key in sorted(ours.keys() & ref.keys()):
        a, b = ours[key], ref[key]
        if a is None or b is None:
            if (a is None) != (b is None):
                problems.append(f"{key}: {'no gradient' if a is None else 'a gradient'} here, "
                                f"{'no gradient' if b is None else 'a gradient'} in the reference")
            continue
        if a.shape != b.shape or a.dtype != b.dtype:
            problems.append(f"{key}: {a.dtype} {a.shape}, the reference {b.dtype} {b.shape}")
            continue
        step = _phase(key) if key[:5] != "param" else _phase(key) + 1  # a parameter after step 1 is phase 2's
        if exact[0 if step == 1 else 1]:
            if not np.array_equal(a, b, equal_nan=True):
                diff = np.abs(a.astype(np.float64) - b).max()
                problems.append(f"{key}: not bit for bit the same (max |diff| {diff:.3g}, max |ref| "
                                f"{np.abs(b).max():.3g})")
            continue
        scale = float(np.abs(b).max()) if b.size else 0.0
        if key.startswith("grad"):
            scale = max(scale, GRAD_FLOOR * largest_grad.get(_phase(key), 0.0))
        tol = rel * scale + atol + K_ROUNDING * rounding.get(key, 0.0)
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        same = (a64 == b64) | (np.isnan(a64) & np.isnan(b64))  # infinities and NaN where both have them
        diff = np.where(same, 0.0, np.abs(a64 - b64))
        if diff.size and not diff.max() <= tol:
            where = np.unravel_index(int(np.argmax(diff)), diff.shape)
            problems.append(f"{key}: max |diff| {diff.max():.3g} > {tol:.3g} at {where} "
                            f"({a[where]!r} vs {b[where]!r}; max |ref| {np.abs(b).max():.3g})")
    return problems


def _check(problems, what, spec, data):
    if problems:
        raise AssertionError(f"{what}:\n  " + "\n  ".join(problems) + f"\n{_header(spec, data)}")


# --------------------------------------------------------------------------- the tests
def check_kernels_reference_and_scratch(seed):
    spec = rg.generate(seed)
    data, fast, kinked = fast_run(spec)
    with _scratch_reuse_off(), kernels.use_reference(False), _reported(spec, data, "kernels, scratch off"):
        fresh = rg.run_nablab(spec, data)
    _check(compare(fresh, fast, spec.dtype, exact=(True, True)), "scratch reuse off vs on", spec, data)
    with kernels.use_reference(), _reported(spec, data, "reference path"):
        reference = rg.run_nablab(spec, data)
    exact = bit_exact(spec)
    if kinked and not all(exact):
        pytest.skip(f"seed {seed}: every draw of data comes within rounding of a kink ({kinked}); "
                    "only scratch on/off was compared")
    rounding = {}
    if not all(exact):
        with kernels.use_reference(), _reported(spec, data, "reference path in the other dtype"):
            rounding = rounding_errors(reference, rg.run_nablab(in_other_dtype(spec), data), spec.dtype)
    _check(compare(fast, reference, spec.dtype, exact, rounding), "kernels vs the reference path", spec, data)


def check_against_torch(seed):
    pytest.importorskip("torch")
    spec = rg.generate(seed)
    data, fast, kinked = fast_run(spec)
    if kinked:
        pytest.skip(f"seed {seed}: every draw of data comes within rounding of a kink ({kinked})")
    theirs = rg.run_torch(spec, data)
    # the rounding error either framework makes on its own: PyTorch accumulates batch-norm statistics
    # in double on the CPU, nablab in the tensor's dtype, so in float32 either may be the closer one
    rounding = rounding_errors(theirs, rg.run_torch(in_other_dtype(spec), data), spec.dtype)
    with kernels.use_reference(), _reported(spec, data, "reference path, in both dtypes"):
        ours = rounding_errors(rg.run_nablab(spec, data), rg.run_nablab(in_other_dtype(spec), data), spec.dtype)
    rounding = {key: max(rounding.get(key, 0.0), ours.get(key, 0.0)) for key in rounding.keys() | ours.keys()}
    _check(compare(fast, theirs, spec.dtype, rounding=rounding), "nablab (kernels) vs PyTorch", spec, data)


@pytest.mark.parametrize("seed", _params(CI_SEEDS))
def test_kernels_reference_and_scratch(seed):
    check_kernels_reference_and_scratch(seed)


@pytest.mark.torch
@pytest.mark.parametrize("seed", _params(CI_SEEDS))
def test_against_torch(seed):
    check_against_torch(seed)


def pytest_generate_tests(metafunc):
    """The large run's seeds, collected only where ``-m`` asks for it (collecting thousands of tests
    only to deselect them would cost every default run seconds)."""
    if metafunc.definition.get_closest_marker("differential_full") is None:
        return
    markexpr = metafunc.config.getoption("markexpr") or ""
    wanted = "differential_full" in markexpr.replace("not differential_full", "")
    metafunc.parametrize("seed", _params(FULL_SEEDS if wanted else FULL_SEEDS[:1]))


@pytest.mark.differential_full
def test_kernels_reference_and_scratch_full(seed):
    check_kernels_reference_and_scratch(seed)


@pytest.mark.differential_full
def test_against_torch_full(seed):
    check_against_torch(seed)


# --------------------------------------------------------------------------- the harness itself
def _coverage(seeds):
    """How many networks of ``seeds`` hold each case the generator promises."""
    counts = {}

    def count(name, hit):
        counts[name] = counts.get(name, 0) + bool(hit)

    for seed in seeds:
        spec = rg.generate(seed)
        convs = {name: m for name, m in spec.modules.items() if m["kind"] == "conv"}
        conv_nodes = [n for n in spec.nodes if n.op == "conv"]
        uses = [n.attrs["module"] for n in conv_nodes]
        ops = spec.ops()
        count("float32", spec.dtype == "float32")
        count("float64", spec.dtype == "float64")
        count("bit-exact network", bit_exact(spec)[0])
        count("conv on the stride-1 kernel's path", any(
            m["stride"] == m["dilation"] == m["groups"] == 1 and m["kh"] == m["kw"] and m["padding"] < m["kh"]
            for m in convs.values()))
        count("non-square kernel", any(m["kh"] != m["kw"] for m in convs.values()))
        count("kernel 5", any(5 in (m["kh"], m["kw"]) for m in convs.values()))
        count("stride 3", any(m["stride"] == 3 for m in convs.values()))
        count("padding 2", any(m["padding"] == 2 for m in convs.values()))
        count("dilation 2", any(m["dilation"] == 2 for m in convs.values()))
        count("groups > 1", any(m["groups"] > 1 for m in convs.values()))
        count("depthwise", any(m["groups"] == m["cin"] > 1 for m in convs.values()))
        count("conv without bias", any(not m["bias"] for m in convs.values()))
        count("1×1 conv right after a conv", any(
            convs[n.attrs["module"]]["kh"] == convs[n.attrs["module"]]["kw"] == 1
            and spec.nodes[n.inputs[0]].op == "conv" for n in conv_nodes))
        count("fast 1×1 conv right after a fast conv", any(
            convs[n.attrs["module"]]["kh"] == convs[n.attrs["module"]]["kw"] == 1
            and convs[n.attrs["module"]]["stride"] == 1 and convs[n.attrs["module"]]["groups"] == 1
            and convs[n.attrs["module"]]["padding"] == 0 and spec.nodes[n.inputs[0]].op == "conv"
            for n in conv_nodes))
        count("conv module applied twice", len(uses) != len(set(uses)))
        for kind in ("maxpool", "avgpool"):
            pools = [n for n in spec.nodes if n.op == kind]
            count(kind, pools)
            count(f"{kind} with padding", any(n.attrs["p"] for n in pools))
            count(f"{kind} with overlapping windows", any(n.attrs["s"] < n.attrs["k"] for n in pools))
        count("global average pool", "adaptive:global" in ops)
        count("adaptive average pool to tiles", "adaptive:tiles" in ops)
        count("batch norm", "bn" in ops)
        count("batch norm in eval mode after a step", "bn" in ops and spec.second == "eval")
        for fn in rg.ACTIVATIONS:
            count(fn, f"act:{fn}" in ops)
        binaries = [n for n in spec.nodes if n.op == "binary"]
        count("residual add", any(n.attrs["op"] == "add" and spec.nodes[n.inputs[0]].shape == spec.nodes[
            n.inputs[1]].shape for n in binaries))
        count("mul of two branches", any(n.attrs["op"] == "mul" and spec.nodes[n.inputs[0]].shape == spec.nodes[
            n.inputs[1]].shape for n in binaries))
        count("broadcasting binary op", any(spec.nodes[n.inputs[0]].shape != spec.nodes[n.inputs[1]].shape
                                            for n in binaries))
        count("per-channel scale", "scale" in ops)
        for op in ("add", "mul", "rsub"):
            count(f"scalar {op}", any(n.op == "scalar" and n.attrs["op"] == op for n in spec.nodes))
        reductions = [n for n in spec.nodes if n.op == "reduce"]
        for fn in ("sum", "mean", "max"):
            count(f"reduction {fn}", any(n.attrs["fn"] == fn for n in reductions))
        count("reduction without keepdims", any(not n.attrs["keepdims"] for n in reductions))
        count("reduction over the batch", any(0 in n.attrs["axis"] for n in reductions))
        heads = [m for m in spec.modules.values() if m["kind"] == "head"]
        count("fused Linear → ReLU head", any(
            any(a[0] == "linear" and b[0] == "relu" for a, b in zip(m["layers"], m["layers"][1:])) for m in heads))
        count("cross entropy", spec.loss["kind"] == "cross_entropy")
        count("weighted sum loss", spec.loss["kind"] == "weighted")
        count("weighted sum of a 4-D output", spec.loss["kind"] == "weighted" and len(spec.output_shape) == 4)
        count("SGD", spec.optimizer["name"] == "sgd")
        count("SGD Nesterov", spec.optimizer.get("nesterov"))
        count("Adam", spec.optimizer["name"] == "adam")
        count("AdamW", spec.optimizer["name"] == "adamw")
        count("DAG (a node used twice)", len([j for n in spec.nodes for j in n.inputs]) !=
              len({j for n in spec.nodes for j in n.inputs}))
        count("batch 1", spec.nodes[0].shape[0] == 1)
        count("batch 4", spec.nodes[0].shape[0] == 4)
        count("one channel", spec.nodes[0].shape[1] == 1)
    return counts


def test_the_ci_networks_cover_every_case():
    counts = _coverage(CI_SEEDS)
    rare = {name: n for name, n in counts.items() if n < 5}
    assert not rare, f"cases in fewer than 5 of the {len(CI_SEEDS)} CI networks: {rare}"


def test_the_generator_is_a_function_of_the_seed():
    for seed in (0, 17, 399):
        assert rg.generate(seed).describe() == rg.generate(seed).describe()
        a, b = rg.draw_data(rg.generate(seed), 1), rg.draw_data(rg.generate(seed), 1)
        assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
        assert all(np.array_equal(u, v) for u, v in zip(a.x, b.x))


def test_the_alias_check_finds_a_saved_scratch_view():
    class SavesScratch(nablab.function.Function):
        def __init__(self, copy=False):
            self.copy = copy

        def forward(self, x):
            tmp = scratch.scratch(np, "differential test", x.shape, x.dtype)
            tmp[...] = x * 2
            self.saved = (tmp.copy() if self.copy else tmp[:1],)
            return tmp.copy()

        def backward(self, gy):
            return (gy * 2,)

    x = nablab.tensor(np.ones((3, 2)), requires_grad=True)
    assert rg.saved_scratch_aliases(SavesScratch.apply(x).sum()) == ["SavesScratch.saved"]
    assert rg.saved_scratch_aliases(SavesScratch.apply(x, copy=True).sum()) == []
    assert rg.named_scratch_aliases({"g": scratch.scratch(np, "differential test", (2,), np.float32)}) == ["g"]


def test_compare_reports_differences_beyond_rounding():
    ref = {"out1": np.array([1.0, 2.0]), "grad1:w": np.array([0.5, 4.0]), "grad1:b": np.array([1e-17])}
    near = {"out1": ref["out1"] * (1 + 1e-12), "grad1:w": ref["grad1:w"], "grad1:b": np.array([-1e-16])}
    assert compare(near, ref, "float64") == []  # b: noise around an exact zero, below 1% of the largest gradient
    assert len(compare(near, ref, "float64", exact=(True, True))) == 2
    off = {**near, "grad1:w": np.array([0.5, 4.0 + 1e-8])}
    assert [p.split(":")[1] for p in compare(off, ref, "float64")] == ["w"]
    assert compare({**near, "grad1:w": None}, ref, "float64")[0].startswith("grad1:w: no gradient")
