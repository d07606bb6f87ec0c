"""``nablab data info|fetch``: where a data set is found, its splits and checksums."""

from __future__ import annotations


def add_parser(sub) -> None:
    data_cmd = sub.add_parser("data", help="where a data set is found, its sizes, class counts and checksums")
    data_sub = data_cmd.add_subparsers(dest="action", metavar="ACTION", required=True)
    info = data_sub.add_parser("info", help="show where NAME was found, its splits, class counts and checksums")
    info.add_argument("name", choices=["digits", "mnist", "fashion_mnist", "cifar10", "toy", "spiral"])
    info.add_argument("--data-dir", default=None)
    fetch = data_sub.add_parser("fetch", help="download NAME into the cache and verify it")
    fetch.add_argument("name", choices=["mnist", "fashion_mnist", "cifar10"])
    data_cmd.set_defaults(func=run)


def run(args) -> int:
    import numpy as np

    from .. import data

    if args.action == "fetch":
        try:
            folder, digests = data.fetch(args.name)
        except data.DataError as exc:
            raise SystemExit(f"nablab: {exc}") from None
        print(f"{args.name}: found in {folder}")
        for name, digest in digests.items():
            print(f"  {name}: {digest} ✓")
        return 0
    try:
        ds = data.load(args.name, data_dir=args.data_dir)
    except data.DataError as exc:
        raise SystemExit(f"nablab: {exc}") from None
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
