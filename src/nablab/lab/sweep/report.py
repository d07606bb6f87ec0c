"""``sweep.md``: every trial sorted by the objective, the best settings, how fast the search found
them, and Optuna's figures (optimisation history, parameter importances, parallel coordinates)."""

from __future__ import annotations

import warnings
from pathlib import Path

from ...atomic import write_text
from ..plots import _save
from .spec import SweepSpec
from .storage import masked, optuna_module


def _value(v) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def best_so_far(values: list[float], direction: str) -> list[float]:
    """The best objective after each finished trial, in the order they finished."""
    out, best = [], None
    for v in values:
        if best is None or (v > best if direction == "maximize" else v < best):
            best = v
        out.append(best)
    return out


def _figures(study, folder: Path) -> list[tuple[str, str]]:
    """Optuna's matplotlib figures as PNG; returns (caption, file) for those that could be drawn."""
    optuna = optuna_module()
    import matplotlib.pyplot as plt  # Optuna draws through pyplot (headless, matplotlib picks Agg itself)
    from optuna.visualization import matplotlib as optuna_plots

    made = []
    for caption, filename, draw in (("optimisation history", "optimization_history.png",
                                      optuna_plots.plot_optimization_history),
                                     ("parameter importances (Optuna's default evaluator)", "param_importances.png",
                                      optuna_plots.plot_param_importances),
                                     ("parallel coordinates", "parallel_coordinate.png",
                                      optuna_plots.plot_parallel_coordinate)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                warnings.simplefilter("ignore", UserWarning)  # e.g. "importances will be equal" on tiny studies
                axes = draw(study)
        except (ValueError, RuntimeError, ZeroDivisionError) as exc:  # too few trials or no variation
            made.append((f"{caption}: not drawn ({exc})", ""))
            continue
        figure = axes.figure if hasattr(axes, "figure") else axes.flat[0].figure
        _save(figure, folder / filename)
        plt.close("all")
        made.append((caption, filename))
    return made


def write_sweep_report(spec: SweepSpec, study, folder, url: str) -> Path:
    """Write ``folder/sweep.md`` (and its figures) from the study's trials; returns its path."""
    optuna = optuna_module()
    state = optuna.trial.TrialState
    folder = Path(folder)
    trials = [t for t in study.get_trials(deepcopy=False) if "nablab.unused" not in t.user_attrs]
    done = [t for t in trials if t.state == state.COMPLETE]
    maximize = spec.direction == "maximize"
    done.sort(key=lambda t: -t.value if maximize else t.value)
    died = [t for t in trials if t.state == state.FAIL and "nablab.error" not in t.user_attrs]
    errors = [t for t in trials if t.state == state.FAIL and "nablab.error" in t.user_attrs]
    pruned = [t for t in trials if t.state == state.PRUNED]
    died_numbers = {t.number for t in died}
    running = [t for t in trials if t.state in (state.RUNNING, state.WAITING)]
    names = [d.name for d in spec.space]

    lines = [f"# Sweep: {spec.title}{' (quick form)' if spec.quick else ''}", "",
             f"- study: `{study.study_name}` in `{masked(url)}`",
             f"- sampler: {spec.sampler}; pruner: {spec.pruner}; objective: {spec.objective} ({spec.direction})",
             f"- space: {'; '.join(d.describe() for d in spec.space)}",
             f"- trials: {len(done)} complete, {len(pruned)} pruned, {len(errors)} failed with an error, "
             f"{len(died)} lost with their worker (retried), {len(running)} waiting or running", ""]
    if done:
        best = done[0]
        lines += ["## Best", "", f"{spec.objective} **{best.value:.4f}** (test accuracy "
                  f"{_value(best.user_attrs.get('nablab.test_acc'))}) in trial {best.number}: "
                  + ", ".join(f"{k} = {best.params[k]}" for k in names), ""]
        if spec.published:
            lines += ["Published: " + ", ".join(f"{k} {v}" for k, v in spec.published.items()
                                                if not isinstance(v, dict)), ""]
        finished = sorted(done, key=lambda t: t.datetime_complete)
        curve = best_so_far([t.value for t in finished], spec.direction)
        marks = sorted({k for k in (1, 5, 10, 20, 40, 60, 81, len(curve)) if k <= len(curve)})
        lines += ["## Best so far", "", "| after trials | " + " | ".join(map(str, marks)) + " |",
                  "|---|" + "---|" * len(marks), f"| best {spec.objective} | "
                  + " | ".join(f"{curve[k - 1]:.4f}" for k in marks) + " |", ""]
    lines += ["## Trials", "", "| rank | trial | state | " + spec.objective + " | " + " | ".join(names)
              + " | test acc | seconds | worker | run |", "|---" * (8 + len(names)) + "|"]
    rest = sorted(pruned + errors + died, key=lambda t: t.number)
    for rank, t in enumerate(done + rest, 1):
        run = t.user_attrs.get("nablab.run")
        seconds = f"{(t.datetime_complete - t.datetime_start).total_seconds():.1f}" if t.datetime_complete else "—"
        note = t.user_attrs.get("nablab.error") or t.user_attrs.get("nablab.status") or (
            "worker died" if t.number in died_numbers else "")
        note = " ".join(note.split())  # one table row
        state_text = t.state.name.lower() + (f" ({note[:200]}{'…' if len(note) > 200 else ''})" if note else "")
        lines.append(f"| {rank if t.state == state.COMPLETE else ''} | {t.number} | {state_text} | {_value(t.value)} | "
                     + " | ".join(_value(t.params.get(k)) for k in names)
                     + f" | {_value(t.user_attrs.get('nablab.test_acc'))} | {seconds} | "
                     f"{t.user_attrs.get('nablab.worker', '—')} | "
                     + (f"[{run}](trials/{run}/report.md)" if run else "—") + " |")
    if len(done) >= 2:
        lines += ["", "## Figures", ""]
        for caption, filename in _figures(study, folder):
            lines.append(f"![{caption}]({filename})" if filename else f"- {caption}")
    path = folder / "sweep.md"
    write_text(path, "\n".join(lines) + "\n")
    return path
