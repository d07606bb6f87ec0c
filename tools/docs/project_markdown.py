"""Small Markdown helpers shared by the generated project pages: escaping text for table cells,
code spans, and tables built from rows."""

from __future__ import annotations

import inspect
import re

#: a page's style: names and checksums in code (in a ``<div class="options">`` or ``"files"``) never break
#: inside a word, where the theme would break them anywhere to fit a narrow column
NOWRAP = """\
<style>
.md-typeset .options td:first-child code, .md-typeset .files td code { white-space: nowrap; }
</style>
"""

#: characters that Markdown would read as markup in running text (backticks are kept: they make code spans)
_MARKUP = re.compile(r"([\\*_<>\[\]|])")
#: a code span, in Markdown's single backticks or reST's double ones
_CODE_SPAN = re.compile(r"(``.+?``|`[^`]+`)")


def text(value: object) -> str:
    """``value`` as Markdown text that reads as written: markup characters are escaped outside code spans,
    reST's double-backtick spans become Markdown's single ones, and newlines become spaces (so it fits in
    a table cell)."""
    parts = _CODE_SPAN.split(str(value).replace("\n", " "))
    return "".join(code(part.strip("`")) if i % 2 else _MARKUP.sub(r"\\\1", part).replace("`", r"\`")
                   for i, part in enumerate(parts))


#: a Sphinx cross-reference role, ``:func:`name``` (the name is kept, as code)
_ROLE = re.compile(r":(?:mod|func|class|meth|data|attr|exc):`~?([^`]+)`")


def prose(doc: str) -> str:
    """A docstring written for Sphinx as Markdown: its roles become code spans, its lines keep their breaks
    and indentation (so its lists and indented formulas stay what they are), the rest as :func:`text`."""
    return "\n".join(text(line) for line in _ROLE.sub(r"``\1``", doc).split("\n"))


def docstring_lines(obj) -> list[str]:
    """The lines of ``obj``'s docstring without the indentation of the code around it. Unlike
    :func:`inspect.getdoc`, which strips the lines' common indentation, this keeps a formula that is
    indented under the first line indented even when no other line sets the margin."""
    first, *rest = (obj.__doc__ or "").expandtabs().splitlines() or [""]
    source = inspect.getsourcelines(obj)[0][0]
    margin = len(source) - len(source.lstrip()) + 4  # the body of a def or class is indented by four more
    lines = [first.strip()] + [line[margin:] if line[:margin].isspace() else line.strip() for line in rest]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def docstring(obj) -> str:
    """``obj``'s docstring as Markdown, its indented lines (formulas, examples) as code blocks whether or not
    a blank line comes before them (Markdown would run an indented line right after a paragraph into it), the
    other lines as :func:`prose`."""
    parts: list[str] = []
    formula: list[str] = []
    for line in docstring_lines(obj) + [None]:  # None: the end, which closes a formula still open
        if line is not None and (line.startswith("    ") or (formula and not line.strip())):
            formula.append(line[4:].replace("``", ""))
            continue
        if formula:
            while not formula[-1].strip():
                formula.pop()
            parts += ["", "```text", *formula, "```", ""]
            formula = []
        if line is not None:
            parts.append(prose(line))
    return "\n".join(parts).strip() + "\n"


def code(value: object) -> str:
    """``value`` as an inline code span (a pipe, which would end a table cell, is written as an entity)."""
    body = str(value)
    fence = "``" if "`" in body else "`"
    if "|" in body:
        return "<code>" + body.replace("&", "&amp;").replace("<", "&lt;").replace("|", "&#124;") + "</code>"
    return f"{fence}{body}{fence}" if fence == "`" else f"{fence} {body} {fence}"


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table of already formatted cells."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"
