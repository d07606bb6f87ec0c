"""Tiny training runs on the bundled digits, shared by the interop tests (a few seconds each)."""

import pytest


def _train(root, overrides):
    from nablab.lab import train

    run, _ = train(overrides, runs_root=root, progress=False, log=None, plots=False)
    return run.path


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """An MLP trained for a few epochs on the 8×8 digits (scale preprocessing)."""
    return _train(tmp_path_factory.mktemp("runs"), {"name": "mlp", "model": {"hidden": [32]},
                                                    "train": {"epochs": 4}})


@pytest.fixture(scope="session")
def cnn_run(tmp_path_factory):
    """A small batch-norm CNN on the digits with per-channel standardisation."""
    return _train(tmp_path_factory.mktemp("runs"), {
        "name": "cnn", "data": {"preprocess": "channel"},
        "model": {"kind": "small_cnn", "widths": [4, 8], "hidden": [], "batch_norm": True},
        "train": {"epochs": 1}})
