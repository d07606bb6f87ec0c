"""Text corpora by name: find and verify a corpus's files, read its text, and cut it into
contiguous train/val/test parts (90 / 5 / 5 % of the characters, as char-rnn and nanoGPT do)."""

from __future__ import annotations

from pathlib import Path

from ..files import DataNotFoundError, find_folder, verify_file
from . import kjv
from .text_dataset import TextDataset, split_text_dataset

#: name → the module that describes the corpus (FILES, read_text, verify_text, missing_message, …)
CORPORA = {"kjv": kjv}


def fetch_corpus(name: str, data_dir=None, verify: bool = True) -> tuple[Path, dict]:
    """The folder holding corpus ``name``'s files and ``{file: how its checksum matched}`` (empty without
    ``verify``); a :class:`~nablab.data.DataNotFoundError` saying what to install when they are absent."""
    corpus = CORPORA[name]
    folder = find_folder(corpus.FILES, data_dir)
    if folder is None:
        raise DataNotFoundError(corpus.missing_message(data_dir))
    return folder, ({f.name: verify_file(folder / f.name, f) for f in corpus.FILES.files} if verify else {})


def load_corpus(name: str, data_dir=None, verify: bool = True, tokenizer: str = "char") -> TextDataset:
    """Corpus ``name`` as a :class:`TextDataset` of contiguous 90/5/5 splits, encoded by ``tokenizer``
    (``"char"``: the training text's characters; ``"byte"``: UTF-8 bytes). With ``verify`` the files and
    the text read from them are checked against the published digests."""
    corpus = CORPORA[name]
    folder, checksums = fetch_corpus(name, data_dir, verify)
    text = corpus.read_text(folder)
    if verify:
        checksums["text"] = corpus.verify_text(text)
    info = {"source": str(folder), "checksums": checksums, "verified": verify, "licence": corpus.LICENCE,
            "package": corpus.PACKAGE, "about": corpus.ABOUT, "characters": len(text)}
    return split_text_dataset(name, text, tokenizer, info=info)
