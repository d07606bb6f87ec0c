"""The project's pages generated from its files (run by mkdocs-gen-files at build time)."""

import pathlib

import mkdocs_gen_files

ROOT = pathlib.Path(__file__).resolve().parents[2]

for source, target, title in (("BENCHMARKS.md", "results/benchmarks.md", "Benchmarks"),
                              ("experiments/RESULTS.md", "results/experiments.md", "Experiments")):
    with mkdocs_gen_files.open(target, "w") as page:
        page.write(f"# {title}\n\nSee `{source}` in the repository.\n")
