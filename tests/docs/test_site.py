"""The site builds strictly and has the pages the navigation promises."""

import re


def test_site_builds_strictly_with_its_sections(site):
    for page in ("index.html", "tutorials/index.html", "guides/adding-an-op/index.html",
                 "results/benchmarks/index.html", "results/experiments/index.html"):
        assert (site / page).is_file(), f"the site has no {page}"
    home = (site / "index.html").read_text()
    assert "nablab" in home and "search" in home.lower()


def test_no_page_links_to_a_missing_page(site):
    """Every relative link of every page resolves to a file of the site (strict mode checks the Markdown
    sources; this checks what was generated, too)."""
    missing = []
    for page in site.rglob("*.html"):
        for target in re.findall(r'href="([^"#:?]+)(?:#[^"]*)?"', page.read_text(errors="replace")):
            if target.startswith(("/", "//")):
                continue
            path = (page.parent / target).resolve()
            if not (path.is_file() or (path / "index.html").is_file()):
                missing.append(f"{page.relative_to(site)} → {target}")
    assert not missing, f"{len(missing)} broken links, e.g. {missing[:10]}"


def test_the_navigation_files_are_not_pages(site):
    """literate-nav's SUMMARY.md files make the navigation; they are not pages of their own (nor in search)."""
    for section in ("reference", "api", "tutorials"):
        assert not (site / section / "SUMMARY" / "index.html").exists(), f"{section}/SUMMARY.md was built as a page"
    assert "SUMMARY" not in (site / "search" / "search_index.json").read_text()
