"""Tokenizers, contiguous text splits and language-model batches (nablab.data.text)."""

import dataclasses
import json
import os
import re
import shutil

import numpy as np
import pytest

import nablab
from nablab import data
from nablab.data.files import find_folder
from nablab.data.text import (
    ByteTokenizer,
    CharTokenizer,
    SequenceLoader,
    TextDataset,
    kjv,
    split_text_dataset,
    tokenizer_from_dict,
)
from nablab.errors import ShapeError

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n"


# ----------------------------------------------------------------------------- CharTokenizer
def test_char_vocabulary_is_the_sorted_set_of_the_text():
    tok = CharTokenizer.from_text(TEXT)
    assert tok.vocab == tuple(sorted(set(TEXT)))
    assert tok.vocab_size == len(tok) == len(set(TEXT))
    ids = tok.encode(TEXT)
    assert ids.dtype == np.int64 and ids.shape == (len(TEXT),)
    assert ids.tolist() == [sorted(set(TEXT)).index(c) for c in TEXT]
    assert tok.decode(ids) == TEXT
    assert tok.encode("").shape == (0,) and tok.decode([]) == ""


def test_char_tokenizer_keeps_a_given_vocabulary_order_and_any_unicode():
    tok = CharTokenizer("zaé€😀\n")
    assert tok.encode("a😀z€\n").tolist() == [1, 4, 0, 3, 5]
    assert tok.decode(np.array([2, 4, 1])) == "é😀a"
    assert tok.decode(nablab.tensor([0, 1])) == "za"
    assert tok.decode(3) == "€"


def test_char_tokenizer_unknown_characters_are_an_error_or_unk():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"'x' \(U\+0078\), 'é' \(U\+00E9\).*position 1.*unk"):
        tok.encode("axbé")
    with_unk = CharTokenizer.from_text("abc", unk="?")
    assert with_unk.vocab == ("a", "b", "c", "?")
    assert with_unk.decode(with_unk.encode("axbé")) == "a?b?"
    inside = CharTokenizer("ab?", unk="?")
    assert inside.vocab_size == 3 and inside.encode("z").tolist() == [2]


@pytest.mark.parametrize("vocab, unk, error, match", [
    ("aba", None, ValueError, "repeats"),
    ("", None, ValueError, "empty"),
    (["ab"], None, TypeError, "single characters"),
    ("ab", "??", TypeError, "one character"),
])
def test_char_tokenizer_rejects_bad_vocabularies(vocab, unk, error, match):
    with pytest.raises(error, match=match):
        CharTokenizer(vocab, unk=unk)


