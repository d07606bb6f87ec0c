"""Tiny training runs on the bundled digits, shared by the interop tests (a few seconds each).

Each test module takes them with ``digits_run = interop_runs.digits_run`` rather than from a
``conftest.py``: tests/test_cli.py imports tests/data/conftest.py as the module ``conftest``, which
a second conftest would shadow. Each run is trained once per session, whichever module asks first.
"""

import pytest

_RUNS = {}


def _train(factory, name, overrides):
    if name not in _RUNS:
        from nablab.lab import train

        run, _ = train({"name": name, **overrides}, runs_root=factory.mktemp("runs"), progress=False, log=None,
                       plots=False)
        _RUNS[name] = run.path
    return _RUNS[name]


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """An MLP trained for a few epochs on the 8×8 digits (scale preprocessing)."""
    return _train(tmp_path_factory, "mlp", {"model": {"hidden": [32]}, "train": {"epochs": 4}})


@pytest.fixture(scope="session")
def cnn_run(tmp_path_factory):
    """A small batch-norm CNN on the digits with per-channel standardisation."""
    return _train(tmp_path_factory, "cnn", {
        "data": {"preprocess": "channel"},
        "model": {"kind": "small_cnn", "widths": [4, 8], "hidden": [], "batch_norm": True},
        "train": {"epochs": 1}})
