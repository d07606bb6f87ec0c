"""The "Ops and layers" reference, generated from the code at build time (run by mkdocs-gen-files).

One page per op (every ``Function`` subclass of ``nablab.ops``: its math, forward and backward side
by side, its gradient checks run now, who calls it and the PyTorch counterparts), one per public
layer of ``nablab.nn``, an index page per module, the reference's index and its navigation
(``reference/SUMMARY.md``). The pieces are in the ``reference_*`` modules beside this script.
"""

import pathlib
import sys
import time

import mkdocs_gen_files

HERE = str(pathlib.Path(__file__).parent)
if HERE not in sys.path:  # gen-files runs this file without its folder on the path (and again at each serve rebuild)
    sys.path.insert(0, HERE)

import reference_catalog  # noqa: E402
import reference_gradcheck  # noqa: E402
import reference_pages as pages  # noqa: E402


def write(path: str, text: str) -> None:
    with mkdocs_gen_files.open(path, "w") as file:
        file.write(text)


def main() -> None:
    start = time.perf_counter()
    checked = set(reference_catalog.all_ops()) | {k.cls for k in reference_catalog.fused_kernels()}
    checks = reference_gradcheck.Checks(checked)  # they run while the catalog is built
    catalog = reference_catalog.build()
    links = pages.Links(catalog)
    results, check_seconds, check_cpu = checks.collect()
    for module, group in catalog.ops.items():
        write(pages.op_index(module), pages.render_op_module(module, catalog, results, links))
        for op in group:
            write(pages.op_page(op), pages.render_op(op, catalog, links, results))
    for module, group in catalog.layers.items():
        write(pages.layer_index(module), pages.render_layer_module(module, catalog, links))
        for layer in group:
            write(pages.layer_page(layer), pages.render_layer(layer, links))
    write(f"{pages.ROOT}/SUMMARY.md", pages.render_summary(catalog))
    write(f"{pages.ROOT}/index.md", pages.render_index(catalog, results, check_seconds, check_cpu,
                                                            time.perf_counter() - start))
    print(f"reference: {len(catalog.all_ops())} op pages, {len(catalog.all_layers())} layer pages, gradient checks "
          f"{check_seconds:.1f} s ({check_cpu:.1f} s of CPU), all {time.perf_counter() - start:.1f} s", file=sys.stderr)


main()
