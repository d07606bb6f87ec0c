"""The guide "How to add an op" (docs/guides/adding-an-op.md) stays true as the code changes: every file,
test, name and command it mentions exists, and its worked example, hypot, does what the guide says when
the guide's own code blocks run against today's nablab (patched in for each test only)."""

import builtins
import contextlib
import importlib
import importlib.util
import io
import pathlib
import re
import shlex
import sys
import textwrap
import types
import warnings

import numpy as np
import pytest

import nablab
from nablab import gradcheck_cases, kernels, math_functions, tensor_math
from nablab.cli import build_parser
from nablab.errors import ShapeError
from nablab.ops import trigonometric

ROOT = pathlib.Path(__file__).resolve().parents[2]
GUIDE = (ROOT / "docs/guides/adding-an-op.md").read_text()
#: what the guide's example adds to the code base
EXAMPLE_NAMES = {"hypot", "Hypot", "HypotSameShape", "_same_shape", "_scaled",
                 "test_hypot_kernel_equals_the_reference_bit_for_bit"}
FENCE = re.compile(r'^( *)```(\w+)(?: title="([^"]*)")?\n(.*?)^\1```$', re.M | re.S)


def _blocks() -> list[tuple[str, str, str]]:
    """(language, title, code) of every fenced block, its indentation removed."""
    return [(lang, title or "", textwrap.dedent(code)) for _, lang, title, code in FENCE.findall(GUIDE)]


def _block(title: str, index: int = 0) -> str:
    return [code for _, t, code in _blocks() if t.startswith(title)][index]


def _prose_code() -> list[str]:
    """The inline code spans outside the fenced blocks."""
    return re.findall(r"`([^`\n]+)`", FENCE.sub("", GUIDE))


def _shell_lines() -> list[str]:
    return [line.strip() for lang, _, code in _blocks() if lang == "bash" for line in code.splitlines()]


def _python_of(command_start: str, index: int = 0) -> str:
    """The program of the ``index``-th ``python -c "…"`` command whose first program line is ``command_start``."""
    programs = [m for _, _, code in _blocks() for m in re.findall(r'python -c "\n(.*?)\n"', code, re.S)]
    return [p for p in programs if p.startswith(command_start)][index]


_SOURCES = {path: path.read_text() for folder in ("src", "tests", "tools") for path in (ROOT / folder).rglob("*.py")}


# --------------------------------------------------------------------------- what the guide names exists
def _resolves(path: str) -> bool:
    if "*" in path:
        return any((ROOT / "src/nablab").glob(path)) or any(ROOT.glob(path))
    if "/" not in path:  # a bare file name (case.py): some file of that name
        return (ROOT / path).exists() or any(p.name == path for p in _SOURCES)
    return (ROOT / path).exists() or (ROOT / "src/nablab" / path).exists()


def test_every_file_the_guide_names_exists():
    folders = "src|tests|tools|docs|ops|nn|gradcheck_cases|kernels"
    pattern = re.compile(rf"^(?:{folders})/[\w./*-]*$|^[\w*-]+\.(?:py|md|yml)$")
    words = _prose_code() + [w for line in _shell_lines() for w in line.split()]
    words += [t.removesuffix(" (a new file)") for _, t, _ in _blocks() if t and not t.endswith("(a new file)")]
    named = {w.split("::")[0].rstrip(",.:;") for w in words if pattern.match(w.split("::")[0].rstrip(",.:;"))}
    assert len(named) > 20, f"the guide names only {sorted(named)}"
    missing = sorted(p for p in named if not _resolves(p))
    assert not missing, f"the guide names files that do not exist: {missing}"


def test_every_test_the_guide_names_exists():
    named = set(re.findall(r"\b(test_\w+)(?![\w.])", " ".join(_prose_code() + _shell_lines()))) - EXAMPLE_NAMES
    assert "test_every_op_has_a_gradient_check" in named
    defined = {m for path, text in _SOURCES.items() if path.is_relative_to(ROOT / "tests")
               for m in re.findall(r"^\s*def (test_\w+)\(", text, re.M)}
    assert not named - defined, f"the guide names tests that do not exist: {sorted(named - defined)}"


