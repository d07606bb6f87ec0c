"""Language-model runs end to end: `nablab train` on a text corpus (a small in-memory text in place of
the King James Bible), bits per character and perplexity in the records and the report, the sample,
the tokenizer in the run folder, per-token loss weighting, resuming mid-epoch, `nablab generate`, the
errors, and the quick forms of the language-model experiments on the real corpus where it is installed."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nablab import data
from nablab.cli import main
from nablab.data.text import SequenceLoader, split_text_dataset
from nablab.lab import ConfigError, Run, resolve, train
from nablab.lab import trainer as trainer_module
from nablab.lab.evaluate import evaluate

TEXT = "".join(f"{who}:\nWhat say you, {whom}? I say {n} times no, and {n + 1} times yes.\n\n"
               for n, (who, whom) in enumerate([("ROMEO", "Juliet"), ("JULIET", "Romeo"), ("NURSE", "madam")] * 30))


@pytest.fixture
def corpus(monkeypatch):
    """``data.load("kjv")`` gives TEXT split 90/5/5 (the real corpus is not needed here)."""
    real = data.load

    def load(name, tokenizer=None, **kwargs):
        if name == "kjv":
            return split_text_dataset(name, TEXT, tokenizer or "char", info={"source": "tests"})
        return real(name, **kwargs)

    monkeypatch.setattr(data, "load", load)
    return split_text_dataset("kjv", TEXT)


def _config(kind="tiny_gpt", **train):
    return {"name": kind, "seed": 3, "data": {"dataset": "kjv", "seq_len": 16, "train_eval_size": 8},
            "model": {"kind": kind, "n_layer": 1, "n_head": 2, "n_embd": 16, "embed_dim": 16, "hidden_size": 24,
                      "dropout": 0.1},
            "optim": {"optimizer": "adam", "lr": 0.01}, "train": {"epochs": 2, "batch_size": 8, **train}}


def _cli(kind, tmp_path):
    return ["train", "--dataset", "kjv", "--model", kind, "--seq-len", "16", "--n-layer", "1",
            "--n-embd", "16", "--n-head", "2", "--hidden-size", "24", "--embed-dim", "16", "--optimizer", "adam",
            "--lr", "0.01", "--epochs", "2", "--batch-size", "8", "--runs-dir", str(tmp_path), "--quiet",
            "--no-plots", "--name", kind]


@pytest.mark.parametrize("kind", ["tiny_gpt", "char_rnn"])
def test_nablab_train_runs_a_language_model_with_bpc_perplexity_and_a_sample(kind, corpus, tmp_path, capsys):
    assert main(_cli(kind, tmp_path)) == 0
    out = capsys.readouterr().out
    assert "bits per character" in out and "perplexity" in out and "sample (200 tokens" in out
    [folder] = list(tmp_path.iterdir())
    run = Run(folder)
    records = run.read_metrics()
    epochs = [r for r in records if r["kind"] == "epoch"]
    final = records[-1]
    for r in epochs:
        for part in ("train", "val"):
            assert r[f"{part}_bpc"] == pytest.approx(r[f"{part}_loss"] / math.log(2))
            assert r[f"{part}_perplexity"] == pytest.approx(math.exp(r[f"{part}_loss"]))
    assert epochs[-1]["val_bpc"] < math.log2(corpus.vocab_size)  # it learned something: better than uniform
    assert final["test_bpc"] == pytest.approx(final["test_loss"] / math.log(2))
    assert final["sample"].startswith(final["sample_prompt"]) and len(final["sample"]) == 16 + 200
    assert set(final["sample"]) <= set(corpus.tokenizer.vocab)
    assert "confusion" not in final
    report = run.report_path.read_text()
    assert "final validation bits per character" in report and "test perplexity" in report
    assert "## Sample" in report and final["sample"] in report
    assert f"model.kind | {kind}" in report and "data.preprocess" not in report
    tokenizer = json.loads((folder / "tokenizer.json").read_text())
    assert tokenizer["kind"] == "char"
    config = run.read_config()
    assert config["meta"]["input_shape"] == [16] and len(config["meta"]["classes"]) == corpus.vocab_size


def test_a_tiny_gpt_report_draws_where_its_heads_look(corpus, tmp_path):
    argv = [a for a in _cli("tiny_gpt", tmp_path) if a != "--no-plots"]
    assert main(argv) == 0
    [folder] = list(tmp_path.iterdir())
    run = Run(folder)
    assert (run.plots_dir / "attention.png").stat().st_size > 10_000
    assert "![attention](plots/attention.png)" in run.report_path.read_text()


def test_the_sample_is_the_same_for_the_same_seed(corpus, tmp_path):
    _, a = train(_config(epochs=1), runs_root=tmp_path / "a", progress=False, log=None, plots=False)
    _, b = train(_config(epochs=1), runs_root=tmp_path / "b", progress=False, log=None, plots=False)
    assert a["sample"] == b["sample"] and a["val_bpc"] == b["val_bpc"]


def test_evaluation_weights_the_loss_by_tokens(corpus):
    from nablab import manual_seed
    from nablab.models import TinyGPT
    from nablab.nn import functional as F

    manual_seed(0)
    model = TinyGPT(corpus.vocab_size, 16, 1, 2, 16)
    loader = SequenceLoader(corpus.train.ids[:200], batch_size=5, seq_len=16, shuffle=False)  # a smaller last batch
    loss, acc = evaluate(model, loader)
    logits = [(model(x).data, y.data) for x, y in loader]
    flat = np.concatenate([lg.reshape(-1, lg.shape[-1]) for lg, _ in logits])
    targets = np.concatenate([y.reshape(-1) for _, y in logits])
    expected = F.cross_entropy(flat.astype(np.float64), targets).item()
    assert loss == pytest.approx(expected, rel=1e-5)
    assert acc == pytest.approx((flat.argmax(1) == targets).mean())


def test_resume_mid_epoch_gives_the_same_run_as_an_uninterrupted_one(corpus, tmp_path, monkeypatch):
    config = _config(epochs=2, checkpoint_every=4)
    full, full_result = train(config, runs_root=tmp_path / "full", progress=False, log=None, plots=False)
    steps_per_epoch = len([r for r in full.read_metrics() if r["kind"] == "step" and r["epoch"] == 1])
    assert steps_per_epoch > 6
    stop_at = steps_per_epoch + 6  # inside the second epoch, two steps past a checkpoint
    original = trainer_module.Trainer._step

    def interrupted(self, x, y):
        if self.state["step"] == stop_at:
            raise KeyboardInterrupt
        return original(self, x, y)

    monkeypatch.setattr(trainer_module.Trainer, "_step", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train(config, runs_root=tmp_path / "parts", progress=False, log=None, plots=False)
    monkeypatch.setattr(trainer_module.Trainer, "_step", original)
    [folder] = list((tmp_path / "parts").iterdir())
    assert Run(folder).final_record() is None
    resumed, result = train(resume=folder, progress=False, log=None, plots=False)
    for key in ("val_bpc", "test_bpc", "sample"):
        assert result[key] == full_result[key], key
    full_state, resumed_state = (Run(r.path).load_model().state_dict() for r in (full, resumed))
    for name, value in full_state.items():
        np.testing.assert_array_equal(value.data, resumed_state[name].data, err_msg=name)
    steps = [r["step"] for r in resumed.read_metrics() if r["kind"] == "step"]
    assert steps == list(range(1, 2 * steps_per_epoch + 1))


def test_nablab_generate_prints_the_prompt_and_sampled_text(corpus, tmp_path, capsys):
    assert main(_cli("tiny_gpt", tmp_path)) == 0
    [folder] = list(tmp_path.iterdir())
    capsys.readouterr()
    assert main(["generate", str(folder), "--prompt", "ROMEO:", "--length", "40", "--seed", "1"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("ROMEO:") and len(first.rstrip("\n")) >= 40
    main(["generate", str(folder), "--prompt", "ROMEO:", "--length", "40", "--seed", "1"])
    assert capsys.readouterr().out == first
    main(["generate", str(folder), "--prompt", "ROMEO:", "--length", "40", "--top-k", "1"])
    greedy = capsys.readouterr().out
    main(["generate", str(folder), "--prompt", "ROMEO:", "--length", "40", "--top-k", "1", "--seed", "7"])
    assert capsys.readouterr().out == greedy  # greedy decoding does not depend on the seed


@pytest.mark.parametrize("argv, message", [
    (["--prompt", "ROMEO§"], "outside the run's vocabulary: '§'"),
    (["--temperature", "0"], "--temperature must be a number > 0"),
    (["--top-k", "500"], "--top-k 500 is more than the run's"),
    (["--length", "0"], "takes a positive integer"),
])
def test_nablab_generate_errors_are_one_clear_line(argv, message, corpus, tmp_path, capsys):
    assert main(_cli("char_rnn", tmp_path)) == 0
    [folder] = list(tmp_path.iterdir())
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(folder), *argv])
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_nablab_generate_refuses_a_run_that_is_not_a_language_model(tmp_path, capsys):
    assert main(["train", "--epochs", "1", "--runs-dir", str(tmp_path), "--quiet", "--no-plots"]) == 0
    [folder] = list(tmp_path.iterdir())
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(folder), "--prompt", "a"])
    assert exc.value.code == 1
    assert "is not a language-model run (its model is 'mlp'" in capsys.readouterr().err


@pytest.mark.parametrize("overrides, message", [
    ({"model": {"kind": "tiny_gpt"}}, r"\[model\] kind = 'tiny_gpt' is a language model: it trains on a text corpus"),
    ({"data": {"dataset": "kjv"}}, r"\[data\] dataset = 'kjv' is a text corpus: it takes "
                                                r"a language model"),
    ({"data": {"dataset": "kjv"}, "model": {"kind": "tiny_gpt", "n_embd": 30, "n_head": 4}},
     r"\[model\] n_head = 4 does not divide n_embd = 30"),
    ({"data": {"dataset": "kjv", "seq_len": 32}, "model": {"kind": "tiny_gpt", "block_size": 16}},
     r"\[model\] block_size = 16 is shorter than the training windows \(data.seq_len = 32\)"),
    ({"data": {"dataset": "kjv"}, "model": {"kind": "char_rnn", "tie_weights": True}},
     r"\[model\] tie_weights = True needs hidden_size = embed_dim"),
    ({"data": {"dataset": "kjv", "seq_len": 0}, "model": {"kind": "char_rnn"}},
     r"\[data\] seq_len = 0 is not allowed: expected a positive integer"),
    ({"data": {"dataset": "kjv"}, "model": {"kind": "char_rnn"}, "train": {"sampling": "replacement"}},
     r"\[train\] sampling = 'replacement' does not apply to a text corpus"),
])
def test_bad_language_model_settings_name_the_key(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve(overrides)


def test_a_byte_tokenizer_run_generates_text(corpus, tmp_path, capsys):
    run, result = train({**_config("char_rnn", epochs=1), "data": {**_config()["data"], "tokenizer": "byte"}},
                        runs_root=tmp_path, progress=False, log=None, plots=False)
    assert json.loads((run.path / "tokenizer.json").read_text())["kind"] == "byte"
    assert len(run.read_config()["meta"]["classes"]) == 256
    assert main(["generate", str(run.path), "--prompt", "JULIET: é", "--length", "10"]) == 0
    assert capsys.readouterr().out.startswith("JULIET: é")


def _kjv_installed() -> bool:
    try:
        data.fetch("kjv")
    except (data.DataError, ValueError, OSError):
        return False
    return True


@pytest.mark.skipif(not _kjv_installed(), reason="the King James Bible (Debian's bible-kjv-text) is not installed")
@pytest.mark.parametrize("name", ["char-lstm", "tiny-gpt"])
def test_the_language_experiments_quick_forms_run_on_the_real_corpus(name, tmp_path):
    from nablab.lab import experiments

    report = experiments.reproduce(name, out_root=tmp_path, quick=True, log=None).read_text()
    assert "(quick form)" in report and "| val_bpc |" in report and "## Samples" in report


def test_too_little_text_for_a_window_names_the_settings(corpus, tmp_path):
    config = _config()
    config["data"]["limit_train"] = 20
    with pytest.raises(ConfigError, match=r"\[data\] seq_len = 16 is longer than the training text allows \(cut to "
                                          r"20 tokens by \[data\] limit_train\): its windows need at least 32 tokens"):
        train(config, runs_root=tmp_path, progress=False, log=None)
    assert not tmp_path.exists() or not any(tmp_path.iterdir())
