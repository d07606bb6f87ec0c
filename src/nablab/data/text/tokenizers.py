"""Tokenizers by kind, and rebuilding one from the dict it saved with a run."""

from __future__ import annotations

from .byte_tokenizer import ByteTokenizer
from .char_tokenizer import CharTokenizer

TOKENIZERS = {"char": CharTokenizer, "byte": ByteTokenizer}


def tokenizer_from_dict(d: dict):
    """The tokenizer that ``d = tokenizer.to_dict()`` describes (its ``kind`` says which class)."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer kind {kind!r}; expected one of {', '.join(TOKENIZERS)}")
    return TOKENIZERS[kind].from_dict(d)