def _defined(name: str) -> bool:
    """Whether the sources define ``name``: a class or function, or an assignment or field of it."""
    pattern = re.compile(rf"^\s*(?:(?:def|class) {name}\b|{name}\s*(?::|=[^=]))|^\s*\"{name}\"\s*:", re.M)
    return any(pattern.search(text) for text in _SOURCES.values())


def test_every_name_the_guide_names_exists():
    """Dotted ``nablab.…`` names resolve; classes, helpers (``_as_operands``) and tables (``BINARY``) are defined
    where the guide says they are, or somewhere in the sources."""
    checked, missing = 0, []
    for code in set(_prose_code()):
        code = code.removesuffix("()")
        if code.startswith("nablab.") and re.fullmatch(r"[\w.]+", code) and code.split(".")[-1] not in EXAMPLE_NAMES:
            checked += 1
            module, *attrs = code.split(".")
            obj = importlib.import_module(module)
            for attr in attrs:
                obj = getattr(obj, attr, None) or _submodule(obj, attr)
            if obj is None:
                missing.append(code)
        elif re.fullmatch(r"_?[A-Za-z]\w*", code) and code not in EXAMPLE_NAMES and not hasattr(builtins, code) and (
                code.startswith("_") or code.isupper() or code[0].isupper() or "_" in code):
            checked += 1
            if not _defined(code):
                missing.append(code)
    assert checked > 30 and not missing, f"the guide names what the code does not define: {missing}"


def test_every_environment_variable_the_guide_sets_is_read():
    variables = set(re.findall(r"\b(NABLAB_\w+)=", GUIDE))
    assert "NABLAB_REFERENCE" in variables
    readers = "".join(_SOURCES.values()) + (ROOT / "mkdocs.yml").read_text()
    assert all(v in readers for v in variables), variables


def _submodule(package, name):
    try:
        return importlib.import_module(f"{package.__name__}.{name}")
    except (ImportError, AttributeError):
        return None


def test_the_code_blocks_fit_the_line_length_of_the_code_base():
    """Each Python block, at the indentation it has in its file, keeps ruff's 120 characters."""
    long = [line for indent, lang, _, code in FENCE.findall(GUIDE) if lang == "python"
            for line in code.splitlines() if len(line) - len(indent) > 120]
    assert not long, long


def test_the_nablab_commands_the_guide_runs_are_valid():
    commands = [shlex.split(line.split("|")[0]) for line in _shell_lines() if line.startswith("nablab ")]
    assert len(commands) >= 2
    parser = build_parser()
    for argv in commands:
        parser.parse_args(argv[1:])  # exits (SystemExit) on an unknown command or option


# --------------------------------------------------------------------------- the worked example, run
@pytest.fixture
def example(monkeypatch):
    """The guide's op, Tensor method, free function and gradient-check cases, patched into nablab."""
    namespace = dict(vars(trigonometric))
    exec(_block("src/nablab/ops/trigonometric.py"), namespace)
    monkeypatch.setattr(trigonometric, "Hypot", namespace["Hypot"], raising=False)
    method_namespace = dict(vars(tensor_math))
    exec(_block("src/nablab/tensor_math.py"), method_namespace)
    monkeypatch.setattr(nablab.Tensor, "hypot", method_namespace["hypot"], raising=False)
    function_namespace = dict(vars(math_functions))
    exec(_block("src/nablab/math_functions.py"), function_namespace)
    monkeypatch.setattr(nablab, "hypot", function_namespace["hypot"], raising=False)
    case_namespace = dict(vars(gradcheck_cases.math))
    cases = {}
    for index in range(2):
        cases |= eval("{" + _block("src/nablab/gradcheck_cases/math.py", index) + "}", case_namespace)
    source = _block("src/nablab/ops/trigonometric.py")
    return types.SimpleNamespace(op=namespace["Hypot"], cases=cases, op_source=source)


