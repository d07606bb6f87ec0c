"""Every setting of a training run, declared once: its type, range, default, help text and choices.

A run's configuration (what ``config.toml`` holds, what an experiment file's ``[base]`` and variants
give) is a nested dict of the sections below. :data:`SETTINGS` is the one table it is checked
against; the ``nablab train`` flags, their ``--help`` (with the defaults), the README's synopsis and
experiment-file validation are all built from it, and the choices come from the registries
(``nablab.optim.OPTIMIZERS``, ``nablab.nn.ACTIVATIONS``, ``nablab.nn.init.SCHEMES``, the data sets,
the preprocessing, the models). :func:`validate` checks every value before any work starts; the
error names the key, the value and what is allowed.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from pathlib import Path

from ..data import NAMES as DATASETS
from ..data.batch_transforms import PREPROCESSING
from ..data.sets import TEXT_NAMES
from ..data.text import TOKENIZERS
from ..models import MLP, CharRNN, SmallCNN, TinyGPT, VGGNet
from ..nn import ACTIVATIONS
from ..nn.init import SCHEMES
from ..optim import OPTIMIZERS


class ConfigError(ValueError):
    """A configuration key or value that nablab does not accept; the message names it and what is allowed."""


#: the networks ``[model] kind`` names
MODELS = {"mlp": MLP, "small_cnn": SmallCNN, "vgg": VGGNet, "char_rnn": CharRNN, "tiny_gpt": TinyGPT}
#: the kinds that are language models (they train on text corpora, see nablab.lab.language)
LANGUAGE_MODELS = ("char_rnn", "tiny_gpt")
#: text corpora: data sets of token ids for the language models, not of images
TEXT_DATASETS = tuple(TEXT_NAMES)
#: weight initialisations: the schemes of nablab.nn.init, and the MLP's own N(0, init_scale²) and U(−s, s)
INITS = (*SCHEMES, "normal", "uniform")
#: data sets whose split is fixed (``split`` and ``val_size`` do not apply)
FIXED_SPLIT = ("digits", "toy", "spiral", *TEXT_DATASETS)
#: data sets of points, not images (only the MLP takes them)
NOT_IMAGES = ("toy", "spiral")
#: training-set sizes of the official files, which bound ``val_size``
TRAINING_SET_SIZES = {"mnist": 60000, "fashion_mnist": 60000, "cifar10": 50000}
SCHEDULES = ("exponential", "step", "cosine")


@dataclass(frozen=True)
class Setting:
    """One configuration key: ``section.key`` (``section`` None for the top-level keys).

    ``kind`` is int, float, bool, str, or list (of positive integers); ``low``/``high`` bound
    numbers (``low_open``/``high_open``: the bound itself is excluded); ``unset`` says what None
    means where None is allowed; ``flag`` is the ``nablab train`` option (default: the key with dashes;
    ``""`` for a setting that has none).
    """

    section: str | None
    key: str
    kind: type
    default: object
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    unset: str | None = None
    flag: str | None = None
    metavar: str | None = None

    @property
    def path(self) -> str:
        return f"{self.section}.{self.key}" if self.section else self.key

    @property
    def option(self) -> str:
        name = self.flag or self.key.replace("_", "-")
        return f"--no-{name}" if self.kind is bool and self.default else f"--{name}"

    def where(self, value) -> str:
        section = f"[{self.section}] " if self.section else ""
        return f"{section}{self.key} = {value!r}"

    def error(self, value, problem: str) -> ConfigError:
        """A ConfigError: ``[section] key = value <problem> (--flag)``."""
        return ConfigError(f"{self.where(value)} {problem}" + (f" ({self.option})" if self.flag != "" else ""))

    def allowed(self) -> str:
        """What values are accepted, in words."""
        if self.kind is bool:
            text = "true or false"
        elif self.choices is not None:
            text = "one of " + ", ".join(self.choices)
        elif self.kind is int and self.low == 1:
            text = "a positive integer"
        else:
            text = {int: "an integer", float: "a finite number", str: "a text",
                    list: "comma-separated positive integers"}[self.kind]
            bounds = []
            if self.low is not None:
                bounds.append(f"{'>' if self.low_open else '≥'} {self.low:g}")
            if self.high is not None:
                bounds.append(f"{'<' if self.high_open else '≤'} {self.high:g}")
            if bounds and self.kind is not list and text != "a positive integer":
                text += " " + " and ".join(bounds)
        return text + (f", or unset ({self.unset})" if self.unset else "")

    def show_default(self) -> str:
        if self.default is None:
            return self.unset or "unset"
        if isinstance(self.default, list):
            return ",".join(map(str, self.default)) or "none"
        return f"{self.default:g}" if isinstance(self.default, float) else str(self.default)

    def check(self, value):
        """``value`` if this setting accepts it (ints given for a float become floats); else ConfigError."""
        if value is None:
            if self.unset is not None:
                return None
            raise self.error(value, f"must be set: expected {self.allowed()}")
        bad = self.error(value, f"is not one of {', '.join(self.choices)}" if self.choices is not None
                         else f"is not allowed: expected {self.allowed()}")
        if self.kind is bool:
            if not isinstance(value, bool):
                raise bad
            return value
        if self.kind is list:
            if not isinstance(value, (list, tuple)) or any(isinstance(v, bool) or not isinstance(v, numbers.Integral)
                                                           or v < 1 for v in value):
                raise bad
            if self.low is not None and len(value) < self.low:
                raise self.error(value, f"is not allowed: expected at least {self.low:g} comma-separated positive "
                                        "integers")
            return [int(v) for v in value]
        if self.kind is str:
            if not isinstance(value, str) or (self.choices is not None and value not in self.choices):
                raise bad
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise bad
        if self.kind is int:
            if not isinstance(value, numbers.Integral):
                raise bad
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise bad
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise bad
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            raise bad
        return value


def _s(section, key, kind, default, help, **options) -> Setting:
    return Setting(section, key, kind, default, help, **options)


SETTINGS: tuple[Setting, ...] = (
    _s(None, "name", str, "run", "run name: the folder is RUNS_DIR/NAME-TIMESTAMP", metavar="NAME"),
    _s(None, "seed", int, 0, "seeds initialisation, dropout and shuffling", low=0, metavar="N"),
    # ------------------------------------------------------------------ data
    _s("data", "dataset", str, "digits", "data set (digits: bundled with scikit-learn; kjv: text for the language "
       "models)", choices=tuple(DATASETS)),
    _s("data", "data_dir", str, None, "folder holding the official files", metavar="DIR",
       unset="NABLAB_DATA, the cache, system folders, then a download"),
    _s("data", "split", str, None, "CIFAR-10's hlcv split: 49k / the last 1k training / the first 1k test images",
       choices=("full", "hlcv"), unset="full"),
    _s("data", "val_size", int, None, "validation images held out of the training set", low=0, metavar="N",
       unset="5000 for MNIST, Fashion-MNIST and CIFAR-10"),
    _s("data", "split_seed", int, 0, "seeds the train/val(/test) split, kept fixed when --seed changes", low=0,
       metavar="N"),
    _s("data", "stratified", bool, False, "hold out the validation images per class (each keeps its share)"),
    _s("data", "verify", bool, True, "check the official files against the publisher's checksums (turn off for "
       "your own files in the same formats)"),
    _s("data", "preprocess", str, "scale", "x/max (scale), minus the mean image, per-channel or global "
       "standardisation", choices=tuple(PREPROCESSING)),
    _s("data", "pixel_scale", float, None, "divide pixels by this before preprocessing", low=0, low_open=True,
       metavar="X", unset="the data set's maximum, giving [0, 1]"),
    _s("data", "augment", bool, False, "random crops (padding 1/8) and horizontal flips"),
    _s("data", "train_eval_size", int, 1000, "training images whose accuracy is measured each epoch", low=0,
       metavar="N"),
    _s("data", "limit_train", int, None, "keep only the first N training images (text: tokens)", low=1, metavar="N",
       unset="all"),
    _s("data", "limit_test", int, None, "keep only the first N test images (text: tokens)", low=1, metavar="N",
       unset="all"),
    _s("data", "tokenizer", str, "char", "text: one id per character of the training text, or per UTF-8 byte",
       choices=tuple(TOKENIZERS)),
    _s("data", "seq_len", int, 64, "text: tokens per training window (the context a language model learns from)",
       low=1, metavar="N"),
    # ------------------------------------------------------------------ model
    _s("model", "kind", str, "mlp", "an MLP, the small CNN, the UvA report's VGG network, or a language model: an "
       "LSTM (char_rnn) or a small GPT (tiny_gpt)", choices=tuple(MODELS), flag="model"),
    _s("model", "hidden", list, [128], "hidden widths, e.g. 128 or 256,128 (small_cnn: the first is its linear "
       "layer)", metavar="N,N"),
    _s("model", "activation", str, "relu", "the MLP's activation", choices=tuple(ACTIVATIONS)),
    _s("model", "init", str, None, "weight initialisation of the MLP", choices=INITS, unset="PyTorch's"),
    _s("model", "init_scale", float, 1.0, "std of init normal, bound of init uniform", low=0, low_open=True,
       metavar="X"),
    _s("model", "dropout", float, 0.0, "dropout probability after each hidden activation (language models: on "
       "embeddings, between layers, on attention and residual branches)", low=0, high=1, high_open=True,
       metavar="P"),
    _s("model", "widths", list, [32, 64], "small_cnn: channels of its conv blocks", low=1, metavar="N,N"),
    _s("model", "batch_norm", bool, False, "small_cnn: BatchNorm after each conv"),
    _s("model", "embed_dim", int, 64, "char_rnn: size of the character embedding", low=1, metavar="N"),
    _s("model", "hidden_size", int, 128, "char_rnn: units of each LSTM layer", low=1, metavar="N"),
    _s("model", "num_layers", int, 1, "char_rnn: stacked LSTM layers", low=1, metavar="N"),
    _s("model", "tie_weights", bool, False, "char_rnn: the decoder shares the embedding's weights (hidden_size = "
       "embed_dim)"),
    _s("model", "n_layer", int, 2, "tiny_gpt: transformer blocks", low=1, metavar="N"),
    _s("model", "n_head", int, 4, "tiny_gpt: attention heads (they divide n_embd)", low=1, metavar="N"),
    _s("model", "n_embd", int, 64, "tiny_gpt: width of the residual stream", low=1, metavar="N"),
    _s("model", "block_size", int, None, "tiny_gpt: longest context (position embeddings)", low=1, metavar="N",
       unset="data.seq_len"),
    _s("model", "bias", bool, True, "tiny_gpt: biases in its Linear and LayerNorm layers"),
    # ------------------------------------------------------------------ optim
    _s("optim", "optimizer", str, "sgd", "optimizer", choices=tuple(OPTIMIZERS)),
    _s("optim", "lr", float, 0.05, "learning rate", low=0, low_open=True, metavar="X"),
    _s("optim", "momentum", float, 0.9, "SGD momentum", low=0, high=1, high_open=True, metavar="X"),
    _s("optim", "nesterov", bool, False, "SGD with Nesterov momentum"),
    _s("optim", "weight_decay", float, 0.0, "the optimizer's weight decay", low=0, metavar="X"),
    _s("optim", "l2", float, 0.0, "the reports' penalty reg·Σ‖W‖² on weight matrices", low=0, metavar="X"),
    _s("optim", "schedule", str, None, "learning-rate schedule, stepped every epoch (--lr-decay alone means "
       "exponential)", choices=SCHEDULES, unset="constant"),
    _s("optim", "lr_decay", float, 0.95, "the exponential and step schedules' factor", low=0, high=1,
       low_open=True, metavar="X"),
    _s("optim", "step_size", int, 10, "the step schedule's epochs between decays", low=1, metavar="N"),
    _s("optim", "eta_min", float, 0.0, "the cosine schedule's final learning rate", low=0, metavar="X"),
    # ------------------------------------------------------------------ train
    _s("train", "epochs", int, 30, "epochs to train", low=1, metavar="N"),
    _s("train", "steps", int, None, "stop after N steps (the reports count iterations)", low=1, metavar="N",
       unset="--epochs decides"),
    _s("train", "batch_size", int, 32, "training batch size", low=1, metavar="N"),
    _s("train", "sampling", str, "shuffle", "batches: a shuffle per epoch, or drawn with replacement",
       choices=("shuffle", "replacement")),
    _s("train", "grad_clip", float, None, "clip the gradient norm to this", low=0, low_open=True, metavar="X",
       unset="no clipping"),
    _s("train", "patience", int, None, "stop after N epochs without a better validation accuracy", low=1,
       metavar="N", unset="no early stopping"),
    _s("train", "checkpoint_every", int, None, "also checkpoint every N steps", low=1, metavar="N",
       unset="after every epoch only"),
    _s("train", "monitor_every", int, None, "record per-layer gradient norms and activation statistics every N "
       "steps (plotted in the report)", low=1, metavar="N", unset="not recorded"),
    _s("train", "eval_batch_size", int, 1000, "batch size of evaluation", low=1, metavar="N"),
    _s("train", "device", str, "cpu", "where the model trains: the CPU, or a GPU through CuPy",
       choices=("cpu", "cuda")),
    _s("train", "sync_every", int, None, "read the step losses from the device every N steps (a GPU waits at each "
       "read); a diverged loss then stops training up to N − 1 steps late", low=1, metavar="N",
       unset="every step on the CPU, every 50 on a GPU"),
    _s("train", "divergence_factor", float, 100.0, "stop when a step's loss exceeds this many times the first "
       "epoch's mean loss", low=1, low_open=True, metavar="X", unset="only non-finite losses stop"),
)

def _t(key, kind, default, help, **options) -> Setting:
    return Setting("settings", key, kind, default, help, flag="", **options)


#: the settings of a ``two_layer_net`` experiment (the HLCV report's reference network and its own loop)
TWO_LAYER_NET: tuple[Setting, ...] = (
    _t("dataset", str, "cifar10", "data set", choices=tuple(n for n in DATASETS if n not in NOT_IMAGES)),
    _t("split", str, "hlcv", "train/val/test split", choices=("full", "hlcv")),
    _t("data_dir", str, None, "folder holding the data set's files", unset="NABLAB_DATA, the cache, …"),
    _t("limit_train", int, None, "keep only the first N training images", low=1, unset="all"),
    _t("pixel_scale", float, 1.0, "divide pixels by this before subtracting the mean image", low=0, low_open=True),
    _t("hidden_size", int, 50, "hidden units", low=1),
    _t("num_iters", int, 1000, "training iterations", low=1),
    _t("batch_size", int, 200, "batch size (drawn with replacement)", low=1),
    _t("learning_rate", float, 1e-3, "learning rate", low=0, low_open=True),
    _t("learning_rate_decay", float, 0.95, "learning-rate factor per epoch", low=0, high=1, low_open=True),
    _t("reg", float, 0.25, "L2 penalty reg·Σ‖W‖²", low=0),
    _t("std", float, 1e-4, "std of the initial weights", low=0, low_open=True),
    _t("seed", int, 0, "seeds NumPy's global generator, as the reference does", low=0),
)


def validate_two_layer_net(settings: dict) -> dict:
    """``settings`` over the defaults of :data:`TWO_LAYER_NET`, every key and value checked."""
    known = {s.key: s for s in TWO_LAYER_NET}
    unknown = sorted(set(settings) - set(known))
    if unknown:
        raise ConfigError(f"unknown two_layer_net setting(s) {', '.join(unknown)}; expected: {', '.join(known)}")
    out = {key: s.check(settings.get(key, s.default)) for key, s in known.items()}
    if out["split"] == "hlcv" and out["dataset"] != "cifar10":
        raise known["split"].error("hlcv", f"is CIFAR-10's split; {out['dataset']} takes split = 'full'")
    return out


SECTIONS = ("data", "model", "optim", "train")
BY_PATH = {s.path: s for s in SETTINGS}


def defaults() -> dict:
    """The default configuration, nested by section."""
    config = {s.key: s.default for s in SETTINGS if s.section is None}
    for section in SECTIONS:
        config[section] = {s.key: (list(s.default) if isinstance(s.default, list) else s.default)
                           for s in SETTINGS if s.section == section}
    return config


def check_keys(config: dict, where: str = "") -> None:
    """Every key of ``config`` (nested as :func:`defaults`) is a known setting; else a ConfigError naming it."""
    prefix = f"{where}: " if where else ""
    top = [s.key for s in SETTINGS if s.section is None]
    for key, value in config.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{prefix}[{key}] must be a table of settings, got {value!r}")
            known = [s.key for s in SETTINGS if s.section == key]
            unknown = sorted(set(value) - set(known))
            if unknown:
                raise ConfigError(f"{prefix}unknown key(s) {', '.join(unknown)} in [{key}]; expected: "
                                  f"{', '.join(sorted(known))}")
        elif key not in top:
            raise ConfigError(f"{prefix}unknown configuration key {key!r}; expected one of "
                              f"{', '.join(top + list(SECTIONS))}")


def validate(config: dict, check_paths: bool = True) -> dict:
    """``config`` (complete, nested as :func:`defaults`) with every value checked and normalised.

    Besides each key's own range, the combinations: ``split`` and ``val_size`` only for the data
    sets with official files, ``hlcv`` only for CIFAR-10, ``val_size`` below the training set's
    size, ``data_dir`` an existing folder (if ``check_paths``), convolutional networks only on
    images, Nesterov only with momentum.
    """
    check_keys(config)
    out = {key: (dict(value) if isinstance(value, dict) else value) for key, value in config.items()}
    for s in SETTINGS:
        table = out if s.section is None else out[s.section]
        table[s.key] = s.check(table[s.key])
    d, o = out["data"], out["optim"]
    name = d["dataset"]
    if name in FIXED_SPLIT:
        for key in ("split", "val_size"):
            if d[key] is not None:
                raise BY_PATH["data." + key].error(d[key], f"does not apply: {name} has a fixed split")
    if d["split"] == "hlcv":
        if name != "cifar10":
            raise BY_PATH["data.split"].error("hlcv", f"is CIFAR-10's split (49,000 / 1,000 / 1,000); {name} takes "
                                                      "split = 'full' with val_size")
        if d["val_size"] not in (None, 1000):
            raise BY_PATH["data.val_size"].error(d["val_size"], "does not apply: the hlcv split holds out exactly "
                                                 "1,000 validation images")
    size = TRAINING_SET_SIZES.get(name)
    if d["val_size"] is not None and size is not None and d["val_size"] >= size:
        raise BY_PATH["data.val_size"].error(d["val_size"], f"is not allowed: {name}'s training set has {size:,} "
                                             f"images, so val_size must be between 0 and {size - 1}")
    if check_paths and d["data_dir"] is not None and not Path(d["data_dir"]).expanduser().is_dir():
        raise BY_PATH["data.data_dir"].error(d["data_dir"], "is not allowed: there is no such folder (point it at "
                                             "the folder holding the data set's files)")
    _check_language(out)
    if out["model"]["kind"] != "mlp" and name in NOT_IMAGES:
        raise BY_PATH["model.kind"].error(out["model"]["kind"], f"needs images; {name} holds 2-D points: use "
                                          "kind = 'mlp'")
    if o["nesterov"] and (o["optimizer"] != "sgd" or o["momentum"] == 0):
        raise BY_PATH["optim.nesterov"].error(True, f"needs optimizer = 'sgd' with momentum > 0, got optimizer = "
                                              f"{o['optimizer']!r}, momentum = {o['momentum']:g}")
    return out


def _check_language(config: dict) -> None:
    """Language models on text corpora only (and only they), with settings that fit together."""
    m, name = config["model"], config["data"]["dataset"]
    kind = m["kind"]
    if kind in LANGUAGE_MODELS and name not in TEXT_DATASETS:
        raise BY_PATH["model.kind"].error(kind, f"is a language model: it trains on a text corpus "
                                          f"({', '.join(TEXT_DATASETS)}), not on {name}")
    if name in TEXT_DATASETS and kind not in LANGUAGE_MODELS:
        raise BY_PATH["data.dataset"].error(name, f"is a text corpus: it takes a language model "
                                            f"(kind = {' or '.join(map(repr, LANGUAGE_MODELS))}), not {kind!r}")
    if name in TEXT_DATASETS and config["train"]["sampling"] != "shuffle":
        raise BY_PATH["train.sampling"].error(config["train"]["sampling"], "does not apply to a text corpus: its "
                                              "windows are cut from a new offset and shuffled every epoch")
    if kind == "tiny_gpt":
        if m["n_embd"] % m["n_head"]:
            raise BY_PATH["model.n_head"].error(m["n_head"], f"does not divide n_embd = {m['n_embd']}: each head "
                                                "gets n_embd / n_head features")
        seq_len = config["data"]["seq_len"]
        if m["block_size"] is not None and m["block_size"] < seq_len:
            raise BY_PATH["model.block_size"].error(m["block_size"], f"is shorter than the training windows "
                                                    f"(data.seq_len = {seq_len})")
    if kind == "char_rnn" and m["tie_weights"] and m["hidden_size"] != m["embed_dim"]:
        raise BY_PATH["model.tie_weights"].error(True, f"needs hidden_size = embed_dim, got hidden_size = "
                                                 f"{m['hidden_size']}, embed_dim = {m['embed_dim']}")
