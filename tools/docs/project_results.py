"""The Results pages: the repository's ``BENCHMARKS.md`` and ``experiments/RESULTS.md``, read when the
site builds, with their links made to work on the site (``mkdocs build --strict`` fails on a broken one).

A link to one of the included files becomes a link to its page; a link to any other repository file
becomes a code span naming it (the site does not carry the repository's files); an image is copied
onto the site if the file is there, and dropped with a note saying so if not."""

from __future__ import annotations

import os
import pathlib
import re

#: repository file → the page it becomes
PAGES = {"BENCHMARKS.md": "results/benchmarks.md", "experiments/RESULTS.md": "results/experiments.md"}

#: ``[text](target)`` or ``![alt](target "title")``
_LINK = re.compile(r"(?P<image>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#)", re.IGNORECASE)


def _relative(page: str, target_page: str) -> str:
    return os.path.relpath(target_page, os.path.dirname(page)).replace(os.sep, "/")


def rewrite(markdown: str, source: str, page: str, root: pathlib.Path, copy_file) -> str:
    """``markdown`` (the text of repository file ``source``) with its relative links fixed for ``page``;
    ``copy_file(repository path, site path)`` puts an image onto the site."""

    def fix(match: re.Match) -> str:
        target = match["target"]
        if _EXTERNAL.match(target):
            return match[0]
        path, _, anchor = target.partition("#")
        repo_path = os.path.normpath(os.path.join(os.path.dirname(source), path)).replace(os.sep, "/")
        if match["image"]:
            if (root / repo_path).is_file():
                site_path = f"{os.path.dirname(page)}/files/{repo_path}"
                copy_file(repo_path, site_path)
                return f"![{match['text']}]({_relative(page, site_path)})"
            return f"*(figure `{repo_path}` is not on the site: the file is not in the repository)*"
        if repo_path in PAGES:
            return f"[{match['text']}]({_relative(page, PAGES[repo_path])}{'#' + anchor if anchor else ''})"
        return match["text"] if match["text"].startswith("`") else f"{match['text']} (`{repo_path}`)"

    return _LINK.sub(fix, markdown)


def page(source: str, root: pathlib.Path, copy_file) -> str:
    """The Markdown of the page of repository file ``source`` (a key of :data:`PAGES`): its text, a line under
    its title saying where it comes from, and its links fixed."""
    text = (root / source).read_text(encoding="utf-8")
    title, _, body = text.partition("\n")
    note = (f"\n\n*This page is the repository's `{source}`, read when the site was built; its numbers "
            "were measured as its sections record (machine, date, command).*\n")
    return rewrite(f"{title}{note}{body}", source, PAGES[source], root, copy_file)
