"""Containers for a text corpus: a ``TextSplit`` (its text and token ids) and a ``TextDataset`` of
contiguous train/val/test splits with the tokenizer that encoded them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .byte_tokenizer import ByteTokenizer
from .char_tokenizer import CharTokenizer

#: stands in for a held-out character that the training text never shows (see :func:`split_text_dataset`)
UNK = "\ufffd"


@dataclass
class TextSplit:
    """One contiguous stretch of the corpus: its ``text`` and its int64 token ``ids``."""

    text: str
    ids: np.ndarray

    def __len__(self) -> int:
        """The number of tokens."""
        return len(self.ids)


@dataclass
class TextDataset:
    """``train``, ``val`` and ``test`` text splits and the ``tokenizer`` that encoded them."""

    name: str
    train: TextSplit
    val: TextSplit
    test: TextSplit
    tokenizer: CharTokenizer | ByteTokenizer
    info: dict = field(default_factory=dict)

    @property
    def vocab_size(self) -> int:
        return self.tokenizer.vocab_size


def split_points(n: int, fractions) -> list[int]:
    """Where to cut ``n`` items into consecutive parts of the given fractions (rounded down)."""
    fractions = np.asarray(fractions, dtype=np.float64)
    if fractions.ndim != 1 or np.any(fractions < 0) or not np.isclose(fractions.sum(), 1.0):
        raise ValueError(f"split fractions must be non-negative and sum to 1, got {fractions.tolist()}")
    return [int(n * c) for c in np.cumsum(fractions)[:-1]]


def split_text_dataset(name: str, text: str, tokenizer: str = "char", fractions=(0.9, 0.05, 0.05),
                       info: dict | None = None) -> TextDataset:
    """Cut ``text`` into contiguous train/val/test parts of ``fractions`` (of its characters, in
    order: the first 90 % trains, as in char-rnn and nanoGPT) and encode each.

    ``tokenizer="char"`` builds a :class:`CharTokenizer` from the training text; should the held-out
    text hold characters the training text lacks, the vocabulary gains ``UNK`` (U+FFFD) for them
    and ``info["unseen_characters"]`` lists them. ``tokenizer="byte"`` uses :class:`ByteTokenizer`.
    """
    if not isinstance(text, str):
        raise TypeError(f"the corpus must be a str, got {type(text).__name__}")
    a, b = split_points(len(text), fractions)
    parts = text[:a], text[a:b], text[b:]
    info = dict(info or {})
    if tokenizer == "char":
        seen = set(parts[0])
        unseen = sorted(set(parts[1] + parts[2]) - seen)
        tok = CharTokenizer(sorted(seen), unk=UNK if unseen else None)
        if unseen:
            info["unseen_characters"] = "".join(unseen)
    elif tokenizer == "byte":
        tok = ByteTokenizer()
    else:
        raise ValueError(f"unknown tokenizer {tokenizer!r}; expected 'char' or 'byte'")
    train, val, test = (TextSplit(p, tok.encode(p)) for p in parts)
    info.setdefault("split", f"contiguous {' / '.join(f'{100 * f:g}' for f in fractions)} % of the characters "
                             f"(train [0, {a}), val [{a}, {b}), test [{b}, {len(text)}))")
    return TextDataset(name, train, val, test, tok, info)
