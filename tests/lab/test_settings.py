"""Every setting declared once (nablab.lab.settings): ranges, choices from the registries, the CLI's flags and
defaults, the README's synopsis, and experiment files checked whole before anything trains."""

import pathlib
import re

import pytest

from nablab import nn, optim
from nablab.cli import build_parser
from nablab.cli.synopsis import all_synopses
from nablab.cli.train import _train_config
from nablab.data import NAMES
from nablab.data.batch_transforms import PREPROCESSING
from nablab.lab import ConfigError, experiments, resolve
from nablab.lab.config import DEFAULTS
from nablab.lab.settings import BY_PATH, MODELS, SETTINGS

README = pathlib.Path(__file__).resolve().parents[2] / "README.md"

BAD = [  # (overrides, what the message must say): each was accepted silently or was a traceback
    ({"train": {"grad_clip": -1.0}}, r"\[train\] grad_clip = -1.0 is not allowed: expected a finite number > 0"),
    ({"train": {"patience": -1}}, r"\[train\] patience = -1 is not allowed: expected a positive integer"),
    ({"data": {"dataset": "mnist", "split": "hlcv"}}, r"split = 'hlcv' is CIFAR-10's split .*mnist takes"),
    ({"optim": {"momentum": 5.0}}, r"momentum = 5.0 is not allowed: expected a finite number ≥ 0 and < 1"),
    ({"optim": {"lr": float("nan")}}, r"lr = nan is not allowed: expected a finite number > 0 \(--lr\)"),
    ({"optim": {"lr": float("inf")}}, r"lr = inf is not allowed"),  # what `--lr 1e400` parses to
    ({"model": {"dropout": 1.5}}, r"dropout = 1.5 is not allowed: expected a finite number ≥ 0 and < 1"),
    ({"model": {"dropout": 1.0}}, r"dropout = 1.0 is not allowed"),
    ({"data": {"dataset": "cifar10", "val_size": 50000}}, r"val_size = 50000 .*between 0 and 49999"),
    ({"data": {"dataset": "mnist", "val_size": -3}}, r"val_size = -3 is not allowed: expected an integer ≥ 0"),
    ({"data": {"val_size": 100}}, r"val_size = 100 does not apply: digits has a fixed split"),
    ({"data": {"dataset": "cifar10", "split": "hlcv", "val_size": 5}}, r"holds out exactly 1,000"),
    ({"data": {"data_dir": "/nowhere/at/all"}}, r"data_dir = '/nowhere/at/all' is not allowed: there is no such "
                                                r"folder"),
    ({"data": {"dataset": "toy"}, "model": {"kind": "small_cnn"}}, r"kind = 'small_cnn' needs images"),
    ({"optim": {"nesterov": True, "momentum": 0.0}}, r"nesterov = True needs optimizer = 'sgd' with momentum > 0"),
    ({"train": {"epochs": 3.0}}, r"epochs = 3.0 is not allowed: expected a positive integer"),
    ({"train": {"epochs": True}}, r"epochs = True is not allowed"),
    ({"data": {"augment": 1}}, r"augment = 1 is not allowed: expected true or false"),
    ({"model": {"hidden": [64, 0]}}, r"hidden = \[64, 0\] is not allowed: expected comma-separated positive"),
    ({"model": {"widths": []}}, r"widths = \[\] is not allowed: expected at least 1"),
    ({"model": {"activation": "relu7"}}, r"activation = 'relu7' is not one of relu, leaky_relu"),
    ({"optim": {"lr_decay": 0.0}}, r"lr_decay = 0.0 is not allowed: expected a finite number > 0 and ≤ 1"),
    ({"seed": -1}, r"seed = -1 is not allowed: expected an integer ≥ 0 \(--seed\)"),
    ({"model": {"kind": None}}, r"kind = None \(--model\)|kind = None must be set"),
]


@pytest.mark.parametrize(("overrides", "message"), BAD, ids=[str(b[0]) for b in BAD])
def test_every_bad_value_is_an_error_naming_the_key_the_value_and_what_is_allowed(overrides, message):
    with pytest.raises(ConfigError, match=message):
        resolve(overrides)


def test_good_values_are_accepted_and_ints_become_floats():
    config = resolve({"optim": {"lr": 1, "momentum": 0}, "model": {"hidden": [], "init": "normal"},
                      "data": {"dataset": "cifar10", "split": "hlcv", "val_size": 1000}})
    assert config["optim"]["lr"] == 1.0 and isinstance(config["optim"]["lr"], float)
    assert config["model"]["hidden"] == [] and config["data"]["split"] == "hlcv"
    assert resolve({"train": {"grad_clip": None}})["train"]["grad_clip"] is None


def test_the_choices_come_from_the_registries():
    assert BY_PATH["optim.optimizer"].choices == tuple(optim.OPTIMIZERS)
    assert BY_PATH["model.activation"].choices == tuple(nn.ACTIVATIONS)
    assert set(nn.init.SCHEMES) < set(BY_PATH["model.init"].choices)
    assert BY_PATH["data.dataset"].choices == tuple(NAMES)
    assert BY_PATH["data.preprocess"].choices == tuple(PREPROCESSING)
    assert BY_PATH["model.kind"].choices == tuple(MODELS)
    for name in optim.OPTIMIZERS:  # every optimizer offered can be built by a run
        assert resolve({"optim": {"optimizer": name}})["optim"]["optimizer"] == name


def test_every_setting_has_a_default_that_it_accepts_and_a_flag_of_nablab_train():
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = {action.setting.path: action for action in train._actions if hasattr(action, "setting")}
    assert sorted(flags) == sorted(s.path for s in SETTINGS)
    for setting in SETTINGS:
        assert setting.check(setting.default) == setting.default


