"""The generated project pages say what the code says: every command's options, the compatibility table,
every data file's checksums, the results files' tables and the optimizers' update rules.

Each test enumerates its facts from the code itself (not from the generator), so a new option, data
file or optimizer that the pages miss fails here."""

from __future__ import annotations

import argparse
import html
import importlib
import importlib.util
import inspect
import pathlib
import pkgutil
import re
from html.parser import HTMLParser

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


class _Tables(HTMLParser):
    """The rows of every ``<table>`` of a page, each row a list of its cells' text."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.tables = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "br" and self._cell is not None:
            self._cell.append(" ")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _tables(page_html: str) -> _Tables:
    parser = _Tables()
    parser.feed(page_html)
    return parser


def _text(page_html: str) -> str:
    """A page's text without tags, whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", page_html)).split())


def _main_content(site, page: str) -> str:
    """The article of a page (not its navigation or table of contents)."""
    text = (site / page).read_text()
    return text[text.index("<article"):text.index("</article>")]


# --- the commands -----------------------------------------------------------------------------------------

def _commands(parser: argparse.ArgumentParser, prog: str = "nablab"):
    """``(prog, parser)`` of ``nablab`` and every command and sub-command under it."""
    found = [(prog, parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _commands(sub, f"{prog} {name}")
    return found


def _typed(action: argparse.Action) -> list[str]:
    """How a user types ``action``: its option strings, or a positional argument's name."""
    return action.option_strings or [action.metavar or action.dest.upper()]


def _sections(article: str) -> dict[str, str]:
    """``{heading text: the HTML up to the next heading}`` of a page's h2/h3 sections."""
    parts = re.split(r"(<h[23][^>]*>.*?</h[23]>)", article)
    return {_text(parts[i]).rstrip("¶").strip(): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_the_commands_page_lists_every_option_of_every_command(site):
    from nablab.cli import build_parser
    from nablab.cli.synopsis import all_synopses

    article = _main_content(site, "cli/index.html")
    sections = _sections(article)
    missing = []
    for prog, parser in _commands(build_parser()):
        section = sections.get("nablab itself" if prog == "nablab" else prog)
        if section is None:
            missing.append(f"the section of {prog}")
            continue
        cells = [row[0] for row in _tables(section).rows[1:] if row]
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) or \
                    action.help == argparse.SUPPRESS:
                continue
            for typed in _typed(action):
                if not any(re.match(rf"{re.escape(typed)}(\s|,|$)", cell) for cell in cells):
                    missing.append(f"{prog} {typed}")
            setting = getattr(action, "setting", None)
            if setting is not None and not any(f"key {setting.path}" in cell for cell in cells):
                missing.append(f"{prog} {action.option_strings[0]}: its config key {setting.path}")
    assert not missing, f"the commands page lacks: {missing}"
    synopsis = _text(article)
    for line in all_synopses(build_parser()).splitlines():
        assert " ".join(line.split()) in synopsis, f"the synopsis lacks the line {line!r}"


def test_the_commands_page_gives_each_option_its_default_and_choices(site):
    from nablab.cli import build_parser

    sections = _sections(_main_content(site, "cli/index.html"))
    rows = {row[0].split()[0]: row for row in _tables(sections["nablab sweep"]).rows[1:]}
    assert rows["--workers"][1] == "1", rows["--workers"]
    sampler = rows["--sampler"][2]
    parser = dict(_commands(build_parser()))["nablab sweep"]
    choices = next(a.choices for a in parser._actions if "--sampler" in a.option_strings)
    assert all(choice in sampler for choice in choices), sampler


# --- PyTorch compatibility --------------------------------------------------------------------------------

def test_the_compatibility_page_holds_the_compat_table(site):
    from nablab import compat

    rows = _tables(_main_content(site, "compat/index.html")).rows
    expected = [[" ".join(cell.replace("`", "").split()) for cell in line.strip("|").split(" | ")]
                for line in compat.markdown().splitlines() if line.startswith("| ") and "---" not in line]
    missing = [row for row in expected if row not in rows]
    assert not missing, f"the compatibility page lacks {len(missing)} rows of compat.markdown(), e.g. {missing[:3]}"
    assert len(expected) > len(compat.NAMES)  # the names table and the differences table


# --- data sets --------------------------------------------------------------------------------------------

def _registered_files():
    import nablab.data
    from nablab.data.files import DatasetFiles

    specs = {}
    for info in pkgutil.walk_packages(nablab.data.__path__, "nablab.data."):
        for value in vars(importlib.import_module(info.name)).values():
            if isinstance(value, DatasetFiles):
                specs[id(value)] = value
    return list(specs.values())


def test_the_data_page_holds_every_registered_file_and_checksum(site):
    from nablab.data import NAMES

    article = _main_content(site, "data/index.html")
    text, cells = _text(article), {cell for row in _tables(article).rows for cell in row}
    specs = _registered_files()
    assert {"mnist", "cifar10", "kjv"} <= {spec.name for spec in specs}
    missing = []
    for spec in specs:
        for f in spec.files:
            for digest in (f.md5, f.sha256, f.content_sha256):
                if digest and digest not in text:
                    missing.append(f"{spec.name} {f.name} {digest}")
            size = f"{f.size:,} bytes" if f.size is not None else "size not recorded"
            if f"{f.name} {size}" not in cells:
                missing.append(f"{spec.name} {f.name}: {size}")
        for mirror in spec.mirrors:
            if mirror not in text:
                missing.append(f"{spec.name}: the mirror {mirror}")
    assert not missing, f"the data page lacks: {missing}"
    assert list(_sections(article))[: len(NAMES)] == list(NAMES)


# --- results ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("source, page", [("BENCHMARKS.md", "results/benchmarks/index.html"),
                                          ("experiments/RESULTS.md", "results/experiments/index.html")])
