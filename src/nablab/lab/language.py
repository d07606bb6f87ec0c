"""Language-model runs: a text corpus, its loaders of contiguous windows, the model, and what an LM
run reports — loss in nats, bits per character, perplexity, and a sample of generated text.

A run on a text corpus (``[data] dataset`` one of :data:`nablab.lab.settings.TEXT_DATASETS`, e.g. ``kjv``) trains
a ``char_rnn`` or ``tiny_gpt`` to predict every next token of windows of ``data.seq_len`` tokens
(:class:`nablab.data.SequenceLoader`); its cross-entropy is averaged over all N·T tokens of a batch.
With the mean loss L in nats per token::

    bits per character  bpc = L / ln 2        perplexity  ppl = exp(L)

(bpc is bits per *token*: per character for a character tokenizer, per byte for a byte one.)
The run folder keeps the tokenizer (``tokenizer.json``), so ``nablab generate RUN`` can turn a prompt
into ids and sampled ids back into text.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..atomic import write_text
from ..random import Generator
from ..tensor import Tensor
from .run import RunError

#: the generated sample at the end of a run: its length in tokens, temperature and the prompt's length
SAMPLE_TOKENS, SAMPLE_TEMPERATURE, SAMPLE_PROMPT = 200, 0.8, 16
TOKENIZER_FILE = "tokenizer.json"


def bits_per_character(loss: float) -> float:
    """bpc = L / ln 2 for a mean cross-entropy L in nats per token."""
    return loss / math.log(2)


def perplexity(loss: float) -> float:
    """exp(L) for a mean cross-entropy L in nats per token (inf past what a float holds)."""
    return math.exp(loss) if loss < 709 else math.inf


def with_language_metrics(record: dict) -> dict:
    """``record`` with ``<part>_bpc`` and ``<part>_perplexity`` beside each ``<part>_loss`` it holds."""
    out = dict(record)
    for key, value in record.items():
        if key.endswith("_loss") and isinstance(value, (int, float)):
            part = key[: -len("_loss")]
            out[f"{part}_bpc"] = bits_per_character(value)
            out[f"{part}_perplexity"] = perplexity(value)
    return out


def _tokens(ids, limit):
    return ids[:limit] if limit else ids


def _windows(ids, batch_size: int, seq_len: int, shuffle: bool, part: str, limit_key: str | None, seed=None):
    """A SequenceLoader over ``ids``; too few tokens for one window is a ConfigError naming the settings."""
    from ..data import SequenceLoader
    from .settings import ConfigError

    need = 2 * seq_len if shuffle else seq_len + 1
    if len(ids) < need:
        cut = f" (cut to {len(ids):,} tokens by [data] {limit_key})" if limit_key else f" ({len(ids):,} tokens)"
        raise ConfigError(f"[data] seq_len = {seq_len} is longer than the {part} text allows{cut}: its windows need "
                          f"at least {need} tokens; give a smaller seq_len or more text")
    return SequenceLoader(ids, batch_size, seq_len, shuffle=shuffle, seed=seed)


def build(config: dict, progress: bool = True):
    """The :class:`nablab.lab.config.Built` of a language-model run: the corpus, loaders of contiguous
    windows (train shuffled per epoch from the run's seed; val, test and the training sample in order),
    the model for sequences of ``seq_len`` tokens over the tokenizer's vocabulary, optimizer, schedule."""
    from .. import data, manual_seed
    from ..models import from_config
    from .config import Built
    from .optimization import optimizer_and_schedule

    manual_seed(config["seed"])
    d, t = config["data"], config["train"]
    kwargs = {"data_dir": d["data_dir"]} if d["data_dir"] is not None else {}
    ds = data.load(d["dataset"], verify=d["verify"], progress=progress, tokenizer=d["tokenizer"], **kwargs)
    seq, seed = d["seq_len"], config["seed"]
    train_ids, test_ids = _tokens(ds.train.ids, d["limit_train"]), _tokens(ds.test.ids, d["limit_test"])
    limits = {part: f"limit_{part}" if d[f"limit_{part}"] else None for part in ("train", "test")}
    evaluation = t["eval_batch_size"]
    loaders = {"train": _windows(train_ids, t["batch_size"], seq, True, "training", limits["train"], seed),
               "val": _windows(ds.val.ids, evaluation, seq, False, "validation", None) if len(ds.val) else None,
               "test": _windows(test_ids, evaluation, seq, False, "test", limits["test"])}
    if d["train_eval_size"]:  # the first train_eval_size windows of the training text
        loaders["train_eval"] = _windows(train_ids[: d["train_eval_size"] * seq + 1], evaluation, seq, False,
                                         "training", limits["train"])
    model = from_config(config["model"], (seq,), ds.tokenizer.vocab_size)
    optimizer, scheduler = optimizer_and_schedule(model, config)
    return Built(ds, (None, None), loaders, model, optimizer, scheduler, None)


def meta(ds, seq_len: int) -> dict:
    """What a run folder's ``meta`` table records of a corpus (input shape: one window; classes: the tokens)."""
    tok = ds.tokenizer
    return {"data_source": ds.info.get("source", ""), "data_split": ds.info.get("split", ""),
            "data_checksums": ds.info.get("checksums", {}), "data_licence": ds.info.get("licence", ""),
            "classes": [tok.decode([i]) for i in range(tok.vocab_size)], "input_shape": [seq_len],
            "tokenizer": tok.kind, "preprocessing": repr(tok),
            "sizes": {"train": len(ds.train), "val": len(ds.val), "test": len(ds.test)}}


def save_tokenizer(run, tokenizer) -> None:
    write_text(run.path / TOKENIZER_FILE, json.dumps(tokenizer.to_dict(), ensure_ascii=False, indent=1))


def load_tokenizer(run):
    """The tokenizer a language-model run saved; a :class:`RunError` for a run that is not one."""
    from ..data.text import tokenizer_from_dict

    path = run.path / TOKENIZER_FILE
    if not path.is_file():
        kind = run.read_config().get("model", {}).get("kind", "mlp")
        raise RunError(f"{run.path} is not a language-model run (its model is {kind!r} and it has no "
                       f"{TOKENIZER_FILE}): nablab generate takes a run of kind char_rnn or tiny_gpt")
    try:
        return tokenizer_from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise RunError(f"{path} is damaged: {exc}") from None


def encode_prompt(tokenizer, prompt: str) -> np.ndarray:
    """The ids (1, T) of ``prompt``; a ValueError naming the characters outside the vocabulary."""
    if not prompt:
        raise ValueError("the prompt is empty: give at least one character (--prompt \"…\")")
    vocab = getattr(tokenizer, "vocab", None)
    if vocab is not None and getattr(tokenizer, "unk", None) is None:
        unknown = sorted(set(prompt) - set(vocab))
        if unknown:
            raise ValueError(f"the prompt holds characters outside the run's vocabulary: "
                             f"{', '.join(map(repr, unknown))} (its {len(vocab)} characters: {''.join(vocab)!r})")
    return np.asarray(tokenizer.encode(prompt), dtype=np.int64)[None]


def generate_text(model, tokenizer, prompt: str, length: int = SAMPLE_TOKENS, temperature: float = 1.0,
                  top_k: int | None = None, seed: int = 0) -> str:
    """``prompt`` followed by ``length`` tokens that ``model`` samples (seeded by ``seed``), as text."""
    ids = encode_prompt(tokenizer, prompt)
    out = model.generate(Tensor(ids), length, temperature=temperature, top_k=top_k,
                         generator=Generator().manual_seed(seed))
    return tokenizer.decode(out[0])


def end_of_run_sample(model, ds, seed: int) -> dict:
    """The sample a run's final record holds: the first characters of the validation (else test) text as
    the prompt, :data:`SAMPLE_TOKENS` tokens at temperature :data:`SAMPLE_TEMPERATURE`, seeded by the run."""
    text = ds.val.text if len(ds.val) else ds.test.text
    prompt = text[:SAMPLE_PROMPT] or "\n"
    return {"sample_prompt": prompt, "sample": generate_text(model, ds.tokenizer, prompt, SAMPLE_TOKENS,
                                                             SAMPLE_TEMPERATURE, seed=seed),
            "sample_settings": f"{SAMPLE_TOKENS} tokens, temperature {SAMPLE_TEMPERATURE:g}, seed {seed}"}
