"""``CharTokenizer``: one id per character (Unicode code point), the vocabulary of char-rnn and nanoGPT's
shakespeare_char.

The vocabulary is the sorted set of the characters of the training text, so id ``i`` is the
``i``-th smallest code point: ``encode(text)[t] = vocab.index(text[t])`` and
``decode(ids) = "".join(vocab[i] for i in ids)``. A character outside the vocabulary is an error,
unless the tokenizer was given an ``unk`` character to stand in for every such character.
"""

from __future__ import annotations

import numpy as np

from .ids import as_id_array

_UTF32 = "utf-32-le"


def _code_points(text: str) -> np.ndarray:
    """The code points of ``text`` as a uint32 array (one per character)."""
    return np.frombuffer(text.encode(_UTF32, "surrogatepass"), dtype=np.uint32)


class CharTokenizer:
    """Characters ↔ ids over a fixed vocabulary.

    ``CharTokenizer.from_text(text)`` builds the vocabulary ``sorted(set(text))``;
    ``CharTokenizer(vocab)`` takes one (a string or sequence of distinct single characters, ids in
    that order). With ``unk`` (one character), every character outside the vocabulary encodes as
    ``unk``'s id; ``unk`` is appended to the vocabulary if it is not in it.
    """

    kind = "char"

    def __init__(self, vocab, unk: str | None = None):
        chars = list(vocab)
        if unk is not None:
            if not isinstance(unk, str) or len(unk) != 1:
                raise TypeError(f"unk must be one character (a str of length 1), got {unk!r}")
            if unk not in chars:
                chars.append(unk)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise TypeError(f"a vocabulary holds single characters (str of length 1), got {c!r}")
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(f"the vocabulary repeats the characters {repeated!r}; each must appear once")
        if not chars:
            raise ValueError("the vocabulary is empty; build it from a text with at least one character")
        self.vocab: tuple[str, ...] = tuple(chars)
        self.unk = unk
        self._points = _code_points("".join(chars))  # id -> code point
        self._sorted = np.argsort(self._points, kind="stable")  # positions of the code points in ascending order
        self._sorted_points = self._points[self._sorted]

    @classmethod
    def from_text(cls, text: str, unk: str | None = None) -> CharTokenizer:
        """The tokenizer whose vocabulary is the sorted set of the characters of ``text``."""
        if not isinstance(text, str):
            raise TypeError(f"from_text takes a str, got {type(text).__name__}")
        return cls(sorted(set(text)), unk=unk)

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> np.ndarray:
        """The ids of the characters of ``text``, an int64 array of ``len(text)``."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a str, got {type(text).__name__}")
        points = _code_points(text)
        pos = np.searchsorted(self._sorted_points, points).clip(max=len(self._sorted_points) - 1)
        known = self._sorted_points[pos] == points
        ids = self._sorted[pos].astype(np.int64)
        if not known.all():
            if self.unk is None:
                unknown = sorted(set(text[i] for i in np.flatnonzero(~known)))
                first = int(np.argmin(known))
                shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in unknown[:10])
                more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
                raise ValueError(f"characters not in the vocabulary of {self.vocab_size}: {shown}{more} (the first at "
                                 f"position {first}); build the tokenizer from a text that holds them, or give it an "
                                 "unk character to stand in for them")
            ids[~known] = self.vocab.index(self.unk)
        return ids

    def decode(self, ids) -> str:
        """The text of a 1-D sequence of ids (a list, an array or a Tensor)."""
        ids = as_id_array(ids, self.vocab_size)
        return self._points[ids].tobytes().decode(_UTF32, "surrogatepass")

    def to_dict(self) -> dict:
        """A JSON-able description that :meth:`from_dict` rebuilds the same tokenizer from."""
        return {"kind": self.kind, "vocab": "".join(self.vocab), "unk": self.unk}

    @classmethod
    def from_dict(cls, d: dict) -> CharTokenizer:
        if d.get("kind") != cls.kind or "vocab" not in d:
            raise ValueError(f"not a character tokenizer's dict (expected kind 'char' and a vocab), got {d!r}")
        return cls(d["vocab"], unk=d.get("unk"))

    def __eq__(self, other) -> bool:
        return isinstance(other, CharTokenizer) and (self.vocab, self.unk) == (other.vocab, other.unk)

    def __hash__(self) -> int:
        return hash((self.vocab, self.unk))

    def __repr__(self) -> str:
        unk = f", unk={self.unk!r}" if self.unk is not None else ""
        return f"CharTokenizer(vocab_size={self.vocab_size}{unk})"
