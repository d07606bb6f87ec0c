"""The text of each reference page: an op page, a layer page, the index page of each module, the
reference's index and its navigation (``reference/SUMMARY.md``, read by mkdocs-literate-nav)."""

from __future__ import annotations

import inspect
import textwrap

import reference_markdown as md
from reference_catalog import Catalog, Layer, Op, torch_has, torch_link, torch_name
from reference_gradcheck import Result, call_source, workers

from nablab import kernels

ROOT = "reference"
#: front matter that gives a page the width of the table of contents (wide code and tables need it)
HIDE_TOC = "---\nhide:\n  - toc\n---\n"
#: the most public names an op page lists before folding the rest away
SHOWN_CALLERS = 12
#: example values of the constructor arguments that have no default, for the example construction of a
#: layer on its page (a layer whose required arguments are not all here shows no example)
EXAMPLE_ARGUMENTS = {
    "in_features": 4, "out_features": 3, "in_channels": 3, "out_channels": 4, "kernel_size": 3,
    "num_features": 3, "num_groups": 2, "num_channels": 4, "normalized_shape": 8, "embed_dim": 8,
    "num_heads": 2, "d_model": 8, "nhead": 2, "input_size": 4, "hidden_size": 3, "num_embeddings": 10,
    "embedding_dim": 4, "max_len": 16, "padding": 1, "value": 0.0, "output_size": 2, "threshold": 0.1,
    "dim": 1, "unflattened_size": (2, 3),
}


def humanize(module: str) -> str:
    """A module's name as a title: losses_nll → Losses nll."""
    return module.replace("_", " ").capitalize()


def op_page(op: Op) -> str:
    return f"{ROOT}/ops/{op.module}/{op.name}.md"


def layer_page(layer: Layer) -> str:
    return f"{ROOT}/layers/{layer.module}/{layer.name}.md"


def op_index(module: str) -> str:
    return f"{ROOT}/ops/{module}/index.md"


def layer_index(module: str) -> str:
    return f"{ROOT}/layers/{module}/index.md"


class Links:
    """Where each op, layer and ops module has its page, for links from any page to any other."""

    def __init__(self, catalog: Catalog):
        self.pages = {}
        for op in catalog.all_ops():
            self.pages[op.cls] = op_page(op)
            for name in (f"nablab.ops.{op.module}.{op.name}", f"nablab.ops.{op.name}", op.name):
                self.pages.setdefault(name, op_page(op))
        for module in catalog.ops:
            self.pages[f"nablab.ops.{module}"] = op_index(module)
        for layer in catalog.all_layers():
            self.pages[layer.cls] = layer_page(layer)
            for name in (f"nablab.nn.{layer.name}", f"{layer.cls.__module__}.{layer.name}"):
                self.pages.setdefault(name, layer_page(layer))

    def resolver(self, page: str):
        """``target → relative URL or None`` as seen from ``page``, for the docstrings' roles."""
        return lambda target: self.url(page, target)

    def url(self, page: str, target) -> str | None:
        to = self.pages.get(target)
        return md.relative(page, to) if to else None


def _collapsed(title: str, body: str, kind: str = "example", open_: bool = False) -> str:
    """A Material details block (pymdownx.details): ``???`` folded, ``???+`` open."""
    return f'{"???+" if open_ else "???"} {kind} "{title}"\n\n{textwrap.indent(body, "    ")}\n'


def _counterparts(public: str) -> str:
    qualified = torch_name(public)
    return torch_link(qualified) if torch_has(qualified) else "— (not in PyTorch)"


def _errors(names: list[str], errors: list[float] | None) -> str:
    if errors is None:
        return "—"
    return ", ".join(f"{n}: {e:.1e}" for n, e in zip(names, errors)) or "no floating input"


def gradcheck_table(results: list[Result]) -> str:
    """One row a case; the column of the kernel path only where the op has a CPU kernel."""
    kernel_column = any(r.kernels is not None for r in results)
    header = ["case", "call", "max relative error per input" + (" (reference)" if kernel_column else "")]
    header += ["with the CPU kernels"] if kernel_column else []
    rows = []
    for r in results:
        row = [r.name, f"`{call_source(r.name, r.case)}`", _errors(r.inputs, r.reference)]
        row += [_errors(r.inputs, r.kernels)] if kernel_column else []
        row += [f"{r.tolerance:.0e}" + ("" if r.case.smooth else " (kinks)"), "✓ pass" if r.passed else "✗ **fail**"]
        rows.append(row)
    return md.table(header + ["tolerance", "result"], rows)


