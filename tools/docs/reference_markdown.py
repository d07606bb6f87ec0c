"""Markdown pieces of the reference pages: docstrings as Markdown, source listings, side-by-side columns.

The docstrings are plain text: prose, Unicode math in indented blocks (which stay code blocks here),
and Sphinx-style roles (:class:`~nablab.ops.Add`, ``code``) that become links or inline code.
"""

from __future__ import annotations

import inspect
import pathlib
import posixpath
import re
import textwrap

SRC = pathlib.Path(__file__).resolve().parents[2] / "src"

_ROLE = re.compile(r":(?:mod|class|func|meth|data|attr|obj|exc|py:\w+):`(~?)([^`]+)`")
_PROSE_SPECIALS = re.compile(r"[*<\[]")
#: how each of them is written to print as itself: Markdown's backslash escape for * and [, the HTML
#: entity for < (Python-Markdown has no escape for <: ``\<`` would print the backslash too)
_PROSE_ESCAPES = {"*": "\\*", "[": "\\[", "<": "&lt;"}


def _inline(text: str, link) -> str:
    """One prose line: roles → links (``link(target)`` gives a URL or None) or inline code; ``x`` → `x`;
    *, < and [ outside code escaped so that they print as themselves (< as ``&lt;``, which also holds
    inside the pages' HTML blocks)."""
    parts = []

    def role(match):
        short, target = match.group(1), match.group(2)
        label = target.rpartition(".")[2] if short else target
        url = link(target)
        parts.append(f"[`{label}`]({url})" if url else f"`{label}`")
        return f"\0{len(parts) - 1}\0"

    text = _ROLE.sub(role, text.replace("``", "`"))
    pieces = text.split("`")
    for i in range(0, len(pieces), 2):  # the parts outside inline code
        pieces[i] = _PROSE_SPECIALS.sub(lambda m: _PROSE_ESCAPES[m.group()], pieces[i])
    text = "`".join(pieces)
    return re.sub(r"\0(\d+)\0", lambda m: parts[int(m.group(1))], text)


def docstring(obj_or_text, link=lambda target: None) -> str:
    """A docstring as Markdown (empty if there is none); its indented blocks stay code blocks."""
    text = obj_or_text if isinstance(obj_or_text, str) else inspect.getdoc(obj_or_text)
    if not text:
        return ""
    lines, out = inspect.cleandoc(text).splitlines(), []
    for line in lines:
        code = line.startswith("    ")
        if code and out and out[-1].strip() and not out[-1].startswith("    "):
            out.append("")  # Markdown wants a blank line before an indented block
        if not code:
            line = _inline(line, link)
            if line.endswith("::"):
                line = line[:-1]
        out.append(line)
    return "\n".join(out) + "\n"


def file_of(obj) -> str:
    """The file that defines a function, class or module, relative to the repository (src/nablab/…)."""
    path = pathlib.Path(inspect.getsourcefile(obj)).resolve()
    try:
        return str(path.relative_to(SRC.parent))
    except ValueError:
        return path.name


def source_of(fn) -> tuple[str, int, str]:
    """(dedented source, first line number, file) of a function."""
    lines, start = inspect.getsourcelines(fn)
    return textwrap.dedent("".join(lines)), start, file_of(fn)


def code_block(source: str, start: int | None = None, title: str | None = None) -> str:
    """A fenced Python block, its lines numbered from ``start`` (the line in the source file)."""
    options = (f' linenums="{start}"' if start else "") + (f' title="{title}"' if title else "")
    return f"```python{options}\n{source.rstrip()}\n```\n"


#: the page's own rule for the two columns: their code wraps instead of scrolling sideways, so that a long
#: line of a backward is read whole (kept in the page: the site's stylesheets are not this generator's)
COLUMN_STYLE = ("<style>.md-typeset .nablab-columns pre > code { white-space: pre-wrap; overflow-wrap: anywhere; "
                "font-size: .78em; }</style>\n")


def columns(*cells: str) -> str:
    """Cells side by side (Material's grid: they stack when the screen is too narrow for them)."""
    inner = "\n".join(f'<div markdown>\n\n{cell}\n</div>\n' for cell in cells)
    return f'<div class="grid nablab-columns" markdown>\n\n{inner}\n</div>\n'


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (cells must not hold '|' or newlines: they are replaced)."""
    def cell(text):
        return str(text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _parameter(p: inspect.Parameter) -> str:
    """``name: annotation = default`` as written in the source (annotations are strings there)."""
    text = {p.VAR_POSITIONAL: "*", p.VAR_KEYWORD: "**"}.get(p.kind, "") + p.name
    if p.annotation is not p.empty:
        text += f": {p.annotation if isinstance(p.annotation, str) else inspect.formatannotation(p.annotation)}"
    if p.default is not p.empty:
        text += f" = {p.default!r}" if p.annotation is not p.empty else f"={p.default!r}"
    return text


def signature(cls) -> str:
    """``Name(arg, key=default, …)`` of a class's constructor, one parameter a line when long."""
    try:
        values = list(inspect.signature(cls).parameters.values())
    except (TypeError, ValueError):
        return f"{cls.__name__}(...)"
    params, kinds = [], [p.kind for p in values]
    for i, p in enumerate(values):
        if p.kind is p.KEYWORD_ONLY and p.VAR_POSITIONAL not in kinds[:i] and p.KEYWORD_ONLY not in kinds[:i]:
            params.append("*")
        params.append(_parameter(p))
        if p.kind is p.POSITIONAL_ONLY and (i + 1 == len(values) or values[i + 1].kind is not p.POSITIONAL_ONLY):
            params.append("/")
    flat = f"{cls.__name__}({', '.join(params)})"
    if len(flat) <= 100:
        return flat
    return f"{cls.__name__}(\n" + "".join(f"    {p},\n" for p in params) + ")"


def relative(page_from: str, page_to: str) -> str:
    """The relative link from one generated page (a path under docs/) to another."""
    return posixpath.relpath(page_to, posixpath.dirname(page_from))