def test_decode_checks_the_ids():
    tok = CharTokenizer.from_text("abc")
    with pytest.raises(ValueError, match=r"token id 3 \(at position 1\) is outside the vocabulary \[0, 3\)"):
        tok.decode([0, 3])
    with pytest.raises(ValueError, match="outside"):
        tok.decode([-1])
    with pytest.raises(ShapeError, match="1-D"):
        tok.decode(np.zeros((2, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="integers"):
        tok.decode([0.5])
    with pytest.raises(TypeError, match="str"):
        tok.encode(b"abc")


@pytest.mark.parametrize("tok", [CharTokenizer.from_text(TEXT), CharTokenizer.from_text("ab", unk="\ufffd"),
                                 ByteTokenizer()])
def test_tokenizers_save_to_json_and_back(tok):
    d = json.loads(json.dumps(tok.to_dict()))
    again = tokenizer_from_dict(d)
    assert again == tok and type(again) is type(tok) and again.vocab_size == tok.vocab_size
    assert type(tok).from_dict(d) == tok


def test_tokenizer_from_dict_names_what_is_wrong():
    with pytest.raises(ValueError, match="unknown tokenizer kind 'bpe'"):
        tokenizer_from_dict({"kind": "bpe"})
    with pytest.raises(ValueError, match="character tokenizer"):
        CharTokenizer.from_dict({"kind": "byte"})


# ----------------------------------------------------------------------------- ByteTokenizer
def test_byte_tokenizer_is_utf8():
    tok = ByteTokenizer()
    text = "naïve café — 😀"
    ids = tok.encode(text)
    assert tok.vocab_size == len(tok) == 256
    assert ids.dtype == np.int64 and ids.tolist() == list(text.encode("utf-8"))
    assert tok.decode(ids) == text
    assert tok.decode(ids[:-1]) == text[:-1] + "\ufffd"  # a cut character becomes U+FFFD
    with pytest.raises(UnicodeDecodeError):
        tok.decode(ids[:-1], errors="strict")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        tok.decode([256])


# ----------------------------------------------------------------------------- SequenceLoader
def _windows(loader):
    return [(x.data, y.data) for x, y in loader]


def test_batches_are_contiguous_windows_with_targets_shifted_by_one():
    ids = np.arange(1000) * 7 % 1009  # distinct values, so a window's place in the stream is known
    loader = SequenceLoader(ids, batch_size=8, seq_len=16, seed=3)
    batches = _windows(loader)
    assert len(batches) == len(loader) == -(-(1000 // 16 - 1) // 8)
    x, y = batches[0]
    assert x.shape == y.shape == (8, 16) and x.dtype == y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 1:], y[:, :-1])
    pos = {v: i for i, v in enumerate(ids)}
    starts = []
    for x, y in batches:
        for row_x, row_y in zip(x, y):
            t = pos[row_x[0]]
            np.testing.assert_array_equal(row_x, ids[t : t + 16])
            np.testing.assert_array_equal(row_y, ids[t + 1 : t + 17])
            starts.append(t)
    starts = np.sort(starts)
    assert len(starts) == loader.num_windows == 1000 // 16 - 1
    assert np.all(np.diff(starts) == 16)  # non-overlapping and together covering one stretch
    assert starts[0] < 16 and starts[-1] + 16 < 1000


def test_each_epoch_has_its_own_offset_and_order_and_is_reproducible():
    ids = np.arange(500)
    a = SequenceLoader(ids, batch_size=4, seq_len=10, seed=1)
    epochs = [np.concatenate([x.data[:, 0] for x, _ in a]) for _ in range(4)]
    assert all(len(e) == 500 // 10 - 1 for e in epochs)
    assert len({int(e.min()) for e in epochs}) > 1  # the offset moves
    assert not np.array_equal(np.sort(epochs[0]) - epochs[0].min(), epochs[0] - epochs[0].min())  # shuffled
    b = SequenceLoader(ids, batch_size=4, seq_len=10, seed=1)
    b.set_epoch(2)
    np.testing.assert_array_equal(np.concatenate([x.data[:, 0] for x, _ in b]), epochs[2])
    assert b.epoch == 3
    c = SequenceLoader(ids, batch_size=4, seq_len=10, seed=2)
    assert not np.array_equal(np.concatenate([x.data[:, 0] for x, _ in c]), epochs[0])


def test_iter_from_resumes_mid_epoch():
    ids = np.arange(300)
    full = SequenceLoader(ids, batch_size=3, seq_len=7, seed=5)
    full.set_epoch(1)
    whole = _windows(full)
    resumed = SequenceLoader(ids, batch_size=3, seq_len=7, seed=5)
    resumed.set_epoch(1)
    rest = _windows(resumed.iter_from(4))
    assert len(rest) == len(whole) - 4
    for (gx, gy), (wx, wy) in zip(rest, whole[4:]):
        np.testing.assert_array_equal(gx, wx)
        np.testing.assert_array_equal(gy, wy)


def test_evaluation_order_is_every_window_in_order():
    ids = np.arange(103)
    loader = SequenceLoader(ids, batch_size=4, seq_len=10, shuffle=False)
    assert loader.num_windows == 10 and len(loader) == 3
    batches = _windows(loader)
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    np.testing.assert_array_equal(x.reshape(-1), np.arange(100))
    np.testing.assert_array_equal(y.reshape(-1), np.arange(1, 101))
    assert [b[0].shape[0] for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(_windows(loader)[0][0], batches[0][0])  # the same every epoch
    dropped = SequenceLoader(ids, batch_size=4, seq_len=10, shuffle=False, drop_last=True)
    assert len(dropped) == 2 and len(_windows(dropped)) == 2


def test_loader_takes_a_split_and_draws_its_seed_from_nablab():
    ds = split_text_dataset("t", TEXT * 20)
    loader = SequenceLoader(ds.train, batch_size=2, seq_len=8)
    assert loader.dataset is ds.train
    np.testing.assert_array_equal(loader.ids, ds.train.ids)
    nablab.manual_seed(11)
    first = SequenceLoader(ds.train, batch_size=2, seq_len=8).seed
    nablab.manual_seed(11)
    assert SequenceLoader(ds.train, batch_size=2, seq_len=8).seed == first


@pytest.mark.parametrize("ids, kwargs, error, match", [
    (np.zeros((2, 5), dtype=np.int64), {}, ShapeError, "1-D"),
    (np.zeros(50), {}, TypeError, "integers"),
    (np.arange(50), {"batch_size": 0}, ValueError, "batch_size"),
    (np.arange(50), {"seq_len": 0}, ValueError, "seq_len"),
    (np.arange(15), {"seq_len": 8}, ValueError, "at least 16"),
    (np.arange(8), {"seq_len": 8, "shuffle": False}, ValueError, "at least 9"),
])
def test_loader_rejects_bad_input(ids, kwargs, error, match):
    kwargs = {"batch_size": 2, "seq_len": 4, **kwargs}
    with pytest.raises(error, match=match):
        SequenceLoader(ids, **kwargs)


# ----------------------------------------------------------------------------- text data sets
def test_split_text_dataset_is_contiguous_90_5_5():
    text = "".join(chr(97 + i % 26) for i in range(998)) + "é!"
    ds = split_text_dataset("abc", text)
    assert isinstance(ds, TextDataset)
    assert (len(ds.train.text), len(ds.val.text), len(ds.test.text)) == (900, 50, 50)
    assert ds.train.text + ds.val.text + ds.test.text == text
    assert ds.tokenizer.vocab == tuple("abcdefghijklmnopqrstuvwxyz") + ("\ufffd",)
    assert ds.info["unseen_characters"] == "!é"
    assert ds.tokenizer.decode(ds.test.ids[-2:]) == "\ufffd\ufffd"
    assert ds.vocab_size == 27
    for split in (ds.train, ds.val, ds.test):
        assert split.ids.dtype == np.int64 and len(split) == len(split.text)


def test_split_text_dataset_with_bytes_and_bad_arguments():
    ds = split_text_dataset("b", "héllo wörld " * 10, tokenizer="byte", fractions=(0.5, 0.25, 0.25))
    assert ds.vocab_size == 256 and ds.tokenizer.decode(ds.train.ids) == ds.train.text
    assert len(ds.train) == len(ds.train.text.encode("utf-8"))
    with pytest.raises(ValueError, match="unknown tokenizer"):
        split_text_dataset("b", "abc", tokenizer="bpe")
    with pytest.raises(ValueError, match="sum to 1"):
        split_text_dataset("b", "abc", fractions=(0.5, 0.1, 0.1))


def test_the_split_is_described():
    ds = split_text_dataset("t", "abcdefghij" * 10)
    assert ds.info["split"] == "contiguous 90 / 5 / 5 % of the characters (train [0, 90), val [90, 95), test [95, 100))"


# ----------------------------------------------------------------------------- the kjv corpus
def _fake_bible(tmp_path, monkeypatch, script: str):
    """A folder with stand-in bible.data files and, first on PATH, a ``bible`` program running ``script``."""
    files = tmp_path / "files"
    files.mkdir()
    (files / "bible.data").write_bytes(b"EC02 stand-in")
    (files / "bible.data.conc").write_bytes(b"stand-in")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / "bible"
    program.write_text("#!/bin/sh\n" + script)
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    return files


def test_kjv_reads_one_verse_per_line_without_its_reference(tmp_path, monkeypatch):
    verses = "\n".join(f"{ref} verse {i} of the stand-in." for i, ref in
                       enumerate(["Ge1:1", "Ge1:2", "1Ki2:3", "Re22:21"] * 10))
    files = _fake_bible(tmp_path, monkeypatch, f"cat <<'END'\n{verses}\nEND\n")
    ds = data.load("kjv", data_dir=files, verify=False)
    assert isinstance(ds, TextDataset) and ds.name == "kjv"
    text = ds.train.text + ds.val.text + ds.test.text
    assert text.splitlines()[:2] == ["verse 0 of the stand-in.", "verse 1 of the stand-in."]
    assert len(text.splitlines()) == 40 and text.endswith("\n")
    assert ds.info["source"] == str(files) and ds.info["verified"] is False and ds.info["checksums"] == {}
    assert "public domain" in ds.info["licence"]
    assert data.load("kjv", data_dir=files, verify=False, tokenizer="byte").vocab_size == 256


@pytest.mark.parametrize("script, match", [
    ("echo 'Cannot use data file bible.data: Bad magic number' >&2; exit 255",
     r"failed to decode .*exit status 255.*Bad magic number"),
    ("echo 'In the beginning'", "line 1 does not start with a verse reference"),
])
def test_kjv_decoding_failures_are_data_errors(tmp_path, monkeypatch, script, match):
    files = _fake_bible(tmp_path, monkeypatch, script)
    with pytest.raises(data.DataError, match=match):
        data.load("kjv", data_dir=files, verify=False)


def test_kjv_checks_its_files_and_the_decoded_text(tmp_path, monkeypatch):
    files = _fake_bible(tmp_path, monkeypatch, "echo 'Ge1:1 In the beginning'")
    with pytest.raises(data.DataError, match="bible.data: checksum mismatch — expected sha256 6c746c2a"):
        data.load("kjv", data_dir=files)
    with pytest.raises(data.DataError, match=r"expected sha256 b5c4940b.*4,137,850 characters.*verify=False"):
        kjv.verify_text("In the beginning\n")


def test_kjv_missing_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(kjv, "FILES", dataclasses.replace(kjv.FILES, system_dirs=[str(tmp_path / "none")]))
    with pytest.raises(data.DataNotFoundError, match=r"apt-get install bible-kjv.*\n.*" + re.escape(str(tmp_path))):
        data.load("kjv", data_dir=tmp_path)
    with pytest.raises(data.DataNotFoundError, match="bible-kjv"):
        data.fetch("kjv")
    files = _fake_bible(tmp_path, monkeypatch, "true")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(data.DataError, match="not the bible program that decodes it; install Debian's bible-kjv"):
        data.load("kjv", data_dir=files, verify=False)


def test_load_keeps_text_and_image_arguments_apart():
    with pytest.raises(ValueError, match="fixed contiguous split"):
        data.load("kjv", val_size=100)
    with pytest.raises(ValueError, match="tokenizer applies only to kjv"):
        data.load("digits", tokenizer="char")
    assert "kjv" in data.NAMES and data.TEXT_NAMES == ["kjv"]


def test_nablab_data_list_and_info_on_a_text_corpus(tmp_path, monkeypatch, capsys):
    from nablab.cli import main

    assert main(["data", "list"]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert set(lines) == set(data.NAMES) and lines["kjv"].split()[1] == "text"
    files = _fake_bible(tmp_path, monkeypatch, "for i in 1 2 3 4 5 6 7 8 9 10; do echo \"Ge1:$i Verse $i.\"; done")
    assert main(["data", "info", "kjv", "--data-dir", str(files), "--no-verify"]) == 0
    out = capsys.readouterr().out
    assert f"kjv: found in {files}" in out and "licence: public domain" in out
    assert "tokenizer: char, vocabulary of" in out and "train" in out and "characters" in out


KJV_PRESENT = find_folder(kjv.FILES) is not None and shutil.which("bible") is not None


@pytest.mark.skipif(not KJV_PRESENT, reason="no King James corpus (apt-get install bible-kjv)")
def test_kjv_published_facts():
    ds = data.load("kjv")
    assert ds.info["checksums"] == {
        "bible.data": "sha256 6c746c2acc8a34bfded980883ff1701a5d68934a1c853ebf88a07b978fe0ae0e",
        "bible.data.conc": "sha256 56349cd5a86be64d91eee62ac050114b89485f13b439ad4f34da99dde3b4dff3",
        "text": "sha256 b5c4940bcfeee072c0935b5200d0f9d88a00a0199cb0961d16133458fcdfae5d"}
    text = ds.train.text + ds.val.text + ds.test.text
    assert len(text) == 4_137_850 and text.count("\n") == 31_102  # every verse of the King James Bible
    assert text.startswith("In the beginning God created the heaven and the earth.\n")
    assert text.endswith("The grace of our Lord Jesus Christ be with you all. Amen.\n")
    assert (len(ds.train), len(ds.val), len(ds.test)) == (3_724_065, 206_892, 206_893)
    assert ds.vocab_size == 63 and "unseen_characters" not in ds.info
    for split in (ds.train, ds.val, ds.test):
        assert ds.tokenizer.decode(ds.tokenizer.encode(split.text)) == split.text
        np.testing.assert_array_equal(ds.tokenizer.encode(split.text), split.ids)
    assert ByteTokenizer().decode(ByteTokenizer().encode(text)) == text
    x, y = next(iter(SequenceLoader(ds.train, batch_size=4, seq_len=64, seed=0)))
    assert x.shape == y.shape == (4, 64) and ds.tokenizer.decode(x.data[0])[1:] == ds.tokenizer.decode(y.data[0])[:-1]
