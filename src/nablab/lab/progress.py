"""Progress bars (tqdm), shown only on a terminal: logs and CI get the per-epoch lines instead."""

from __future__ import annotations


def progress_bar(iterable, total: int, desc: str, enabled: bool = True):
    """``iterable`` wrapped in a tqdm bar (or returned as it is when disabled or tqdm is missing)."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:  # the lab extra brings tqdm; without it, the epoch lines remain
        return iterable
    return tqdm(iterable, total=total, desc=desc, leave=False, dynamic_ncols=True, disable=None)
