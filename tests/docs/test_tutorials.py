"""The tutorials are the course reports' assignments, executed when the site is built (at the quick
budget here and in CI): each page holds the outputs and figures of its run, and no error.

mkdocs-jupyter runs with ``allow_errors: false``, so an exception in a tutorial — including a failed
``assert`` on what it teaches — fails the build itself; these tests check what the build produced.
"""

import pathlib
import re

import pytest
from site_data import TUTORIAL_DATA

TUTORIALS = pathlib.Path(__file__).resolve().parents[2] / "docs" / "tutorials"
#: the course reports' assignments that issue 18 names, by the word their file name carries
REPORTS = ("hlcv", "vugrad", "ntnu", "uva", "cifar")


def tutorials() -> list[pathlib.Path]:
    return sorted(TUTORIALS.glob("*.py"))


def test_every_course_report_has_a_tutorial():
    names = [path.stem for path in tutorials()]
    for report in REPORTS:
        assert any(report in name for name in names), f"no tutorial for {report} in {names}"


@pytest.mark.skipif(not TUTORIAL_DATA, reason="the tutorials need MNIST and CIFAR-10: NABLAB_DATA does not point "
                                               "at them, so the site was built without running them")
@pytest.mark.parametrize("path", tutorials(), ids=lambda path: path.stem)
def test_tutorial_page_holds_its_executed_run(site, path):
    page = site / "tutorials" / path.stem / "index.html"
    assert page.is_file(), f"{path.name} has no page"
    html = page.read_text()
    assert re.search(r"<h1[^>]*>", html), f"{path.name}: no title (its first Markdown cell's '# ' heading)"
    code_cells = len(re.findall(r"^# %%\s*$", path.read_text(), flags=re.M))
    outputs = html.count('class="jp-OutputArea jp-Cell-outputArea"')
    assert code_cells and outputs, f"{path.name}: {code_cells} code cells, {outputs} with output: not executed?"
    assert "data:image/png;base64" in html, f"{path.name}: no figure"
    assert "Traceback (most recent call last)" not in html, f"{path.name}: its run shows a traceback"


def test_budget_must_be_quick_or_full():
    """Each tutorial reads its budget from NABLAB_TUTORIAL_BUDGET (quick in CI, full for the recorded figures)."""
    for path in tutorials():
        assert "NABLAB_TUTORIAL_BUDGET" in path.read_text(), f"{path.name} does not read NABLAB_TUTORIAL_BUDGET"