def _case_helpers(results: list[Result]) -> list:
    """The cases' fns that are named functions, or the functions that build them (``_layer(LSTM, …)``)."""
    found = []
    for r in results:
        fn = r.case.fn
        if getattr(fn, "__name__", "<lambda>") == "<lambda>":
            continue
        builder = inspect.getmodule(fn).__dict__.get(fn.__qualname__.split(".")[0])
        if inspect.isfunction(builder) and builder not in found:
            found.append(builder)
    return found


def _methods_side_by_side(cls) -> str:
    """forward and backward of ``cls`` (as its class defines or inherits them) in two columns."""
    cells = []
    for name in ("forward", "backward"):
        fn = getattr(cls, name)
        owner = fn.__qualname__.split(".")[0]
        note = "" if owner == cls.__name__ else f", inherited from `{owner}`"
        cells.append(_listing(fn, name, note))
    return md.columns(*cells)


def _listing(fn, name: str, note: str = "") -> str:
    """A method's source under its name and where it is (file and lines), for one column."""
    source, start, where = md.source_of(fn)
    end = start + source.rstrip().count("\n")
    return f"**{name}**{note} · `{where}`, lines {start}–{end}\n\n" + md.code_block(source)


def _helpers(cls) -> list:
    """The module-level functions of the op's own module that its forward or backward calls."""
    from reference_catalog import referenced

    module = inspect.getmodule(cls)
    found = []
    for name in ("forward", "backward", "__init__"):
        for obj in referenced(getattr(cls, name)):
            if inspect.isfunction(obj) and obj.__module__ == module.__name__ and obj not in found:
                found.append(obj)
    return found


def _kernels_section(cls, page: str, links: Links) -> str:
    pairs = kernels._registry.get(cls, ())
    if not pairs:
        return ""
    out = ["## CPU kernels\n",
           f"On NumPy arrays, {len(pairs)} faster kernel{'s' if len(pairs) > 1 else ''} from `nablab.kernels.cpu` "
           "may run instead of the code above, for the calls they take (the first whose condition holds). Each "
           "computes the same function; `nablab.kernels.use_reference()` turns them off. The gradient check above "
           "runs both.\n"]
    for when, kernel in pairs:
        out.append(f"### `{kernel.__name__}`\n")
        out.append(f"`{kernel.__module__}.{kernel.__name__}`\n")
        out.append(md.docstring(kernel, links.resolver(page)))
        source, start, where = md.source_of(when)
        out.append(f"It takes the calls for which this holds (`{where}`):\n")
        out.append(md.code_block(source, start))
        own = [n for n in ("forward", "backward") if n in vars(kernel)]
        if own:
            cells = [_listing(getattr(kernel, name), name) for name in own]
            out.append(_collapsed(f"{kernel.__name__}: {' and '.join(own)}", md.columns(*cells)))
        module_doc = md.docstring(inspect.getmodule(kernel), links.resolver(page))
        if module_doc:
            out.append(_collapsed(f"The kernel module, {kernel.__module__}", module_doc, kind="abstract"))
    return "\n".join(out)


def render_op(op: Op, catalog: Catalog, links: Links, all_results: dict) -> str:
    page, cls, results = op_page(op), op.cls, all_results.get(op.cls, [])
    link = links.resolver(page)
    where = md.file_of(cls)
    module = inspect.getmodule(cls)
    out = [HIDE_TOC, md.COLUMN_STYLE, f"# {op.name}\n",
           f"`{cls.__module__}.{op.name}`, an op of [{humanize(op.module)}](index.md) (`{where}`).\n"]
    out.append("## The math\n")
    out.append(md.docstring(cls, link) or "The class has no docstring of its own; the module's follows.\n")
    module_doc = md.docstring(module, link)
    if module_doc:
        out.append(_collapsed(f"The module's derivation ({module.__name__})", module_doc, kind="abstract",
                              open_=True))
    out.append("Its parameters, the keyword arguments of `apply`, go to its constructor:\n")
    out.append(md.code_block(md.signature(cls)))
    out.append("## Forward and backward\n")
    out.append("`forward` computes the output from the input arrays and keeps what `backward` needs; "
               "`backward` turns dL/dy into one gradient per input.\n")
    out.append(_methods_side_by_side(cls))
    for helper in _helpers(cls):
        source, start, _ = md.source_of(helper)
        out.append(_collapsed(f"{helper.__name__}, a helper of this module", md.code_block(source, start)))
    out.append("## Gradient check\n")
    if results:
        passed = sum(r.passed for r in results)
        out.append(f"Computed when this page was built, {passed} of the {len(results)} registered case"
                   f"{'s' if len(results) > 1 else ''} of `nablab.gradcheck_cases` that run this op passed. "
                   "Each compares `backward` with central differences in float64 (`nablab.gradcheck.check`); "
                   "the tolerance is the tests' (1e-8 for smooth ops, 1e-6 where the op has kinks).\n")
        out.append(gradcheck_table(results))
        for helper in _case_helpers(results):
            source, start, where = md.source_of(helper)
            out.append(_collapsed(f"{helper.__name__}, in {where}",
                                  md.code_block(source, start)))
    else:
        out.append("No registered gradient-check case runs this op.\n")
    out.append("## Where it is called, and the PyTorch counterparts\n")
    out.append(_callers_table(op, page, links))
    out.append(_kernels_section(cls, page, links))
    out.append(_fused_section(cls, catalog, page, links, all_results))
    return "\n".join(out)


