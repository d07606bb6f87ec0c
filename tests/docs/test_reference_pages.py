"""The generated "Ops and layers" reference: every op of ``nablab.ops`` and every public layer of
``nablab.nn`` has its page in the built site (the classes are enumerated from the code, so a new op
or layer without a page fails here), with its source and a passing gradient check, and the links of
the reference's index lead to pages that exist."""

import html
import importlib
import importlib.util
import inspect
import pathlib
import pkgutil
import re
import textwrap

import pytest

import nablab.nn
from nablab import ops
from nablab.function import Function


def _ops_by_module():
    """(module's last name, class) for every Function subclass defined in a module of nablab.ops."""
    found = []
    for info in pkgutil.iter_modules(ops.__path__, prefix="nablab.ops."):
        module = importlib.import_module(info.name)
        found += [(info.name.rpartition(".")[2], cls) for _, cls in inspect.getmembers(module, inspect.isclass)
                  if issubclass(cls, Function) and cls.__module__ == info.name]
    return found


def _layers():
    return [cls for name in nablab.nn.__all__
            if isinstance(cls := getattr(nablab.nn, name), type) and issubclass(cls, nablab.nn.Module)
            and cls is not nablab.nn.Module]


def _text(page) -> str:
    """The page's visible text: tags dropped, entities decoded (code is split into highlighted spans)."""
    return html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))


def _main(page) -> str:
    """The text of the page's article, without the navigation (which names every page)."""
    raw = page.read_text()
    article = raw[raw.index("<article"):raw.index("</article>")]
    return html.unescape(re.sub(r"<[^>]+>", "", article))


def _source_lines(fn):
    """The non-blank lines of a function's source, stripped: how they read in the page."""
    return [line.strip() for line in textwrap.dedent(inspect.getsource(fn)).splitlines() if line.strip()]


OPS = _ops_by_module()


def test_the_ops_are_enumerated_from_the_code():
    names = {cls.__name__ for _, cls in OPS}
    assert {"BatchNormTrain", "Conv2d", "Add", "LSTMStep"} <= names
    assert len(OPS) > 100


@pytest.mark.parametrize("module, cls", OPS, ids=[cls.__name__ for _, cls in OPS])
def test_every_op_has_a_page_with_its_source_and_a_passing_gradient_check(site, module, cls):
    page = site / "reference" / "ops" / module / cls.__name__ / "index.html"
    assert page.exists(), f"no reference page for {cls.__module__}.{cls.__name__}"
    text = _main(page)
    for method in ("forward", "backward"):
        for line in _source_lines(getattr(cls, method)):
            assert line in text, f"{cls.__name__}.{method}: {line!r} not on its page"
    check = text[text.index("Gradient check"):]
    assert "✓ pass" in check, f"{cls.__name__}: no passing gradient check on its page"
    assert "✗" not in check


@pytest.mark.parametrize("cls", _layers(), ids=lambda cls: cls.__name__)
def test_every_layer_has_a_page_with_its_forward(site, cls):
    module = cls.__module__.rpartition(".")[2]
    page = site / "reference" / "layers" / module / cls.__name__ / "index.html"
    assert page.exists(), f"no reference page for nablab.nn.{cls.__name__}"
    text = _main(page)
    for line in _source_lines(cls.forward):
        assert line in text, f"{cls.__name__}.forward: {line!r} not on its page"


def test_the_batch_norm_page_shows_the_backward_beside_the_derivation(site):
    page = site / "reference" / "ops" / "normalization" / "BatchNormTrain" / "index.html"
    text = _main(page)
    assert "dL/dx = γ / (m √(σ² + ε)) · (m·dy − Σ dy − x̂ · Σ dy·x̂)" in text
    assert "gx = scale * (m * gy - per_channel(sum_dy, nd) - self.xhat * per_channel(sum_dy_xhat, nd))" in text
    assert "torch.nn.functional.batch_norm" in text
    raw = page.read_text()
    grid = raw[raw.index('class="grid nablab-columns"'):]
    grid = html.unescape(re.sub(r"<[^>]+>", "", grid[:grid.index("<h2")]))  # up to the next section
    assert "def forward(self, x, gamma, beta):" in grid and "def backward(self, gy):" in grid, \
        "forward and backward are not side by side in one two-column grid"