def test_the_results_pages_hold_their_files_tables(site, source, page):
    markdown = (ROOT / source).read_text()
    tables = len(re.findall(r"^\|\s*:?-{3,}", markdown, flags=re.MULTILINE))
    article = _main_content(site, page)
    shown = _tables(article).tables
    assert tables > 0 and shown == tables, f"{page} has {shown} tables, {source} {tables}"
    first_row = next(line for line in markdown.splitlines() if line.startswith("| ") and "---" not in line)
    header = [" ".join(cell.replace("`", "").split()) for cell in first_row.strip().strip("|").split(" | ")]
    assert header in _tables(article).rows


# --- API --------------------------------------------------------------------------------------------------

def _optimizers():
    import nablab.optim

    exported = [getattr(nablab.optim, name) for name in nablab.optim.__all__]
    return [obj for obj in exported if inspect.isclass(obj) and issubclass(obj, nablab.optim.Optimizer)]


def _preformatted_lines(page_html: str) -> set[str]:
    """Every line of every code block of a page, whitespace collapsed."""
    lines = set()
    for block in re.findall(r"<pre[^>]*>(.*?)</pre>", page_html, flags=re.DOTALL):
        for line in html.unescape(re.sub(r"<[^>]+>", "", block)).splitlines():
            lines.add(" ".join(line.split()))
    return lines


def test_the_api_pages_render_every_optimizer_and_its_update_rule(site):
    """Each optimizer's docstring is on the page, and each line of its update rule (the formulas of the
    ``*_update`` function of its module) is a line of a code block, as written."""
    article = _main_content(site, "api/optim/index.html")
    text, formulas = _text(article), _preformatted_lines(article)
    optimizers = _optimizers()
    assert len(optimizers) >= 11
    missing = []
    for cls in optimizers:
        first_line = " ".join(inspect.getdoc(cls).split("\n\n")[0].replace("``", "").split())[:60]
        if first_line not in text:
            missing.append(f"{cls.__name__}'s docstring ({first_line!r})")
        module = inspect.getmodule(cls)
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if fn.__module__ != module.__name__ or name.startswith("_"):
                continue
            rule = [" ".join(line.replace("``", "").split()) for line in inspect.getdoc(fn).splitlines() if "←" in line]
            missing += [f"{name}: {line!r}" for line in rule if line not in formulas]
    assert not missing, f"the optimizers page lacks: {missing}"


def test_the_api_section_has_its_pages_in_the_navigation(site):
    home = (site / "api/index.html").read_text()
    for page in ("tensor", "nn", "optim", "lr_scheduler", "data", "gradcheck", "io", "lab", "kernels"):
        assert (site / "api" / page / "index.html").is_file(), f"no API page {page}"
        assert f'href="{page}/"' in home or f'href="../api/{page}/"' in home, f"the API page {page} is not linked"
    tensor = _text(_main_content(site, "api/tensor/index.html"))
    assert "backward" in tensor and "no_grad" in tensor and "Function" in tensor


def _tool(name: str):
    """A module of ``tools/docs`` (not a package: mkdocs-gen-files runs its scripts by path)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "tools" / "docs" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_hook_turns_sphinx_roles_into_code():
    """``tools/docs/project_hooks.py`` (an MkDocs hook) drops the Sphinx roles that Markdown leaves as text."""
    hooks = _tool("project_hooks")
    given = "the rule of :func:<code>sgd_update</code>, :class:<code>~nablab.errors.DimError</code>, <code>x</code>"
    assert hooks.on_page_content(given) == "the rule of <code>sgd_update</code>, <code>DimError</code>, <code>x</code>"


def test_results_links_to_repository_files_become_code_and_missing_images_a_note(tmp_path):
    results = _tool("project_results")
    (tmp_path / "experiments" / "plots").mkdir(parents=True)
    (tmp_path / "experiments" / "plots" / "loss.png").write_bytes(b"png")
    copied = []
    markdown = ("see [the suite](../benchmarks/suite.py), [`benchmarks/`](../benchmarks/), [B](../BENCHMARKS.md#w1), "
                "[web](https://example.org), ![loss](plots/loss.png) and ![gone](plots/gone.png)")
    out = results.rewrite(markdown, "experiments/RESULTS.md", "results/experiments.md", tmp_path,
                          lambda source, target: copied.append((source, target)))
    assert "the suite (`benchmarks/suite.py`)" in out and "`benchmarks/`," in out
    assert "[B](benchmarks.md#w1)" in out and "[web](https://example.org)" in out
    assert "![loss](files/experiments/plots/loss.png)" in out
    assert copied == [("experiments/plots/loss.png", "results/files/experiments/plots/loss.png")]
    assert "gone.png" in out and "![gone]" not in out