def _fused_section(cls, catalog: Catalog, page: str, links: Links, results: dict) -> str:
    """The kernels that replace a function running this op (with others) by one node of their own."""
    mine = [k for k in catalog.fused if cls in k.ops]
    if not mine:
        return ""
    out = ["## Fused CPU kernels\n",
           "Some functions that run this op may, on NumPy arrays, do their whole work as one graph node of their "
           "own (fewer arrays, the same numbers):\n"]
    for k in mine:
        function = k.name
        others = ", ".join(f"[`{o.__name__}`]({links.url(page, o)})" for o in k.ops if o is not cls)
        out.append(f"### `{k.cls.__name__}`, for `{function}`\n")
        out.append(f"`{function}` runs this op" + (f" (with {others})" if others else "") + ". For the calls "
                   f"it hands to `nablab.kernels.select` that the condition below accepts, "
                   f"`{k.cls.__module__}.{k.cls.__name__}` does its work as one node instead.\n")
        out.append(md.docstring(k.cls, links.resolver(page)))
        source, start, where = md.source_of(k.when)
        out.append(f"The condition (`{where}`):\n")
        out.append(md.code_block(source, start))
        own = [n for n in ("forward", "backward") if n in vars(k.cls)]
        if own:
            out.append(_collapsed(f"{k.cls.__name__}: {' and '.join(own)}",
                                  md.columns(*[_listing(getattr(k.cls, n), n) for n in own])))
        if results.get(k.cls):
            out.append(_collapsed(f"{k.cls.__name__}: its gradient checks", gradcheck_table(results[k.cls]),
                                  kind="success", open_=True))
    return "\n".join(out)


def _callers_table(op: Op, page: str, links: Links) -> str:
    if not op.callers:
        return "No public name calls this op directly.\n"
    rows = []
    for public in op.callers:
        url = links.url(page, f"nablab.nn.{public.rpartition('.')[2]}") if public.startswith(
            "nablab.nn.") and not public.startswith("nablab.nn.functional.") else None
        name = f"[`{public}`]({url})" if url else f"`{public}`"
        rows.append([name, _counterparts(public)])
    text = ("The public names whose code calls this op (read from their source: directly, through a private "
            "helper, for a free function such as `nablab.exp` through the Tensor methods it calls, or for a layer "
            "through the functions its forward calls), each with the same name in PyTorch:\n\n")
    shown = md.table(["nablab", "PyTorch"], rows[:SHOWN_CALLERS])
    if len(rows) <= SHOWN_CALLERS:
        return text + shown
    return text + shown + "\n" + _collapsed(f"all {len(rows)} public names", md.table(["nablab", "PyTorch"], rows),
                                            kind="info")


