"""The project's pages generated from its files (run by mkdocs-gen-files at build time)."""

import pathlib

import mkdocs_gen_files

ROOT = pathlib.Path(__file__).resolve().parents[2]

for target, title in (("results/benchmarks.md", "Benchmarks"), ("results/experiments.md", "Experiments"),
                      ("cli.md", "Commands"), ("compat.md", "PyTorch compatibility"), ("data.md", "Data sets"),
                      ("api/index.md", "API")):
    with mkdocs_gen_files.open(target, "w") as page:
        page.write(f"# {title}\n\nTo be generated.\n")
with mkdocs_gen_files.open("api/SUMMARY.md", "w") as nav:
    nav.write("* [API](index.md)\n")
