"""Pictures of :class:`nablab.lab.monitor.LayerMonitor`'s records: per-layer gradient norms over
the epochs and across the depth of the network (a vanishing gradient is a slope of orders of
magnitude from the last layer down to the first), activation statistics per layer, and histograms
of each layer's outputs.

``summaries`` is a list of :meth:`LayerMonitor.epoch_summary` results, one per epoch in order.
"""

from __future__ import annotations

import numpy as np

from .figures import epoch_axis, new_figure, save_png


def _layer_names(summaries, key: str) -> list[str]:
    """The layers that have ``key`` in any epoch, in model order."""
    names = []
    for summary in summaries:
        for name, stats in summary.items():
            if key in stats and name not in names:
                names.append(name)
    return names


def _label(summaries, name: str) -> str:
    kind = next((s[name]["layer"] for s in summaries if name in s and "layer" in s[name]), None)
    return f"{name} ({kind})" if kind else name


def _series(summaries, name: str, key: str) -> np.ndarray:
    return np.array([s.get(name, {}).get(key, np.nan) for s in summaries], dtype=np.float64)


def _shown_epochs(n: int) -> list[int]:
    """Indices of the first, middle and last epoch (fewer when there are fewer)."""
    return sorted({0, n // 2, n - 1}) if n else []


def _depth_colours(n: int):
    from matplotlib import colormaps

    return colormaps["viridis"](np.linspace(0.0, 0.9, max(n, 1)))


def _at_least_decades(ax, decades: float = 2.0) -> None:
    """Widen a log-scale y axis to span at least ``decades`` powers of ten around its data, so that a
    spread of 3× does not look as steep as one of 1000×."""
    low, high = ax.get_ylim()
    if low > 0 and np.log10(high / low) < decades:
        centre = np.sqrt(low * high)
        ax.set_ylim(centre / 10 ** (decades / 2), centre * 10 ** (decades / 2))


def _times(ratio: float) -> str:
    return f"{ratio:,.0f}×" if ratio < 1e6 else f"{ratio:.1e}×"


def _epoch_numbers(summaries, epochs):
    if epochs is None:
        return np.arange(1, len(summaries) + 1)
    if len(epochs) != len(summaries):
        raise ValueError(f"epochs has {len(epochs)} numbers for {len(summaries)} summaries")
    return np.asarray(epochs)


def _require(summaries, key: str, what: str) -> list[str]:
    if not summaries:
        raise ValueError(f"no epoch summaries to plot {what} from (LayerMonitor.epoch_summary() once per epoch)")
    names = _layer_names(summaries, key)
    if not names:
        raise ValueError(f"no layer in the summaries has {key!r}: {what} needs layers with "
                         + ("parameters that got gradients" if key == "grad_norm" else "a floating-point output"))
    return names


#: what plot_gradient_norms can show: the summary key → (y label over time, y label across the depth)
GRADIENT_MEASURES = {"grad_norm": ("‖dL/dθ‖₂ (mean over the sampled steps)", "‖dL/dθ‖₂"),
                     "grad_rms": ("RMS of dL/dθ per weight, ‖dL/dθ‖₂/√n (mean over the sampled steps)",
                                  "‖dL/dθ‖₂/√n")}


def plot_gradient_norms(summaries, path, epochs=None, title="Gradient norm per layer", key="grad_norm") -> None:
    """Left: each layer's gradient per epoch (log scale, one line per layer, dark = first layer).
    Right: the same across the depth of the network at the first, middle and last epoch, where a
    vanishing gradient is a straight fall towards the input. ``key``: ``"grad_norm"`` (‖dL/dθ‖₂ of
    the layer's parameters) or ``"grad_rms"`` (per weight, ‖dL/dθ‖₂/√n, which compares layers of
    different sizes)."""
    if key not in GRADIENT_MEASURES:
        raise ValueError(f"key must be one of {sorted(GRADIENT_MEASURES)}, got {key!r}")
    over_time_label, depth_label = GRADIENT_MEASURES[key]
    names = _require(summaries, key, "gradient norms")
    x = _epoch_numbers(summaries, epochs)
    fig, (over_time, over_depth) = new_figure((13, 4.5), ncols=2, width_ratios=[1.1, 1])
    for colour, name in zip(_depth_colours(len(names)), names):
        over_time.plot(x, _series(summaries, name, key), "-o", markersize=3, color=colour,
                       label=_label(summaries, name))
    over_time.set_yscale("log")
    _at_least_decades(over_time)
    epoch_axis(over_time)
    over_time.set_ylabel(over_time_label, fontsize=8 if key == "grad_rms" else None)
    over_time.set_title(title)
    over_time.grid(alpha=0.3, which="both")
    over_time.legend(fontsize=7, ncols=2 if len(names) > 12 else 1, title="layer (first = darkest)",
                     title_fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    depth = np.arange(len(names))
    for i, style in zip(_shown_epochs(len(summaries)), (":o", "--o", "-o")):
        norms = [summaries[i].get(name, {}).get(key, np.nan) for name in names]
        over_depth.plot(depth, norms, style, markersize=4, label=f"epoch {x[i]}")
    over_depth.set_yscale("log")
    _at_least_decades(over_depth)
    over_depth.set_xticks(depth, names, rotation=90 if len(names) > 12 else 0)
    over_depth.set_xlabel("layer, input side → output side")
    over_depth.set_ylabel(depth_label)
    last = np.array([summaries[-1].get(name, {}).get(key, np.nan) for name in names])
    last = last[np.isfinite(last) & (last > 0)]
    if last.size:
        over_depth.set_title(f"Across the depth (last epoch: largest / smallest {_times(last.max() / last.min())})")
    over_depth.grid(alpha=0.3, which="both")
    over_depth.legend(fontsize=8)
    save_png(fig, path)


def plot_activation_stats(summaries, path, epochs=None, which: str = "activations",
                          title="Layer outputs across the depth") -> None:
    """Per layer, at the first and last epoch: the mean of its output with ± one standard deviation
    as error bars (left), and the shares of saturated outputs (squashing activations) and of exact
    zeros (ReLU family; right). ``which="activations"`` shows the layers without parameters (the
    activations; all layers where there are none), ``"all"`` every layer with a floating output."""
    if which not in ("activations", "all"):
        raise ValueError(f"which must be 'activations' or 'all', got {which!r}")
    names = _require(summaries, "act_mean", "activation statistics")
    if which == "activations":
        names = [n for n in names if not any("grad_norm" in s.get(n, {}) for s in summaries)] or names
    x = _epoch_numbers(summaries, epochs)
    depth = np.arange(len(names))
    fig, (values, shares) = new_figure((12, 4.5), ncols=2)
    chosen = sorted({0, len(summaries) - 1})
    for k, i in enumerate(chosen):
        offset = 0.1 * (k - (len(chosen) - 1) / 2)  # the two epochs side by side
        mean = np.array([summaries[i].get(n, {}).get("act_mean", np.nan) for n in names])
        std = np.array([summaries[i].get(n, {}).get("act_std", np.nan) for n in names])
        values.errorbar(depth + offset, mean, yerr=std, fmt="o", capsize=3, markersize=4,
                        label=f"epoch {x[i]}: mean ± std")
        for key, what, marker in (("act_saturated", "saturated", "s"), ("act_zeros", "exactly 0", "^")):
            share = np.array([summaries[i].get(n, {}).get(key, np.nan) for n in names])
            shown = share[np.isfinite(share)]
            if shown.size and (key == "act_saturated" or shown.max() > 0):  # (Linear outputs are never exactly 0)
                shares.plot(depth, share, ("--" if k == 0 and len(chosen) == 2 else "-") + marker, markersize=4,
                            label=f"epoch {x[i]}: {what}")
    labels = [_label(summaries, n) for n in names]
    for ax in (values, shares):
        ax.set_xticks(depth, labels, rotation=90 if len(names) > 6 else 0)
        ax.set_xlabel("layer, input side → output side")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    values.set_ylabel("output value")
    values.set_title(title)
    shares.set_ylabel("share of the layer's outputs")
    shares.set_ylim(-0.02, 1.02)
    shares.set_title("Saturated (σ, tanh: derivative ≈ 0) and zero (ReLU) outputs")
    save_png(fig, path)


def plot_activation_histograms(samples, path, summary=None, which: str = "activations",
                               title="Distribution of each layer's outputs", bins: int = 40) -> None:
    """``samples``: layer name → values (:meth:`LayerMonitor.activation_samples`); one histogram per
    layer in a grid, each over its own range, the y axis the share of the values per bin.
    ``summary`` (that epoch's :meth:`LayerMonitor.epoch_summary`) adds each layer's class and share
    of saturated outputs to its title, and with ``which="activations"`` keeps only the layers
    without parameters (the activations; ``"all"``, or no summary: every layer given)."""
    from matplotlib.ticker import MaxNLocator

    if which not in ("activations", "all"):
        raise ValueError(f"which must be 'activations' or 'all', got {which!r}")
    samples = {name: np.asarray(v, dtype=np.float64).ravel() for name, v in samples.items()}
    samples = {name: v[np.isfinite(v)] for name, v in samples.items()}
    samples = {name: v for name, v in samples.items() if v.size}  # (a diverged layer's NaN outputs: no bars)
    summary = summary or {}
    if which == "activations":
        samples = {n: v for n, v in samples.items() if "grad_norm" not in summary.get(n, {})} or samples
    if not samples:
        raise ValueError("no activation samples to plot (LayerMonitor.activation_samples() after a sampled step)")
    cols = min(5, len(samples))
    rows = int(np.ceil(len(samples) / cols))
    fig, axes = new_figure((2.9 * cols, 2.3 * rows + 0.4), nrows=rows, ncols=cols, squeeze=False)
    for ax, (name, values) in zip(axes.flat, samples.items()):
        weights = np.full(values.shape, 1.0 / max(values.size, 1))
        ax.hist(values, bins=bins, weights=weights, color="tab:blue", alpha=0.8)
        stats = summary.get(name, {})
        heading = f"{name} ({stats['layer']})" if "layer" in stats else name
        detail = f"mean {values.mean():.2g}, std {values.std():.2g}"
        if "act_saturated" in stats:
            detail += f", {stats['act_saturated']:.0%} saturated"
        elif stats.get("act_zeros", 0) > 0:
            detail += f", {stats['act_zeros']:.0%} zero"
        ax.set_title(f"{heading}\n{detail}", fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(samples):]:
        ax.set_axis_off()
    for ax in axes[:, 0]:
        ax.set_ylabel("share of values", fontsize=8)
    fig.suptitle(title)
    save_png(fig, path)
