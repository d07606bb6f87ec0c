"""The Data sets page (``data.md``): every data set nablab knows, read from its registries when the site
builds: where each comes from, its files with their sizes and checksums, its licence and its splits.

The files are the :class:`~nablab.data.files.DatasetFiles` declared in the modules of ``nablab.data``
(found by walking the package, so a new data set's files show up without touching this page); the data
sets that need no files are loaded, and their split sizes are counted."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import ModuleType

from project_markdown import NOWRAP, code, prose, table, text

import nablab.data
from nablab.compat import resolve
from nablab.data import sets
from nablab.data.files import DatasetFiles

INTRO = """\
`nablab.data.load(name)` returns a data set by name, with its train, validation and test splits.
nablab reads only the publishers' official files, and checks every one against the publisher's
checksum wherever it was found, so a corrupt download or a different file is an error, not a silent
change of your results. This page lists what nablab knows about each data set; it is read from the
code when the site is built, so it is what `nablab data info NAME` checks against.

Where the files are looked for, in order (the first folder holding all of them wins):
"""

#: what makes each data set that needs no files (its docstring says how), by name
MADE_BY = {"digits": "nablab.data.digits", "toy": "nablab.data.toy.toy_data", "spiral": "nablab.data.toy.spiral"}


def registered_files() -> dict[str, list[tuple[str, DatasetFiles]]]:
    """``{data set: [(dotted name, its DatasetFiles), …]}`` over every module of :mod:`nablab.data`."""
    found: dict[str, list[tuple[str, DatasetFiles]]] = {}
    seen: set[int] = set()
    for info in pkgutil.walk_packages(nablab.data.__path__, "nablab.data."):
        for attr, value in vars(importlib.import_module(info.name)).items():
            if isinstance(value, DatasetFiles) and id(value) not in seen:  # once, where first declared
                seen.add(id(value))
                found.setdefault(value.name, []).append((f"{info.name}.{attr}", value))
    return found


def _doc(obj) -> str:
    """A module's or function's docstring as Markdown (reST's double backticks become code spans)."""
    return prose(inspect.getdoc(obj) or "")


#: the digests a file may have, as the table names them
DIGESTS = (("md5", "md5"), ("sha256", "sha256"), ("content_sha256", "sha256 of the gzip'd content"))


def _files_table(dotted: str, spec: DatasetFiles) -> str:
    """Where the files of ``spec`` are looked for and fetched from, and a table of their sizes and digests."""
    rows = []
    for f in spec.files:
        size = f"{f.size:,} bytes" if f.size is not None else "size not recorded"
        digests = [f"{label} {code(getattr(f, attr))}" for attr, label in DIGESTS if getattr(f, attr)]
        rows.append([f"{code(f.name)}<br>{size}", "<br>".join(digests)])
    folders = ", ".join(code(d + "/") for d in spec.subdirs)
    where = f"The files of {code(dotted)} are looked for in the data folder, in its sub-folders {folders}"
    where += "".join(f", in {code(d)}" for d in spec.system_dirs) + ", and in the cache."
    if spec.mirrors:
        where += (" Where they are found nowhere, they are downloaded from these mirrors, in order: "
                  + ", ".join(f"<{url}>" for url in spec.mirrors) + ".")
    return where + '\n\n<div class="files" markdown>\n\n' + table(["file", "checksums"], rows) + "\n</div>\n"


def _defining_module(specs: list[tuple[str, DatasetFiles]]) -> ModuleType:
    return importlib.import_module(specs[0][0].rpartition(".")[0])


def _licence(module: ModuleType) -> str:
    licence = getattr(module, "LICENCE", None)
    return text(licence) if licence else "not recorded in nablab; see the publisher's terms"


def _counted_splits(name: str) -> str:
    """The split sizes of a data set that needs no files, counted by loading it now."""
    ds = sets.load(name)
    sizes = ", ".join(f"{part} {len(getattr(ds, part)):,}" for part in ("train", "val", "test"))
    return (f"**Splits** (counted when this page was built): {sizes}; each example of shape "
            f"{code(tuple(ds.input_shape))}, {len(ds.classes)} classes; {text(ds.info.get('split', 'fixed'))}.")


def _split_rule(name: str) -> str:
    """How ``load`` splits a data set read from files (``nablab.data.sets._split``'s docstring says it)."""
    rule = " ".join(inspect.getdoc(sets._split).partition(": ")[2].split())
    return f"**Splits:** {sets.DEFAULT_VAL_SIZE[name]:,} validation images by default. {text(rule)}"


def _section(name: str, files: dict[str, list[tuple[str, DatasetFiles]]]) -> str:
    if name in sets.BUNDLED:
        if name not in MADE_BY:
            raise LookupError(f"data set {name!r} needs no files, but project_data.MADE_BY does not say what makes it")
        return (f"## `{name}`\n\nNeeds no files: made by {code(MADE_BY[name])}.\n\n{_doc(resolve(MADE_BY[name]))}"
                f"\n\n{_counted_splits(name)}\n")
    if name not in files:
        raise LookupError(f"data set {name!r} is in nablab.data.NAMES but no module of nablab.data declares its "
                          "files (a DatasetFiles), so the data page cannot describe it")
    module = _defining_module(files[name])
    parts = [f"## `{name}`\n", _doc(module), f"**Licence:** {_licence(module)}"]
    for label in ("PACKAGE", "INSTALL"):
        if hasattr(module, label):
            parts.append(f"**{'Package' if label == 'PACKAGE' else 'Install'}:** {code(getattr(module, label))}")
    if name in sets.DEFAULT_VAL_SIZE:  # a text corpus's docstring says how it is cut
        parts.append(_split_rule(name))
    parts += [_files_table(dotted, spec) for dotted, spec in files[name]]
    return "\n\n".join(parts) + "\n"


def page() -> str:
    """The Markdown of ``data.md``."""
    files = registered_files()
    search = _doc(importlib.import_module("nablab.data.files")).split("\n\n")[2:]  # the list and what follows
    sections = [_section(name, files) for name in sets.NAMES]
    return "# Data sets\n\n" + NOWRAP + "\n" + INTRO + "\n" + "\n\n".join(search) + "\n\n" + "\n".join(sections)