def _printed(program: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(program, {})
    return out.getvalue()


def test_the_first_check_prints_what_the_guide_says(example):
    printed = _printed(_python_of("import numpy as np, nablab"))
    claim = re.search(r"y = \[([\d., …]+)\], dL/da = \[([\d., …]+)\], dL/db = \[([\d., …]+)\]", GUIDE)
    assert claim, "the guide no longer states the first check's output"
    a, b = np.array([3.0, 5.0]), np.array([4.0, 12.0])
    y = np.hypot(a, b)
    for stated, exact in zip(claim.groups(), (y, a / y, b / y)):
        for text, value in zip(stated.split(", "), exact):
            assert f"{value:.10f}".startswith(text.rstrip("…")) or float(text) == value, (stated, exact)
    errors = [float(e) for e in re.findall(r"\d\.\d+e-\d+", printed.splitlines()[-1])]
    assert len(errors) == 2 and max(errors) < 1e-9, printed


def test_the_public_names_behave_as_the_guide_shows(example):
    *lines, last = _python_of("import nablab\nprint(nablab.hypot").splitlines()
    printed = _printed("\n".join(lines))
    assert printed.splitlines()[0] == "tensor([ 5., 13.])"
    with pytest.raises(ShapeError, match=r"the shapes \(3,\) and \(4,\) do not broadcast"):
        exec("\n".join(lines[:1] + [last]), {})
    assert nablab.hypot(nablab.tensor([3, 4]), nablab.tensor([4, 3])).dtype == np.float32  # integers: float32


@pytest.mark.parametrize("path", ["kernels", "reference"])
def test_the_gradient_check_case_passes_with_the_errors_the_guide_shows(example, path):
    name = "hypot (broadcast)"
    with kernels.use_reference(path == "reference"):
        [(_, _, errors)] = list(gradcheck_cases.run({name: example.cases[name]}))
    assert max(errors) < 1e-8
    shown = re.search(r"`hypot \(broadcast\)\s+(\S+)\s+(\S+)\s+\(< 1e-08\) ok`", GUIDE)
    assert shown and list(shown.groups()) == [f"{e:.1e}" for e in errors], (shown, errors)


def test_the_failures_the_guide_describes_happen(example):
    name = "hypot (broadcast)"
    wrong = example.op_source.replace("gy * a / y", "gy * a")  # the wrong derivative of the failure table
    namespace = dict(vars(trigonometric))
    exec(wrong, namespace)
    case = gradcheck_cases.Case(namespace["Hypot"], lambda a, b: namespace["Hypot"].apply(a, b),
                                example.cases[name].make_inputs)
    [(_, _, errors)] = list(gradcheck_cases.run({name: case}))
    assert f"`{errors[0]:.1e} ... FAIL`" in GUIDE
    no_unbroadcast = example.op_source.replace("unbroadcast(gy * b / y, b.shape)", "gy * b / y")
    assert no_unbroadcast != example.op_source
    exec(no_unbroadcast, namespace)
    case = gradcheck_cases.Case(namespace["Hypot"], lambda a, b: namespace["Hypot"].apply(a, b),
                                example.cases[name].make_inputs)
    with pytest.raises(ValueError):
        list(gradcheck_cases.run({name: case}))


def test_the_example_keeps_float32_and_gives_nan_at_the_origin_as_the_docstring_says(example):
    a = nablab.tensor(np.array([0.0, 3.0], np.float32), requires_grad=True)
    b = nablab.tensor(np.array([0.0, 4.0], np.float32), requires_grad=True)
    y = a.hypot(b)
    with np.errstate(invalid="ignore"):
        y.sum().backward()
    assert y.dtype == a.grad.dtype == b.grad.dtype == np.float32
    assert np.isnan(a.grad.numpy()[0]) and a.grad.numpy()[1] == pytest.approx(0.6)
    assert "NaN, as in PyTorch" in example.op.__doc__


@pytest.mark.torch
def test_the_example_matches_pytorch(example):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    for shape_a, shape_b in [((3, 4), (3, 4)), ((2, 1, 3), (4, 3)), ((), (3,))]:
        x, z = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
        ours = [nablab.tensor(v, dtype="float64", requires_grad=True) for v in (x, z)]
        theirs = [torch.tensor(v, requires_grad=True) for v in (x, z)]
        y, ty = nablab.hypot(*ours), torch.hypot(*theirs)
        np.testing.assert_allclose(y.numpy(), ty.detach().numpy(), rtol=1e-12)
        gy = rng.standard_normal(ty.shape)
        y.backward(gy)
        ty.backward(torch.from_numpy(gy))
        for o, t in zip(ours, theirs):
            np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-12)


