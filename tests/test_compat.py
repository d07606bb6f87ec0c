"""The README's PyTorch compatibility section is true: it is exactly nablab.compat.markdown() (which
asks nablab, name by name), and every name it lists is one of PyTorch's."""

import importlib
from pathlib import Path

import pytest

from nablab import compat

README = Path(__file__).resolve().parent.parent / "README.md"
BEGIN, END = "<!-- BEGIN compat (nablab.compat.markdown) -->", "<!-- END compat -->"


def test_readme_holds_the_current_table():
    text = README.read_text()
    assert BEGIN in text and END in text, "the README lost its compatibility section markers"
    block = text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    assert block == compat.markdown(), (
        "the README's compatibility table is out of date: regenerate it with "
        "python -c 'import nablab.compat as c; print(c.markdown())'")


def test_present_names_are_found_and_missing_ones_are_not():
    for namespace in compat.NAMES:
        have, missing = compat.present(namespace)
        assert not set(have) & set(missing) and have, namespace


@pytest.mark.torch
def test_every_listed_name_is_a_pytorch_name():
    torch = pytest.importorskip("torch")
    for namespace, (_, names) in compat.NAMES.items():
        if namespace.startswith("torchvision"):
            continue  # torchvision is not installed here; its names are the data sets and transforms above
        target = importlib.import_module(namespace) if namespace != "torch.Tensor" else torch.Tensor
        unknown = [n for n in names if not hasattr(target, n)]
        assert not unknown, f"{namespace} has no {unknown}"
