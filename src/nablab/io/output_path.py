"""Where an exported file goes: a path whose folder exists (nothing is created on the way)."""

from __future__ import annotations

from pathlib import Path


def output_path(path, what: str = "the file") -> Path:
    """``path`` as a Path, after checking that its folder exists and that it is not a folder itself.

    As ``torch.save`` and ``onnx.save``, nablab does not create missing folders for a file the user
    names: ``--onnx /nonexistent/x.onnx`` is a FileNotFoundError naming the missing folder, not a
    tree of folders made from the root. (Run folders create their own sub-folders.)
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder: give a file name for {what}")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"no folder {path.parent} to write {what} {path.name} into: create it first")
    return path
