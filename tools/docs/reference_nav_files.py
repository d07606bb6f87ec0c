"""An MkDocs hook that keeps the navigation files of mkdocs-literate-nav (the generated
``reference/SUMMARY.md`` and ``api/SUMMARY.md``) from being built as pages of their own.

``exclude_docs`` cannot do it: it is applied to the files of ``docs/`` before mkdocs-gen-files adds the
generated ones. So this hook excludes them from the build once literate-nav has read them (it runs after
it: literate-nav's ``on_files`` has priority -100). Enabled by ``hooks: [tools/docs/reference_nav_files.py]``.
"""

from __future__ import annotations

from mkdocs.plugins import event_priority
from mkdocs.structure.files import InclusionLevel

NAV_FILE = "SUMMARY.md"


def is_nav_file(src_uri: str) -> bool:
    """Whether a file of the docs (its path under docs/, with '/') is a literate-nav navigation file."""
    return src_uri.rpartition("/")[2] == NAV_FILE


@event_priority(-200)
def on_files(files, config):
    for file in files:
        if is_nav_file(file.src_uri):
            file.inclusion = InclusionLevel.EXCLUDED
    return files