def test_the_links_of_the_index_resolve(site):
    index = site / "reference" / "index.html"
    raw = index.read_text()
    article = raw[raw.index("<article"):raw.index("</article>")]
    hrefs = [h for h in re.findall(r'href="([^"#]+)', article) if "://" not in h]
    assert len(hrefs) > len(OPS) + len(_layers())
    for href in hrefs:
        target = (index.parent / href).resolve()
        assert (target / "index.html").exists() or target.is_file(), f"the index links to a missing page: {href}"
    assert "passed when this page was built" in _text(index)


def _article(page) -> str:
    raw = page.read_text()
    return raw[raw.index("<article"):raw.index("</article>")]


@pytest.mark.parametrize("module, name, written", [
    ("losses_regression", "Huber", "ℓ = ½d² where |d| < δ"),
    ("rounding", "Sign", "as x < 0, x = 0, x > 0"),
])
def test_a_less_than_sign_of_a_docstring_reads_as_written(site, module, name, written):
    """A '<' in a docstring's prose is written as the HTML entity, so that it prints as itself: a
    backslash before it (Markdown's escape, which Python-Markdown does not have for '<') would show."""
    article = _article(site / "reference" / "ops" / module / name / "index.html")
    assert html.escape(written, quote=False) in article
    assert written in html.unescape(re.sub(r"<[^>]+>", "", article))


def test_no_op_page_shows_an_escaping_backslash(site):
    for module, cls in OPS:
        article = _article(site / "reference" / "ops" / module / cls.__name__ / "index.html")
        assert "\\&lt;" not in article and "\\<" not in article, f"{cls.__name__}: a '<' printed as '\\<'"


@pytest.mark.parametrize("module, name, free", [("exponential", "Logit", "logit"),
                                                ("trigonometric", "Atan2", "atan2")])
def test_an_op_page_lists_the_free_function_that_reaches_it_through_a_tensor_method(site, module, name, free):
    """``nablab.logit`` is ``Tensor.logit`` called on its first argument (``nablab.math_functions``):
    the page lists both names, each with its PyTorch counterpart."""
    text = _main(site / "reference" / "ops" / module / name / "index.html")
    callers = text[text.index("Where it is called"):]
    for ours, theirs in ((f"nablab.{free}", f"torch.{free}"), (f"nablab.Tensor.{free}", f"torch.Tensor.{free}")):
        assert re.search(rf"{re.escape(ours)}\s+{re.escape(theirs)}\b", callers), f"{ours} → {theirs} not listed"


def test_the_nav_files_hook_excludes_only_the_summary_files(tmp_path):
    """tools/docs/reference_nav_files.py (an MkDocs hook) keeps literate-nav's SUMMARY.md files out of the
    built pages and leaves every other page in."""
    files_module = pytest.importorskip("mkdocs.structure.files")
    path = pathlib.Path(__file__).resolve().parents[2] / "tools" / "docs" / "reference_nav_files.py"
    spec = importlib.util.spec_from_file_location("reference_nav_files", path)
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)

    uris = ["reference/SUMMARY.md", "api/SUMMARY.md", "SUMMARY.md", "reference/index.md", "reference/SUMMARY2.md"]
    files = files_module.Files([files_module.File(uri, src_dir=str(tmp_path), dest_dir=str(tmp_path / "site"),
                                                  use_directory_urls=True) for uri in uris])
    hook.on_files(files, config=None)
    excluded = {f.src_uri for f in files if f.inclusion is files_module.InclusionLevel.EXCLUDED}
    assert excluded == {"reference/SUMMARY.md", "api/SUMMARY.md", "SUMMARY.md"}
