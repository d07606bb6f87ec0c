"""The PyTorch compatibility page (``compat.md``): how to port a script, then the table of
:func:`nablab.compat.markdown` (the README's table), computed when the site builds."""

from __future__ import annotations

import importlib

from project_markdown import code, table

from nablab import compat

PORTING = """\
## How to port a script

nablab copies PyTorch's names and meanings on purpose: what you learn here carries over, and a
PyTorch script runs on nablab once its imports name nablab's modules instead, with nothing else
changed (the test suite runs pytorch/examples' MNIST script that way, from `tests/examples/`).
Where PyTorch and NumPy use one name for two things, PyTorch's meaning wins: `x.transpose(0, 1)`
swaps two dimensions and `x.size()` is the shape. NumPy's own spellings (`axis=`, `keepdims=`) are
accepted too where they collide with nothing.

To port a script, change each PyTorch module to its nablab counterpart
(`import torch` becomes `import nablab as torch`):
"""

TABLE = """\
## Which names exist

For each PyTorch namespace, how many of the names PyTorch users reach for nablab has, and which are
missing. The table is `nablab.compat.markdown()`, computed when this page is built (a name counts as
present when nablab's namespace has an attribute of that name); the README shows the same table, and
a test keeps the two equal.
"""


def _is_module(path: str) -> bool:
    try:
        importlib.import_module(path)
    except ImportError:
        return False
    return True


def module_pairs() -> list[tuple[str, str]]:
    """``(PyTorch module, nablab module)`` of every namespace in :data:`nablab.compat.NAMES` that is a
    module on both sides (``torch.Tensor`` is a class, not an import)."""
    return [(namespace, path) for namespace, (path, _names) in compat.NAMES.items() if _is_module(path)]


def page() -> str:
    """The Markdown of ``compat.md``."""
    imports = table(["PyTorch", "nablab"], [[code(torch_name), code(path)] for torch_name, path in module_pairs()])
    return f"# PyTorch compatibility\n\n{PORTING}\n{imports}\n{TABLE}\n{compat.markdown()}"
