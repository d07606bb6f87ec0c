"""An MkDocs hook for the pages mkdocstrings fills from docstrings: nablab's docstrings name other objects
with Sphinx's roles (``:func:`sgd_update```), which Markdown leaves as text, so a page would read
":func: sgd_update". The hook drops the role and Sphinx's ``~`` (show the last name only) and keeps the
name as code."""

from __future__ import annotations

import re

#: a role rendered before an inline code span holding a (dotted) name, ``~`` before it when only its last part
#: is to be shown
_ROLE = re.compile(r":(?:func|meth|class|mod|data|attr|exc|obj):<code>(~?)([\w.()]+)</code>")


def drop_roles(html: str) -> str:
    """``html`` with every ``:role:<code>name</code>`` turned into ``<code>name</code>`` (``~a.b.name``: ``name``)."""
    return _ROLE.sub(lambda m: f"<code>{m[2].rpartition('.')[2] if m[1] else m[2]}</code>", html)


def on_page_content(html: str, **kwargs) -> str:
    return drop_roles(html)