@pytest.mark.torch
def test_the_parity_test_count_the_guide_states_is_the_tables():
    pytest.importorskip("torch")
    path = ROOT / "tests/torch_parity/test_math_vs_torch.py"
    spec = importlib.util.spec_from_file_location("_guide_math_parity", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    [dtypes] = [m.args[1] for m in module.test_binary_result_dtypes.pytestmark if m.args[0] == "dtype"]
    per_path = len(module.BINARY_SHAPES) * len(module.FLOATS) + len(dtypes)
    assert f"{2 * per_path} tests run: {len(module.BINARY_SHAPES)} shape pairs × {len(module.FLOATS)} dtypes and " \
           f"{len(dtypes)} input dtypes" in GUIDE


def test_the_example_kernel_equals_the_reference_and_a_case_reaches_it(example, monkeypatch):
    monkeypatch.setitem(kernels._registry, example.op, ())  # the registration is undone after the test
    module = types.ModuleType("nablab.kernels.cpu._guide_hypot")
    module.__package__ = "nablab.kernels.cpu"
    exec(compile(_block("src/nablab/kernels/cpu/hypot.py"), "<the guide's kernel>", "exec"), module.__dict__)
    kernel = module.HypotSameShape
    assert kernels.registered(example.op) == (kernel,)
    rng = np.random.default_rng(5)
    for shape, dtype in [((3, 4), np.float32), ((70000,), np.float32), ((2, 3, 5), np.float64)]:
        a, b, gy = (rng.standard_normal(shape).astype(dtype) for _ in range(3))
        results = []
        for reference in (False, True):
            with kernels.use_reference(reference):
                ta, tb = nablab.tensor(a, requires_grad=True), nablab.tensor(b, requires_grad=True)
                y = nablab.hypot(ta, tb)
                assert (type(y.creator) is kernel) != reference
                y.backward(gy)
                results.append([y.numpy(), ta.grad.numpy(), tb.grad.numpy()])
        for ours, ref in zip(*results):
            np.testing.assert_array_equal(ours, ref)
    name = "hypot (same shape)"
    with kernels.use_reference(False):
        [(_, _, errors)] = list(gradcheck_cases.run({name: example.cases[name]}))
    assert max(errors) < 1e-8


def test_the_readme_snippet_regenerates_the_compatibility_table(tmp_path, monkeypatch):
    [program] = [re.search(r"<<'EOF'\n(.*?)\nEOF", code, re.S).group(1) for lang, _, code in _blocks()
                 if lang == "bash" and "<<'EOF'" in code]
    readme = (ROOT / "README.md").read_text()
    begin, end = "<!-- BEGIN compat (nablab.compat.markdown) -->", "<!-- END compat -->"
    stale = readme.replace(begin, begin + "\n| a stale row |", 1)
    (tmp_path / "README.md").write_text(stale)
    monkeypatch.chdir(tmp_path)
    exec(program, {})
    written = (tmp_path / "README.md").read_text()
    assert written.split(begin)[1].split(end)[0] == "\n" + nablab.compat.markdown()
    assert written.split(begin)[0] == readme.split(begin)[0] and written.split(end)[1] == readme.split(end)[1]


# --------------------------------------------------------------------------- the second example: logit
def _section(title: str) -> str:
    return GUIDE.split(f"## {title}\n")[1].split("\n## ")[0]


def test_the_parameter_section_quotes_the_code_of_logit_as_it_is():
    """Each code span of "An op with a parameter" that shows code (a call, an assignment) is found verbatim
    in the sources, except the calls of nablab's public API, which run."""
    spans = [s for s in re.findall(r"`([^`\n]+)`", FENCE.sub("", _section("An op with a parameter"))) if "(" in s]
    sources = "".join(_SOURCES.values())
    public = [s for s in spans if s.startswith("nablab.")]
    stale = [s for s in spans if s not in public and s not in sources]
    assert len(spans) > 8 and not stale, f"the section quotes code the sources do not hold: {stale}"
    p = nablab.tensor([0.05, 0.5, 0.95], dtype="float64")
    for call in public:
        np.testing.assert_array_equal(eval(call, {"nablab": nablab, "p": p}).numpy(), p.logit(eps=0.2).numpy())


def test_logit_has_the_cases_and_rows_the_guide_describes():
    from nablab.ops.exponential import Logit
    assert "eps" in __import__("inspect").signature(Logit).parameters
    case = gradcheck_cases.CASES["logit (eps)"]
    inputs = case.make_inputs(np.random.default_rng(0))[0]
    assert case.smooth and (inputs < 0.2).any() and (inputs > 0.8).any()  # both sides of the clamp …
    assert np.abs(inputs - 0.2).min() >= 0.05 and np.abs(inputs - 0.8).min() >= 0.05  # … and clear of its edges
    assert gradcheck_cases.CASES["logit"].op is Logit
    parity = (ROOT / "tests/torch_parity/test_math_vs_torch.py").read_text()
    assert 'elif domain == "prob":' in parity and '"logit": "prob"' in parity


def test_a_parameter_in_float32_rounds_as_the_guide_says():
    eps = 0.21134361059882922  # the eps of the parity test of the clamp's edges
    low = np.float32(eps)
    assert 1 - low != np.float32(1 - eps) and (1 - low).dtype == np.float32
    assert (np.ones(3, np.float32) * low).dtype == np.float32  # a scalar of the input's dtype keeps float32


def test_numpy_warns_at_an_intended_infinity_and_not_at_a_masked_one():
    with pytest.warns(RuntimeWarning, match="divide by zero"):
        nablab.tensor([0.0]).log()
    a, b = nablab.tensor([0.0], requires_grad=True), nablab.tensor([0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        a.atan2(b).sum().backward()  # Atan2.backward divides by a² + b² = 0 under errstate, and puts 0 there
    assert a.grad.numpy()[0] == 0


@pytest.mark.torch
def test_pytorch_answers_differ_between_short_and_long_tensors_as_the_guide_says():
    torch = pytest.importorskip("torch")
    assert "torch.logit(x, eps=0.1)" in GUIDE and "40-element" in GUIDE
    grads = []
    for n in (1, 40):
        x = torch.full((n,), float("nan"), dtype=torch.float64, requires_grad=True)
        torch.logit(x, eps=0.1).sum().backward()
        grads.append(x.grad)
    assert torch.isnan(grads[0]).all() and (grads[1][:32] == 0).all()


def test_the_compatibility_lines_are_todays_with_one_name_added_and_one_moved():
    """Step 6's lines are two consecutive lines of compat.py with "hypot" added and "exp2" moved down, each within
    the 120 characters at its indentation in the file."""
    block = _block("src/nablab/compat.py").splitlines()
    assert len(block) == 2 and all(len(line) <= 120 - 8 for line in block)
    lines = [line.strip() for line in (ROOT / "src/nablab/compat.py").read_text().splitlines()]
    first = lines.index(block[0].replace('"hypot", ', "") + ' "exp2",')
    assert lines[first + 1] == block[1].replace('"exp2", ', "", 1)


def test_the_op_page_lists_the_names_step_7_says(monkeypatch):
    """A Tensor method that names the op and a free function made by ``_method`` both reach it, for the page's
    table; a function that reaches it only through another public function does not."""
    spec = importlib.util.spec_from_file_location("_guide_catalog", ROOT / "tools/docs/reference_catalog.py")
    catalog = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, catalog)  # its dataclasses look their module up there
    spec.loader.exec_module(catalog)
    from nablab.ops.exponential import Logit
    assert "`nablab.hypot`, made by `_method`, calls `Tensor.hypot`" in GUIDE
    assert Logit in catalog.ops_reached(nablab.Tensor.logit, nablab.Tensor)
    assert Logit in catalog.ops_reached(nablab.logit, through_methods=True)

    def calls_a_public_function(p):
        return nablab.logit(p)

    assert Logit not in catalog.ops_reached(calls_a_public_function, through_methods=True)
