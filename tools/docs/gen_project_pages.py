"""The project's pages, generated from its code and files when the site builds (run by mkdocs-gen-files):
the commands (``cli.md``), the PyTorch compatibility table (``compat.md``), the data sets (``data.md``),
the results (``results/``) and the API pages (``api/``). Each page's module is ``project_*.py`` beside
this script."""

import pathlib
import sys

import mkdocs_gen_files

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
if str(HERE) not in sys.path:  # gen-files runs this file by path: its sibling modules are not importable otherwise
    sys.path.insert(0, str(HERE))

import project_api  # noqa: E402
import project_cli  # noqa: E402
import project_compat  # noqa: E402
import project_data  # noqa: E402
import project_results  # noqa: E402


def write(target: str, markdown: str) -> None:
    """Write the page ``target`` of the site."""
    with mkdocs_gen_files.open(target, "w") as page:
        page.write(markdown)


def copy_file(repo_path: str, site_path: str) -> None:
    """Put repository file ``repo_path`` onto the site at ``site_path`` (an image a results page shows)."""
    with mkdocs_gen_files.open(site_path, "wb") as out:
        out.write((ROOT / repo_path).read_bytes())


write("cli.md", project_cli.page())
write("compat.md", project_compat.page())
write("data.md", project_data.page())
for source, target in project_results.PAGES.items():
    write(target, project_results.page(source, ROOT, copy_file))
api_pages = project_api.pages()
write("api/index.md", project_api.index(api_pages))
for api_page in api_pages:
    write(f"api/{api_page.path}", api_page.markdown())
write("api/SUMMARY.md", project_api.summary(api_pages))