def test_the_cli_defaults_are_the_settings_defaults():
    args = build_parser().parse_args(["train"])
    config = resolve(_train_config(args))
    assert {k: v for k, v in config.items() if k != "name"} == {k: v for k, v in DEFAULTS.items() if k != "name"}
    assert config["name"] == "digits-mlp"
    assert resolve(_train_config(build_parser().parse_args(["train", "--lr-decay", "0.9"])))["optim"][
        "schedule"] == "exponential"


def test_help_shows_every_default(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    for text in ("learning rate [0.05]", "epochs to train [30]", "[0.95]", "[PyTorch's]", "[no clipping]",
                 "[digits]", "hidden widths, e.g. 128 or 256,128 (small_cnn: the first is its linear layer) [128]"):
        assert text in out


def test_the_readme_synopsis_is_the_parsers():
    text = README.read_text()
    block = re.search(r"## Commands\n.*?```\n(.*?)```", text, flags=re.S).group(1)
    assert block.rstrip("\n") == all_synopses(build_parser())


# ------------------------------------------------------------------ experiment files
def _experiment(tmp_path, text, name="exp"):
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return str(path)


BASE = """
title = "a test"
kind = "train"
[base]
seed = 0
[base.data]
dataset = "digits"
train_eval_size = 100
[base.train]
epochs = 1
"""


def test_a_toml_syntax_error_names_the_file_line_and_column(tmp_path):
    path = _experiment(tmp_path, 'kind = "train"\n[base\nseed = 0\n')
    with pytest.raises(experiments.ExperimentError, match=rf"{re.escape(path)}: not valid TOML: .*line 2, column"):
        experiments.load(path)


def test_an_unknown_top_level_key_is_an_error(tmp_path):
    path = _experiment(tmp_path, BASE + '[[variants]]\nlabel = "a"\n[tuning]\nlr = 1\n')
    with pytest.raises(experiments.ExperimentError, match=r"unknown top-level key\(s\) tuning; a 'train' experiment"):
        experiments.load(path)


def test_a_missing_base_table_says_so(tmp_path):
    path = _experiment(tmp_path, 'kind = "train"\n[[variants]]\nlabel = "a"\n[variants.config.train]\nepochs = 1\n')
    with pytest.raises(experiments.ExperimentError, match=r"needs a \[base\] table"):
        experiments.load(path)


def test_unknown_keys_in_base_and_variants_are_errors(tmp_path):
    with pytest.raises(experiments.ExperimentError, match=r"\[base\]: unknown key\(s\) epoch in \[train\]"):
        experiments.load(_experiment(tmp_path, BASE + 'epoch = 3\n[[variants]]\nlabel = "a"\n'))
    with pytest.raises(experiments.ExperimentError, match=r"variant 'a': unknown key\(s\) confg"):
        experiments.load(_experiment(tmp_path, BASE + '[[variants]]\nlabel = "a"\n[variants.confg]\n'))


def test_a_typo_in_variant_two_is_found_before_variant_one_trains(tmp_path):
    path = _experiment(tmp_path, BASE + '[[variants]]\nlabel = "one"\n[[variants]]\nlabel = "two"\n'
                                        '[variants.config.optim]\nlr = -0.1\n')
    out = tmp_path / "out"
    with pytest.raises(experiments.ExperimentError, match=r"variant 'two': \[optim\] lr = -0.1 is not allowed"):
        experiments.reproduce(path, out_root=out, log=None)
    assert not out.exists()


def test_the_quick_form_is_checked_too(tmp_path):
    path = _experiment(tmp_path, BASE + '[[variants]]\nlabel = "one"\n[quick.train]\nepochs = 0\n')
    with pytest.raises(experiments.ExperimentError, match=r"variant 'one' \(quick form\): \[train\] epochs = 0"):
        experiments.load(path)


def test_every_shipped_experiment_is_valid():
    for name in experiments.available():
        experiments.load(name)


def test_numpy_numbers_are_accepted_as_python_numbers():
    np = pytest.importorskip("numpy")
    config = resolve({"train": {"epochs": np.int64(3)}, "optim": {"lr": np.float32(0.5)},
                      "model": {"hidden": [np.int64(4)]}})
    assert type(config["train"]["epochs"]) is int and type(config["optim"]["lr"]) is float
    assert config["model"]["hidden"] == [4]


def test_two_layer_net_settings_are_checked_by_name_and_value(tmp_path):
    assert experiments.two_layer_net_settings({"reg": 0.3})["hidden_size"] == 50
    with pytest.raises(experiments.ExperimentError, match=r"unknown two_layer_net setting\(s\) regg"):
        experiments.two_layer_net_settings({"regg": 0.3})
    with pytest.raises(experiments.ExperimentError, match=r"\[settings\] reg = -1 is not allowed: expected a finite "
                                                          r"number ≥ 0$"):
        experiments.two_layer_net_settings({"reg": -1})
    path = _experiment(tmp_path, 'kind = "two_layer_net"\n[settings]\nhidden_size = 50\n[quick]\nnum_iters = 0\n')
    with pytest.raises(experiments.ExperimentError, match=r"\[quick\]: \[settings\] num_iters = 0 is not allowed"):
        experiments.load(path)


def test_a_saved_configuration_whose_data_folder_is_gone_still_resolves(tmp_path):
    from nablab.lab.config import resolve_saved

    assert resolve_saved({"data": {"data_dir": str(tmp_path / "moved")}})["data"]["data_dir"] == str(tmp_path / "moved")