def render_layer(layer: Layer, links: Links) -> str:
    page, cls = layer_page(layer), layer.cls
    link = links.resolver(page)
    where = md.file_of(cls)
    qualified = f"torch.nn.{layer.name}"
    torch = torch_link(qualified) if torch_has(qualified) else "none (not in PyTorch)"
    out = [HIDE_TOC, f"# {layer.name}\n",
           f"`nablab.nn.{layer.name}`, a layer of [{layer.module}](index.md) (`{where}`). "
           f"PyTorch: {torch}.\n"]
    out.append(md.docstring(cls, link) or "")
    out.append("## Constructor\n")
    out.append(md.code_block(md.signature(cls)))
    out.append(_example(cls))
    out.append("## forward\n")
    source, start, fwhere = md.source_of(cls.forward)
    owner = cls.forward.__qualname__.split(".")[0]
    note = "" if owner == layer.name else f", inherited from `{owner}`"
    out.append(f"`{fwhere}`{note}:\n")
    out.append(md.code_block(source, start))
    out.append("## The ops it uses\n")
    if layer.ops:
        links = ", ".join(f"[`{o.__name__}`]({links.url(page, o)})" for o in layer.ops)
        out.append(f"Read from the code of `forward` and the functions it calls: {links}.\n")
    else:
        out.append("Its forward names no op itself (it calls other layers, or Python operators on tensors).\n")
    return "\n".join(out)


