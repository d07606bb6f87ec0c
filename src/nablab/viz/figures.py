"""Figures without pyplot: a ``matplotlib.figure.Figure`` drawn by the Agg canvas, so drawing here never
switches the backend of the user's session (a notebook keeps its inline plots), and PNG files
written atomically."""

from __future__ import annotations

import io

from ..atomic import atomic_path


def new_figure(figsize, **subplots):
    """A figure and its axes (``Figure.subplots(**subplots)``); matplotlib is imported here, on first use."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'nablab[lab]'") from None
    fig = Figure(figsize=figsize, layout="constrained")
    return fig, fig.subplots(**subplots)


def save_png(fig, path) -> None:
    """Write ``fig`` to ``path`` as a PNG, atomically."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)


def png_bytes(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def epoch_axis(ax) -> None:
    """Label the x axis "epoch", with ticks at whole epochs only."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
