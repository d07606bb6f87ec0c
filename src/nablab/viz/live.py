"""``LivePlot``: the loss and accuracy curves of a training run, redrawn in place in a Jupyter
notebook after every epoch.

It is a Trainer ``on_epoch`` callback (``Trainer(..., on_epoch=LivePlot())``): each call takes an
epoch record (``{"epoch": 3, "train_loss": ..., "val_acc": ...}``), keeps it, and replaces the
picture in the notebook cell's output (IPython's ``display(..., display_id=True)`` and
``update``). Outside a notebook (a script, a terminal IPython) it draws nothing and says so once,
but still keeps the records, so ``save(path)`` can write the picture at the end.
"""

from __future__ import annotations

import warnings

from .figures import epoch_axis, new_figure, png_bytes, save_png

#: (y-axis label, the record keys drawn in that panel); a panel appears once a record holds one of its keys
PANELS = (
    ("cross-entropy loss", ("train_loss", "train_loss_sample", "val_loss")),
    ("accuracy", ("train_acc", "val_acc", "train_running_acc")),
    ("bits per character", ("train_bpc", "train_sample_bpc", "val_bpc")),
)

_RUNNING = ("training (running, during the epoch)", "tab:blue", ":")
_SAMPLE = ("training (fixed sample)", "tab:blue", "-")
_VALIDATION = ("validation", "tab:orange", "-")
#: each key's legend entry, colour and line style: the same part of the data looks the same in every panel
STYLES = {
    "train_loss": _RUNNING, "train_running_acc": _RUNNING, "train_bpc": _RUNNING,
    "train_loss_sample": _SAMPLE, "train_acc": _SAMPLE, "train_sample_bpc": _SAMPLE,
    "val_loss": _VALIDATION, "val_acc": _VALIDATION, "val_bpc": _VALIDATION,
}


def in_notebook() -> bool:
    """Whether this code runs in a Jupyter kernel (notebook, JupyterLab, VS Code, Colab), where
    IPython can show and replace images in a cell's output."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class LivePlot:
    """Curves of the epoch records, redrawn in place in a notebook (see the module docstring).

    ``panels``: (y label, keys) pairs (default :data:`PANELS`); ``title``: over the picture;
    ``notebook``: force drawing on or off (default: :func:`in_notebook`).
    """

    def __init__(self, panels=PANELS, title: str = "Training", notebook: bool | None = None):
        self.panels, self.title = tuple(panels), title
        self.notebook = in_notebook() if notebook is None else bool(notebook)
        self.records: list[dict] = []
        self._handle = None
        if not self.notebook:
            warnings.warn("LivePlot draws only in a Jupyter notebook, and this is not one: it keeps the epoch "
                          "records (LivePlot.records) and draws nothing; LivePlot.save(path) writes the picture "
                          "afterwards", stacklevel=2)

    def __call__(self, record: dict) -> None:
        """Keep an epoch record (others, such as step records, are ignored) and redraw."""
        if record.get("kind", "epoch") != "epoch":
            return
        self.records.append(dict(record))
        if self.notebook:
            self._show()

    def shown_panels(self) -> list[tuple[str, list[str]]]:
        """The panels with data: (y label, the keys some record holds)."""
        shown = []
        for label, keys in self.panels:
            present = [k for k in keys if any(k in r for r in self.records)]
            if present:
                shown.append((label, present))
        return shown

    def figure(self):
        """The picture of the records so far: one panel per kind of curve, epochs along the bottom."""
        panels = self.shown_panels()
        if not panels:
            raise ValueError("no epoch records with curves to draw yet (keys such as train_loss, val_acc)")
        fig, axes = new_figure((5.2 * len(panels), 3.6), ncols=len(panels), squeeze=False)
        for ax, (label, keys) in zip(axes[0], panels):
            for key in keys:
                points = [(r["epoch"], r[key]) for r in self.records if key in r and "epoch" in r]
                if points:
                    name, colour, line = STYLES.get(key, (key, None, "-"))
                    ax.plot(*zip(*points), marker="o", linestyle=line, color=colour, markersize=3, label=name)
            epoch_axis(ax)
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        last = self.records[-1]
        fig.suptitle(f"{self.title}: epoch {last.get('epoch', len(self.records))}")
        return fig

    def save(self, path) -> None:
        """Write the picture of the records so far to ``path`` (PNG), atomically."""
        save_png(self.figure(), path)

    def _show(self) -> None:
        from IPython.display import Image, display

        image = Image(data=png_bytes(self.figure()), format="png")
        if self._handle is None:
            self._handle = display(image, display_id=True)
        else:
            self._handle.update(image)
