"""A test helper: a weights file whose metadata describes another model than the tensors it holds."""

import json

from safetensors import safe_open
from safetensors.numpy import load_file, save_file

import nablab


def described_as(tmp_path, saved, spec: dict):
    """A file holding ``saved``'s tensors whose metadata describes the model ``spec`` (a spec dict,
    e.g. ``nablab.io.spec.module_spec(module)``) instead of ``saved``."""
    path = nablab.save(saved, tmp_path / "w.safetensors")
    with safe_open(str(path), framework="np") as fh:
        meta = fh.metadata()
    meta["model"] = json.dumps(spec)
    meta.pop("modules")
    save_file(load_file(str(path)), str(path), metadata=meta)
    return path
