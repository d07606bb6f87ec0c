"""The King James Bible, one verse per line: a 4.1 MB public-domain English corpus from Debian.

Source: Debian's ``bible-kjv-text`` package (version 4.38) installs the text compressed for fast
random access in ``/usr/lib/bible.data`` (1,740,565 bytes, sha256 ``6c746c2a…``) and its
concordance ``/usr/lib/bible.data.conc`` (878,587 bytes); ``bible-kjv`` (same version, which
depends on it) installs ``bible``, the Bible Retrieval System's reader, which decodes them:
``apt-get install bible-kjv``. The corpus is what ``bible -f Gen1:1-Rev22:21`` prints (every verse
of the 66 books, one per line, each after its reference, e.g. ``Ge1:1``), with the reference and
the space after it taken off: 31,102 lines, 4,137,850 characters (all ASCII), 63 distinct ones —
51 letters (every capital but X), newline, space and ``!'(),-.:;?``. Cut 90 / 5 / 5 % by characters,
training runs from Genesis 1:1 into Acts 21:40, validation on into Colossians 1:11, test to
Revelation 22:21.

Licence: the text of the Authorized (King James) Version of 1611 is in the public domain (Debian's
copyright file: "the copyright for the King James Version text of the Bible is expired"; in the
United Kingdom the Crown's letters patent still restrict printing it). The Bible Retrieval System
(Chip Chapin, 1989) is free for unrestricted use; Debian's changes are GPL-2+.

Published figures: none is known for a character-level model of this exact text. (The Large
Canterbury Corpus's ``bible.txt``, a compression benchmark, is the King James text in another
layout with verse references, so its bits-per-character figures do not carry over.) For scale,
count models of the training text score on the validation text (bits per character): 4.38 for
character frequencies, 3.38 for bigrams, 2.01 for 5-grams (add-0.01 smoothing) — measured here,
not published.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path

from ..files import DataError, DatasetFiles, FileSpec, candidate_dirs

FILES = DatasetFiles(
    name="kjv",
    files=[
        FileSpec("bible.data", 1740565, sha256="6c746c2acc8a34bfded980883ff1701a5d68934a1c853ebf88a07b978fe0ae0e"),
        FileSpec("bible.data.conc", 878587, sha256="56349cd5a86be64d91eee62ac050114b89485f13b439ad4f34da99dde3b4dff3"),
    ],
    subdirs=["kjv", "bible-kjv"],
    system_dirs=["/usr/lib"],
)

#: the sha256 of the decoded corpus (UTF-8), for bible-kjv-text 4.38 read by bible-kjv 4.38's ``bible``
TEXT_SHA256 = "b5c4940bcfeee072c0935b5200d0f9d88a00a0199cb0961d16133458fcdfae5d"
VERSES = 31_102
CHARACTERS = 4_137_850
PACKAGE = "bible-kjv 4.38 (Debian; with bible-kjv-text 4.38)"
LICENCE = "public domain (the 1611 King James Version; Debian's copyright file: its copyright is expired)"
ABOUT = "the King James Bible, one verse per line, decoded from Debian's bible-kjv-text by its bible program"
INSTALL = "apt-get install bible-kjv"

_EVERY_VERSE = "Gen1:1-Rev22:21"
_REFERENCE = re.compile(r"[1-3]?[A-Za-z]+\d+:\d+")


def missing_message(data_dir=None) -> str:
    """Where the files were looked for and how to get them."""
    where = "\n  ".join(str(d) for d in candidate_dirs(FILES, data_dir))
    return (f"the kjv files (bible.data and bible.data.conc) were not found. Install Debian's bible-kjv package "
            f"({INSTALL}; it brings bible-kjv-text, which holds them, and the bible program that reads them), or put "
            f"the two files into one of these folders (or point --data-dir / NABLAB_DATA at one):\n  {where}")


def read_text(folder: Path) -> str:
    """Every verse of ``folder``'s ``bible.data``, one per line, as decoded by the ``bible`` program."""
    program = shutil.which("bible")
    if program is None:
        raise DataError(f"found {folder / 'bible.data'}, but not the bible program that decodes it; install "
                        f"Debian's bible-kjv package ({INSTALL})")
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # no line breaks inside a verse
    try:
        done = subprocess.run([program, "-f", "-p", ".", "-d", "bible.data", _EVERY_VERSE], cwd=folder, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise DataError(f"{program} took over 300 s to decode {folder / 'bible.data'}") from None
    if done.returncode != 0:
        raise DataError(f"{program} failed to decode {folder / 'bible.data'} (exit status {done.returncode}): "
                        f"{done.stderr.decode('utf-8', 'replace').strip() or 'no message'}")
    verses = []
    for number, line in enumerate(done.stdout.decode("utf-8").splitlines(), 1):
        reference, _, verse = line.partition(" ")
        if not _REFERENCE.fullmatch(reference):
            raise DataError(f"{program}'s line {number} does not start with a verse reference: {line[:80]!r}")
        verses.append(verse)
    return "".join(v + "\n" for v in verses)


def verify_text(text: str) -> str:
    """Check the decoded corpus against the digest of Debian's; returns how it matched."""
    actual = hashlib.sha256(text.encode("utf-8")).hexdigest()
    if actual != TEXT_SHA256:
        raise DataError(f"the decoded King James text differs from that of {PACKAGE}: expected sha256 {TEXT_SHA256} "
                        f"({CHARACTERS:,} characters), got {actual} ({len(text):,}). Another version of the bible "
                        "program or its data gives another text; load it with verify=False to use it anyway")
    return f"sha256 {actual}"
