"""``nablab data info|fetch``: where a data set is found, its splits and checksums."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..lab.settings import DATASETS, FIXED_SPLIT


def existing_folder(text: str) -> str:
    """``--data-dir DIR``: an existing folder (a missing one is a usage error, not a download)."""
    if not Path(text).expanduser().is_dir():
        raise argparse.ArgumentTypeError(f"no such folder: {text}")
    return text


def add_parser(sub) -> None:
    data_cmd = sub.add_parser("data", help="where a data set is found, its sizes, class counts and checksums")
    data_sub = data_cmd.add_subparsers(dest="action", metavar="ACTION", required=True)
    info = data_sub.add_parser("info", help="show where NAME was found, its splits, class counts and checksums")
    info.add_argument("name", choices=DATASETS)
    info.add_argument("--data-dir", type=existing_folder, default=None, metavar="DIR",
                      help="folder holding the official files (default: NABLAB_DATA, the cache, system folders, "
                           "then a download)")
    info.add_argument("--no-verify", action="store_true",
                      help="do not check the official files against the publisher's checksums (your own files)")
    fetch = data_sub.add_parser("fetch", help="download NAME into the cache and verify it")
    fetch.add_argument("name", choices=[name for name in DATASETS if name not in FIXED_SPLIT])
    data_cmd.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from .. import data

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
    print(f"classes: {', '.join(ds.classes)}")
    print(f"split: {ds.info.get('split', 'fixed')}")
    for split_name in ("train", "val", "test"):
        split = getattr(ds, split_name)
        counts = np.bincount(split.y, minlength=ds.num_classes)
        print(f"{split_name:5s} {len(split):6d} × {split.x.shape[1:]} {split.x.dtype}  per class: {counts.tolist()}")
    print(f"cache: {data.cache_dir()}")
    return 0
