"""The documentation site, built once per test session as CI builds it: ``mkdocs build --strict``
(a warning — a broken link, a missing page, a reference that does not resolve — fails the build),
the tutorials executed at their quick budget.

The tutorials train on MNIST and CIFAR-10: where ``NABLAB_DATA`` does not point at those files (CI
sets it), the site is built without running them, and the tests of their executed pages skip.
"""

import os
import pathlib
import subprocess
import sys

import pytest
from site_data import TUTORIAL_DATA

ROOT = pathlib.Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items):
    """Under pytest-xdist (``-n``, ``--dist loadgroup``), every test of the site runs in one worker, which
    builds the site once."""
    for item in items:
        if item.path.is_relative_to(pathlib.Path(__file__).parent):
            item.add_marker(pytest.mark.xdist_group("site"))


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> pathlib.Path:
    """The built site's folder; the build's output is in ``build.log`` beside it."""
    pytest.importorskip("mkdocs", reason="the docs extra is not installed: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("docs") / "site"
    env = dict(os.environ, NABLAB_TUTORIAL_BUDGET="quick", DISABLE_MKDOCS_2_WARNING="true",
               NO_MKDOCS_2_WARNING="1", OPENBLAS_NUM_THREADS="1")  # the tutorials' small products
    if not TUTORIAL_DATA:
        env["NABLAB_DOCS_EXECUTE"] = "false"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    (out.parent / "build.log").write_text(result.stdout + result.stderr)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout[-4000:]}\n{result.stderr[-8000:]}"
    return out
