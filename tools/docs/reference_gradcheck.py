"""The gradient checks behind the op pages, run when the site builds: every registered case of
:data:`nablab.gradcheck_cases.CASES`, on the reference ops, and again with the CPU kernels switched on
for the ops that have a kernel, against the tolerance the tests use (tests/ops/test_gradcheck_cases.py:
a max relative error below 1e-6 for every case, below 1e-8 for a smooth op)."""

from __future__ import annotations

import ast
import functools
import inspect
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np

from nablab import gradcheck_cases, kernels
from nablab.gradcheck_cases import Case

#: the tolerances of tests/ops/test_gradcheck_cases.py
TOLERANCE, SMOOTH_TOLERANCE = 1e-6, 1e-8


@dataclass
class Result:
    """One case's errors: max relative error per floating input, on the reference (and with kernels on)."""

    name: str
    case: Case
    inputs: list[str]  # the names of the checked (floating) inputs, from the case's fn
    reference: list[float]
    kernels: list[float] | None  # None where the op has no CPU kernel

    @property
    def tolerance(self) -> float:
        return SMOOTH_TOLERANCE if self.case.smooth else TOLERANCE

    @property
    def passed(self) -> bool:
        worst = max(self.reference + (self.kernels or []), default=0.0)
        return worst < self.tolerance


def _errors(task: tuple[str, bool]) -> tuple[list[float], float]:
    """The errors of one case (by name), on the reference ops or with the kernels on, and the CPU
    seconds they took."""
    name, reference = task
    cpu = time.process_time()
    with kernels.use_reference(reference):
        [(_, _, errors)] = list(gradcheck_cases.run({name: gradcheck_cases.CASES[name]}))
    return errors, time.process_time() - cpu


def workers() -> int:
    """How many processes run the checks: one a CPU where the platform can fork, else this one alone."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class Checks:
    """The checks of every case whose ``op`` is in ``ops``, started in worker processes at once (where the
    platform can fork), so that the pages can be prepared meanwhile; :meth:`collect` waits for them."""

    def __init__(self, ops: set):
        self.start = time.perf_counter()
        self.names = [name for name, case in gradcheck_cases.CASES.items() if case.op in ops]
        self.tasks = [(name, True) for name in self.names]
        self.tasks += [(name, False) for name in self.names if kernels.registered(gradcheck_cases.CASES[name].op)]
        self.pool, self.futures = None, None
        if workers() > 1:
            self.pool = ProcessPoolExecutor(workers(), mp_context=multiprocessing.get_context("fork"))
            # the slowest cases (recurrent layers) are registered last: hand them out first
            self.futures = {task: self.pool.submit(_errors, task) for task in reversed(self.tasks)}

    def collect(self) -> tuple[dict[type, list[Result]], float, float]:
        """The results by op, and the wall seconds since the start and the CPU seconds the checks took."""
        if self.pool is None:
            done = {task: _errors(task) for task in self.tasks}
        else:
            done = {task: future.result() for task, future in self.futures.items()}
            self.pool.shutdown()
        results: dict[type, list[Result]] = {}
        for name in self.names:
            case = gradcheck_cases.CASES[name]
            kernel = done.get((name, False))
            results.setdefault(case.op, []).append(Result(name, case, input_names(case), done[name, True][0],
                                                          kernel and kernel[0]))
        return results, time.perf_counter() - self.start, sum(cpu for _, cpu in done.values())


def input_names(case: Case) -> list[str]:
    """The names of the case's checked inputs: its floating inputs (the others, integer labels or indices,
    get no gradient), named as the parameters of its fn (``params[i]`` for the i-th of ``*params``)."""
    floating = [np.asarray(x).dtype.kind == "f" for x in case.make_inputs(np.random.default_rng(0))]
    try:
        params = [p for p in inspect.signature(case.fn).parameters.values()
                  if p.name not in _bound_defaults(case.fn)]
    except (TypeError, ValueError):
        params = []
    names = []
    for p in params:
        if p.kind is p.VAR_POSITIONAL:  # fn(x, *params): the rest are params[0], params[1], …
            names += [f"{p.name}[{i}]" for i in range(len(floating) - len(names))]
        elif p.kind is not p.VAR_KEYWORD:
            names.append(p.name)
    if len(names) != len(floating):
        names = [f"input {i}" for i in range(len(floating))]
    return [name for name, f in zip(names, floating) if f]


def _bound_defaults(fn) -> dict:
    """The parameters a lambda binds by default (``lambda a, name=name: …`` in a loop): name → value."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return {}
    return {n: p.default for n, p in params.items() if p.default is not inspect.Parameter.empty}


@functools.cache
def _module_tree(path: str):
    with open(path, encoding="utf-8") as file:
        source = file.read()
    return source, ast.parse(source)


def call_source(name: str, case: Case) -> str:
    """How the case calls the op: the source of its fn as the case's entry writes it (a lambda, with the
    values it binds by default, or the call that builds the function)."""
    fn = case.fn
    code = getattr(fn, "__code__", None)
    if code is None:
        return getattr(fn, "__qualname__", repr(fn))
    source, tree = _module_tree(code.co_filename)
    for node in ast.walk(tree):  # the entry "name": Case(op, fn, …) of a dict of cases
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if (isinstance(key, ast.Constant) and key.value == name and isinstance(value, ast.Call)
                        and len(value.args) > 1):
                    return " ".join(ast.get_source_segment(source, value.args[1]).split())
    params = list(code.co_varnames[: code.co_argcount])
    for node in ast.walk(tree):  # a case built in a loop: its lambda, with the values bound in this one
        if (isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno
                and [a.arg for a in node.args.args] == params):
            bound = ", ".join(f"{n}={v!r}" for n, v in _bound_defaults(fn).items())
            return " ".join(ast.get_source_segment(source, node).split()) + (f"  # with {bound}" if bound else "")
    return fn.__qualname__.replace(".<locals>", "")
