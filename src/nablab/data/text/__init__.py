"""Text for language models: tokenizers, corpora split into contiguous parts, and batches of
contiguous sequences.

``CharTokenizer`` (one id per character) and ``ByteTokenizer`` (UTF-8 bytes) turn text into int64
ids and back; ``SequenceLoader`` cuts a stream of ids into (x, y) batches with y = x shifted by
one; ``nablab.data.load("kjv")`` returns a :class:`TextDataset` of the King James Bible (Debian's
``bible-kjv``; :mod:`~nablab.data.text.kjv`), cut into contiguous 90/5/5 % parts
(:mod:`~nablab.data.text.corpora`).
"""

from .byte_tokenizer import ByteTokenizer
from .char_tokenizer import CharTokenizer
from .sequence_loader import SequenceLoader
from .text_dataset import TextDataset, TextSplit, split_text_dataset
from .tokenizers import TOKENIZERS, tokenizer_from_dict

__all__ = ["TOKENIZERS", "ByteTokenizer", "CharTokenizer", "SequenceLoader", "TextDataset", "TextSplit",
           "split_text_dataset", "tokenizer_from_dict"]