def _example(cls) -> str:
    """The parameters and buffers (and sublayers) of a small example construction, where one can be built."""
    params = inspect.signature(cls).parameters.values()
    required = [p.name for p in params if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if any(name not in EXAMPLE_ARGUMENTS for name in required):
        return ""
    arguments = {name: EXAMPLE_ARGUMENTS[name] for name in required}
    try:
        module = cls(**arguments)
    except Exception:  # noqa: BLE001 - a layer the example values do not fit shows no example
        return ""
    call = f"{cls.__name__}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
    rows = [[f"`{n}`", "parameter", str(tuple(p.shape)), str(p.dtype)] for n, p in module.named_parameters()]
    rows += [[f"`{n}`", "buffer", "—" if b is None else str(tuple(b.shape)), "—" if b is None else str(b.dtype)]
             for n, b in module.named_buffers()]
    children = [f"`{n}`: {type(m).__name__}" for n, m in module.named_children()]
    text = f"For `{call}`, built when this page was:\n\n"
    text += md.table(["name", "kind", "shape", "dtype"], rows) if rows else "no parameters and no buffers.\n"
    if children:
        text += f"\nIts sublayers: {', '.join(children)}.\n"
    return text


def render_op_module(module: str, catalog: Catalog, results: dict, links: Links) -> str:
    page = op_index(module)
    mod = catalog.op_modules[module]
    out = [f"# {humanize(module)}\n", f"`{mod.__name__}`: {len(catalog.ops[module])} ops.\n",
           md.docstring(mod, links.resolver(page)), "## Its ops\n"]
    rows = [[f"[`{op.name}`]({op.name}.md)", _summary(op.cls, page, links), _check_cell(results, op)]
            for op in catalog.ops[module]]
    out.append(md.table(["op", "docstring (first paragraph)", "gradient check"], rows))
    return "\n".join(out)


def render_layer_module(module: str, catalog: Catalog, links: Links) -> str:
    mod = catalog.layer_modules[module]
    out = [f"# {module}\n", f"`{mod.__name__}`: {len(catalog.layers[module])} public layers.\n",
           md.docstring(mod, links.resolver(layer_index(module))), "## Its layers\n"]
    rows = [[f"[`{layer.name}`]({layer.name}.md)", _summary(layer.cls, layer_index(module), links)]
            for layer in catalog.layers[module]]
    out.append(md.table(["layer", "docstring (first paragraph)"], rows))
    return "\n".join(out)


def _summary(cls, page: str, links: Links) -> str:
    """The first paragraph of a class's docstring, on one line, for a table cell."""
    first = (inspect.getdoc(cls) or "").split("\n\n")[0]
    if first.startswith("    "):  # the docstring opens with a formula: keep it as code
        return f"`{' '.join(first.split())}`"
    return " ".join(md.docstring(first, links.resolver(page)).split()) or "—"


def _check_cell(results: dict, op: Op) -> str:
    mine = results.get(op.cls, [])
    if not mine:
        return "no case"
    passed = sum(r.passed for r in mine)
    return f"{'✓' if passed == len(mine) else '✗'} {passed}/{len(mine)}"


_FILTER = """
<input class="nablab-filter" type="search" placeholder="Filter the table below (a name, a module, a PyTorch name)"
       oninput="for (const row of this.closest('.nablab-filtered').querySelectorAll('tbody tr'))
                  row.hidden = !row.textContent.toLowerCase().includes(this.value.toLowerCase())"
       style="width:100%;padding:.4em .6em;margin:.5em 0;border:1px solid var(--md-default-fg-color--lighter)">
"""


def _filtered(table: str) -> str:
    """A table with a filter box above it (plain inline JavaScript: it needs nothing from a CDN)."""
    return ('<div class="nablab-filtered" markdown>\n\n' + _FILTER.strip().replace("\n", " ") + "\n\n" + table
            + "\n</div>\n")


def render_index(catalog: Catalog, results: dict, seconds: float, cpu_seconds: float, build_seconds: float) -> str:
    page = f"{ROOT}/index.md"
    ops, layers = catalog.all_ops(), catalog.all_layers()
    cases = sum(len(v) for v in results.values())
    passed = sum(r.passed for v in results.values() for r in v)
    out = [HIDE_TOC, "# Ops and layers\n",
           f"Every op of `nablab.ops` ({len(ops)} `Function` subclasses in {len(catalog.ops)} modules) and every "
           f"public layer of `nablab.nn` ({len(layers)}) has a page here, generated from the code when the site "
           "builds: nothing on them is written twice.\n",
           "## How to read an op page\n",
           "- **The math**: the op's docstring, then its module's docstring, which holds the derivation "
           "(the backward worked out by hand).\n"
           "- **Forward and backward**, side by side, as they are in `src/nablab/ops/` (with the file and the "
           "lines they are at). `forward` works on raw arrays and saves what `backward` needs; `backward` "
           "receives dL/dy and returns one gradient per input.\n"
           "- **Gradient check**: each registered case of `nablab.gradcheck_cases` that runs the op, computed "
           "when the page was built: the largest relative error between `backward` and central differences, "
           "per input.\n"
           "- **Where it is called**: the public functions, tensor methods and layers whose code calls the op, "
           "each with its PyTorch counterpart (the same name in `torch`).\n"
           "- **CPU kernels**: where a faster implementation replaces the op for some calls, its code and when.\n",
           "A layer page gives the constructor, the parameters and buffers of a small example, the `forward` "
           "source and the ops it reaches.\n",
           "## Gradient checks\n",
           f"{passed} of {cases} cases passed when this page was built. They ran on the reference ops, and again "
           f"with the CPU kernels for the ops that have one, in {workers()} worker processes while the pages were "
           f"prepared: {cpu_seconds:.1f} s of CPU time, all done {seconds:.1f} s after they started; generating the "
           f"whole reference took {build_seconds:.1f} s. The CPU time is what the checks cost; the wall times also "
           "count the waits of a machine busy with other work.\n",
           "## All ops\n"]
    rows = []
    for op in ops:
        callers = op.callers
        names = ", ".join(f"`{c.removeprefix('nablab.')}`" for c in callers[:2]) + (
            f" and {len(callers) - 2} more" if len(callers) > 2 else "")
        torch = [torch_name(c) for c in callers if torch_has(torch_name(c))]
        rows.append([f"[`{op.name}`]({md.relative(page, op_page(op))})",
                     f"[{op.module}]({md.relative(page, op_index(op.module))})", names or "—",
                     ", ".join(torch_link(t) for t in torch[:2]) or "—", _check_cell(results, op)])
    out.append(_filtered(md.table(["op", "module", "public names", "PyTorch", "gradient check"], rows)))
    out.append("## All layers\n")
    rows = []
    for layer in layers:
        qualified = f"torch.nn.{layer.name}"
        rows.append([f"[`{layer.name}`]({md.relative(page, layer_page(layer))})",
                     f"[{layer.module}]({md.relative(page, layer_index(layer.module))})",
                     ", ".join(f"`{o.__name__}`" for o in layer.ops) or "—",
                     torch_link(qualified) if torch_has(qualified) else "—"])
    out.append(_filtered(md.table(["layer", "module", "ops", "PyTorch"], rows)))
    return "\n".join(out)


def render_summary(catalog: Catalog) -> str:
    """The literate-nav file: the index, then the ops by module, then the layers by module."""
    lines = ["* [Ops and layers](index.md)", "* Ops"]
    for module, group in catalog.ops.items():
        lines.append(f"    * [{humanize(module)}](ops/{module}/index.md)")
        lines += [f"        * [{op.name}](ops/{module}/{op.name}.md)" for op in group]
    lines.append("* Layers")
    for module, group in catalog.layers.items():
        lines.append(f"    * [{module}](layers/{module}/index.md)")
        lines += [f"        * [{layer.name}](layers/{module}/{layer.name}.md)" for layer in group]
    return "\n".join(lines) + "\n"
