"""The figures of a run (matplotlib, PNG): loss per iteration, accuracy per epoch, first-layer
weights as images, the confusion matrix, and curves of several runs overlaid."""

from __future__ import annotations

import numpy as np

from ..atomic import atomic_path


def _figure(figsize):
    """A figure and its axes, made without pyplot: no backend is switched, so a notebook that wrote a
    run's plots still draws its own figures inline."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("plots need matplotlib: pip install 'nablab[lab]'") from None
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def _epoch_axis(ax) -> None:
    """Label the x axis "epoch", with ticks at whole epochs only."""
    from matplotlib.ticker import MaxNLocator

    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _save(fig, path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120, bbox_inches="tight")


def smooth(values, window: int | None = None) -> np.ndarray:
    """Trailing moving average (window ≈ 2% of the points, at least 1)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return values
    window = window or max(1, len(values) // 50)
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (cumsum[1:] - cumsum[np.maximum(np.arange(1, len(values) + 1) - window, 0)]) / counts


def plot_loss(losses, path, title="Training loss") -> None:
    fig, ax = _figure((7, 4))
    steps = np.arange(1, len(losses) + 1)
    ax.plot(steps, losses, color="tab:blue", alpha=0.25, linewidth=0.8, label="per iteration")
    ax.plot(steps, smooth(losses), color="tab:blue", linewidth=2, label="moving average")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cross-entropy loss")
    ax.set_title(title)
    if len(losses) and np.nanmax(losses) / max(np.nanmin(losses), 1e-12) > 50:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_accuracy(epochs, path, title="Accuracy") -> None:
    """Training (fixed sample) and validation accuracy per epoch."""
    fig, ax = _figure((7, 4))
    x = [r["epoch"] for r in epochs]
    for key, label, style in (("train_acc", "training (fixed sample)", "-o"), ("val_acc", "validation", "-s"),
                              ("train_running_acc", "training (running, during the epoch)", ":"),
                              ("train_batch_acc", "training (the epoch's last batch)", ":o")):
        if epochs and key in epochs[0]:
            ax.plot(x, [r[key] for r in epochs], style, label=label, markersize=3)
    _epoch_axis(ax)
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    _save(fig, path)


def plot_weights(weight, input_shape, path, max_units: int = 64, title="First-layer weights") -> None:
    """Each hidden unit's incoming weights reshaped to the input image and scaled to [0, 1],
    tiled into one mosaic (one image draw, not one axes per unit); the first ``max_units`` units
    are shown, and the title says how many of how many."""
    total = len(weight)
    weight = np.asarray(weight, dtype=np.float64)[:max_units]
    c, h, w = input_shape
    images = weight.reshape(len(weight), c, h, w).transpose(0, 2, 3, 1)
    low = images.min(axis=(1, 2, 3), keepdims=True)
    high = images.max(axis=(1, 2, 3), keepdims=True)
    images = (images - low) / np.maximum(high - low, 1e-12)
    cols = int(np.ceil(np.sqrt(len(images))))
    rows = int(np.ceil(len(images) / cols))
    gap = max(1, h // 8)
    mosaic = np.ones((rows * (h + gap) + gap, cols * (w + gap) + gap, c))
    for i, img in enumerate(images):
        r, col = divmod(i, cols)
        mosaic[gap + r * (h + gap): gap + r * (h + gap) + h, gap + col * (w + gap): gap + col * (w + gap) + w] = img
    fig, ax = _figure((7, 7 * mosaic.shape[0] / mosaic.shape[1] + 0.5))
    ax.imshow(mosaic[..., 0] if c == 1 else mosaic, cmap="gray" if c == 1 else None, interpolation="nearest")
    ax.axis("off")
    shown = f"{len(images)} units" if len(images) == total else f"the first {len(images)} of {total} units"
    ax.set_title(f"{title} ({shown}, each scaled to its own range)")
    _save(fig, path)


def plot_confusion(matrix, classes, path, title="Confusion matrix (test set)") -> None:
    matrix = np.asarray(matrix)
    rates = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    size = max(5, 0.55 * len(classes) + 2)
    fig, ax = _figure((size, size))
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if rates[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046, label="share of the true class")
    _save(fig, path)


def plot_compare(runs, path, key="val_acc", ylabel="validation accuracy", title="Runs compared") -> None:
    """``runs``: list of (label, epoch records); one curve of ``key`` per run."""
    fig, ax = _figure((7, 4))
    for label, epochs in runs:
        points = [(r["epoch"], r[key]) for r in epochs if key in r]
        if points:
            ax.plot(*zip(*points), "-o", markersize=3, label=label)
    _epoch_axis(ax)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)


def plot_compare_loss(runs, path, title="Training loss, runs compared") -> None:
    """``runs``: list of (label, per-iteration losses); moving averages overlaid."""
    fig, ax = _figure((7, 4))
    for label, losses in runs:
        ax.plot(np.arange(1, len(losses) + 1), smooth(losses), label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("cross-entropy loss (moving average)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    _save(fig, path)
