"""``nablab data list|info|fetch``: which data sets there are and where each is found, its splits
and checksums (class counts for images, characters and vocabulary for a text corpus)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data.sets import BUNDLED, NAMES


def existing_folder(text: str) -> str:
    """``--data-dir DIR``: an existing folder (a missing one is a usage error, not a download)."""
    if not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    return text


def _data_dir_option(parser) -> None:
    parser.add_argument("--data-dir", type=existing_folder, default=None, metavar="DIR",
                        help="folder holding the official files (default: NABLAB_DATA, the cache, system folders, "
                             "then a download)")


def add_parser(sub) -> None:
    data_cmd = sub.add_parser("data", help="which data sets there are, where each is found, its sizes and checksums")
    data_sub = data_cmd.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = data_sub.add_parser("list", help="every data set, its kind, and where its files are found (if anywhere)")
    _data_dir_option(listing)
    info = data_sub.add_parser("info", help="show where NAME was found, its splits, class counts (or vocabulary) "
                                            "and checksums")
    info.add_argument("name", choices=NAMES)
    _data_dir_option(info)
    info.add_argument("--no-verify", action="store_true",
                      help="do not check the official files against the publisher's checksums (your own files)")
    fetch = data_sub.add_parser("fetch", help="download NAME into the cache (or find it where a package installed "
                                              "it) and verify it")
    fetch.add_argument("name", choices=[name for name in NAMES if name not in BUNDLED])
    data_cmd.set_defaults(func=run)


def _list(args) -> int:
    from .. import data

    for name in NAMES:
        kind, where = data.sets.describe(name, args.data_dir)
        print(f"{name:14s} {kind:7s} {where}")
    return 0


def _info_images(ds) -> None:
    import numpy as np

    print(f"classes: {', '.join(ds.classes)}")
    print(f"split: {ds.info.get('split', 'fixed')}")
    for split_name in ("train", "val", "test"):
        split = getattr(ds, split_name)
        counts = np.bincount(split.y, minlength=ds.num_classes)
        print(f"{split_name:5s} {len(split):6d} × {split.x.shape[1:]} {split.x.dtype}  per class: {counts.tolist()}")


def _info_text(ds) -> None:
    tok = ds.tokenizer
    print(f"about: {ds.info['about']}")
    print(f"package: {ds.info['package']}")
    print(f"licence: {ds.info['licence']}")
    print(f"split: {ds.info['split']}")
    vocab = f" {''.join(tok.vocab)!r}" if tok.kind == "char" else ""
    print(f"tokenizer: {tok.kind}, vocabulary of {tok.vocab_size}{vocab}")
    for split_name in ("train", "val", "test"):
        split = getattr(ds, split_name)
        print(f"{split_name:5s} {len(split.text):9,d} characters  {len(split):9,d} tokens  begins {split.text[:40]!r}")


def run(args) -> int:
    from .. import data

    if args.action == "list":
        return _list(args)
    if args.action == "fetch":
        folder, digests = data.fetch(args.name)
        print(f"{args.name}: found in {folder}")
        for name, digest in digests.items():
            print(f"  {name}: {digest} ✓")
        return 0
    ds = data.load(args.name, data_dir=args.data_dir, verify=not args.no_verify)
    print(f"{ds.name}: found in {ds.info.get('source')}")
    for name, digest in ds.info.get("checksums", {}).items():
        print(f"  {name}: {digest} ✓")
    if isinstance(ds, data.TextDataset):
        _info_text(ds)
    else:
        _info_images(ds)
    print(f"cache: {data.cache_dir()}")
    return 0
