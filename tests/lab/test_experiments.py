"""Experiments: the list, the toy reproduction (exact), bad files, and every quick form
(on the real data where NABLAB_DATA points at it)."""

import os

import pytest

from nablab.cli import main
from nablab.lab import experiments

ROOT = os.environ.get("NABLAB_DATA")
IMAGES = ["hlcv-toy", "hlcv-cifar-default", "hlcv-cifar-tuned", "hlcv-depth", "vu-mnist-activation", "ntnu-mnist",
          "uva-numpy-mlp", "uva-cnn"]
LANGUAGE = ["char-lstm", "tiny-gpt"]  # (their quick forms run on the corpus in tests/lab/test_language_runs.py)
ALL = IMAGES + LANGUAGE
SWEEPS = ["hlcv-grid", "vu-cifar-cnn"]


def test_list_shows_every_experiment(capsys):
    assert main(["reproduce", "--list"]) == 0
    out = capsys.readouterr().out
    for name in ALL:
        assert name in out
    for name in SWEEPS:
        assert f"[sweep: nablab sweep {name}]" in out
    with pytest.raises(experiments.ExperimentError, match="run it with `nablab sweep hlcv-grid`"):
        experiments.reproduce("hlcv-grid", log=None)


def test_toy_reproduces_the_published_figures(tmp_path):
    rows = experiments.RUNNERS["toy"](experiments.load("hlcv-toy"), tmp_path, False, None)
    by_label = {r["label"]: r for r in rows}
    assert by_label["softmax scores"]["ours"] < 1e-7
    assert abs(by_label["loss (reg 0.05)"]["ours"] - 1.30378789133) < 1e-10
    for key in ("W1", "b1", "W2", "b2"):
        assert by_label[f"{key} gradient check"]["ours"] < 1e-8
    report = experiments.reproduce("hlcv-toy", out_root=tmp_path, log=None).read_text()
    assert "| loss (reg 0.05) | loss | 1.30378789133 | 1.30378789133 |" in report


def test_bad_experiment_files_are_clear_errors(tmp_path):
    with pytest.raises(experiments.ExperimentError, match="no experiment 'nope'"):
        experiments.load("nope")
    bad = tmp_path / "bad.toml"
    bad.write_text('kind = "dance"\n')
    with pytest.raises(experiments.ExperimentError, match="kind must be"):
        experiments.load(str(bad))
    empty = tmp_path / "empty.toml"
    empty.write_text('kind = "train"\n')
    with pytest.raises(experiments.ExperimentError, match="needs"):
        experiments.load(str(empty))


def test_merge_is_recursive():
    assert experiments.merge({"a": {"b": 1, "c": 2}, "d": 3}, {"a": {"c": 5}}) == {"a": {"b": 1, "c": 5}, "d": 3}


@pytest.mark.skipif(not ROOT, reason="NABLAB_DATA does not point at MNIST and CIFAR-10")
@pytest.mark.parametrize("name", IMAGES[1:])
def test_quick_forms_run_end_to_end(name, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    report = experiments.reproduce(name, out_root=tmp_path, quick=True, log=None)
    text = report.read_text()
    assert "(quick form)" in text and "| published | ours | difference |" in text
    spec = experiments.load(name)
    variants = spec.get("variants", [{}])
    runs = [p for p in report.parent.iterdir() if (p / "report.md").is_file()]
    assert len(runs) == len(variants)
    if len(variants) > 1:
        assert (report.parent / "compare_val_acc.png").is_file()


def test_variants_are_chosen_by_the_beginning_of_their_label():
    spec = experiments.load("uva-cnn")
    assert [v["label"] for v in experiments.select_variants(spec, ["report"])["variants"]] == ["report"]
    assert len(experiments.select_variants(spec, ["ours", "report"])["variants"]) == 2
    assert experiments.select_variants(spec, []) is spec
    with pytest.raises(experiments.ExperimentError, match=r"no variant labelled 'best'; its variants: 'report'"):
        experiments.select_variants(spec, ["best"])
    with pytest.raises(experiments.ExperimentError, match="no variants to choose from"):
        experiments.select_variants(experiments.load("hlcv-toy"), ["report"])


@pytest.mark.skipif(not ROOT, reason="NABLAB_DATA does not point at MNIST and CIFAR-10")
def test_reproduce_runs_only_the_chosen_variant(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert main(["reproduce", "uva-numpy-mlp", "--quick", "--quiet", "--out", str(tmp_path),
                 "--variant", experiments.load("uva-numpy-mlp")["variants"][1]["label"][:6]]) == 0
    report = tmp_path / capsys.readouterr().out.split("report: ")[-1].strip()
    runs = [p for p in report.parent.iterdir() if (p / "report.md").is_file()]
    assert len(runs) == 1
