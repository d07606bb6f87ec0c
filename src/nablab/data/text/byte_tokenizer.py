"""``ByteTokenizer``: the UTF-8 bytes of a text as ids 0–255, a vocabulary that holds every text.

``encode(text) = list(text.encode("utf-8"))``; a character outside ASCII takes 2–4 ids. ``decode``
joins the bytes and reads them as UTF-8; a sampled sequence can cut a character in two, so bytes
that do not form valid UTF-8 become U+FFFD (``errors="replace"``, as GPT-2's byte-level decoder
does) unless another ``errors`` mode of :meth:`bytes.decode` is asked for.
"""

from __future__ import annotations

import numpy as np

from .ids import as_id_array


class ByteTokenizer:
    """Text ↔ UTF-8 byte ids (``vocab_size`` 256)."""

    kind = "byte"
    vocab_size = 256

    def __len__(self) -> int:
        return self.vocab_size

    def encode(self, text: str) -> np.ndarray:
        """The UTF-8 bytes of ``text`` as an int64 array."""
        if not isinstance(text, str):
            raise TypeError(f"encode takes a str, got {type(text).__name__}")
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)

    def decode(self, ids, errors: str = "replace") -> str:
        """The text of a 1-D sequence of byte ids; invalid UTF-8 is handled by ``errors``."""
        return as_id_array(ids, self.vocab_size).astype(np.uint8).tobytes().decode("utf-8", errors)

    def to_dict(self) -> dict:
        return {"kind": self.kind}

    @classmethod
    def from_dict(cls, d: dict) -> ByteTokenizer:
        if d.get("kind") != cls.kind:
            raise ValueError(f"not a byte tokenizer's dict (expected kind 'byte'), got {d!r}")
        return cls()

    def __eq__(self, other) -> bool:
        return isinstance(other, ByteTokenizer)

    def __hash__(self) -> int:
        return hash(self.kind)

    def __repr__(self) -> str:
        return "ByteTokenizer()"
