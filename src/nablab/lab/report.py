"""``report.md`` of a run, and one comparison report for several runs — all regenerated from the
run folders alone (config.toml, metrics.jsonl, checkpoints). A language model's report gives its
losses in nats, bits per character and perplexity, and the text it generated at the end."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import write_text
from . import plots
from .checkpoint import read_checkpoint
from .run import Run
from .settings import LANGUAGE_MODELS


def summary(run: Run) -> dict:
    """The numbers of a run: final and best accuracies, loss, time, parameter count (from metrics.jsonl)."""
    return summarize(run.name, run.read_metrics())


def summarize(name: str, records: list[dict]) -> dict:
    """:func:`summary` of the records of the run ``name`` (step, epoch and final records, in order)."""
    epochs = [r for r in records if r["kind"] == "epoch"]
    final = next((r for r in reversed(records) if r["kind"] == "final"), {})
    out = {"run": name, "epochs": len(epochs), "steps": epochs[-1]["step"] if epochs else 0,
           "seconds": sum(r["seconds"] for r in epochs)}
    if epochs:
        last = epochs[-1]
        out.update(final_train_acc=last.get("train_acc"), final_val_acc=last.get("val_acc"),
                   final_train_loss=last.get("train_loss"), final_val_loss=last.get("val_loss"))
        with_val = [r for r in epochs if "val_acc" in r]
        if with_val:
            best = max(with_val, key=lambda r: r["val_acc"])
            out.update(best_val_acc=best["val_acc"], best_epoch=best["epoch"])
    out.update({k: final[k] for k in ("test_acc", "best_test_acc", "parameters", "status") if k in final})
    if epochs and "train_bpc" in epochs[-1]:  # a language model: its losses in bits per character and perplexity
        last = epochs[-1]
        out.update({k: last[k] for k in ("train_bpc", "train_perplexity", "val_bpc", "val_perplexity") if k in last})
        out.update({k: final[k] for k in ("test_loss", "test_bpc", "test_perplexity", "best_test_loss",
                                          "best_test_bpc", "best_test_perplexity", "sample", "sample_prompt",
                                          "sample_settings") if k in final})
    return out


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def make_plots(run: Run, records: list[dict] | None = None) -> list[Path]:
    """Write the run's figures into plots/ and return their paths (``records``: the run's metrics,
    where the caller has read them already)."""
    config = run.read_config()
    records = run.read_metrics() if records is None else records
    epochs = [r for r in records if r["kind"] == "epoch"]
    losses = [r["loss"] for r in records if r["kind"] == "step"]
    final = next((r for r in reversed(records) if r["kind"] == "final"), None)
    made = []
    if losses:
        plots.plot_loss(losses, run.plots_dir / "loss.png", title=f"Training loss — {run.name}")
        made.append(run.plots_dir / "loss.png")
    if epochs:
        plots.plot_accuracy(epochs, run.plots_dir / "accuracy.png", title=f"Accuracy — {run.name}")
        made.append(run.plots_dir / "accuracy.png")
    checkpoint = run.best_checkpoint if run.best_checkpoint.is_file() else run.last_checkpoint
    input_shape = config.get("meta", {}).get("input_shape")
    if checkpoint.is_file() and input_shape and len(input_shape) == 3:
        tensors, _ = read_checkpoint(checkpoint)
        first = next((v for k, v in tensors.items() if k.startswith("model.") and v.ndim in (2, 4)), None)
        if first is not None and first.ndim == 4:  # convolution filters, each shown as a C×k×k image
            plots.plot_weights(first.reshape(len(first), -1), first.shape[1:], run.plots_dir / "weights.png",
                               title="First-layer filters")
            made.append(run.plots_dir / "weights.png")
        elif first is not None and first.shape[1] == int(np.prod(input_shape)):
            plots.plot_weights(first, input_shape, run.plots_dir / "weights.png")
            made.append(run.plots_dir / "weights.png")
    if final and "confusion" in final:
        plots.plot_confusion(final["confusion"], config["meta"]["classes"], run.plots_dir / "confusion.png")
        made.append(run.plots_dir / "confusion.png")
    made += _layer_plots(run, epochs)
    if final and final.get("sample") and config.get("model", {}).get("kind") == "tiny_gpt" and checkpoint.is_file():
        made.append(_attention_plot(run, final["sample"]))
    return made


#: characters of the end-of-run sample whose attention a TinyGPT report draws (a readable picture; at
#: most the model's block_size)
ATTENTION_CHARACTERS = 32


def _attention_plot(run: Run, sample: str) -> Path:
    """Where each head of each layer of the run's TinyGPT looks, over the first characters of its sample."""
    from .. import viz
    from ..tensor import Tensor
    from .language import encode_prompt, load_tokenizer

    model = run.load_model()
    text = sample[:min(ATTENTION_CHARACTERS, model.block_size)]
    maps = model.attention_maps(Tensor(encode_prompt(load_tokenizer(run), text)))
    path = run.plots_dir / "attention.png"
    viz.attention_map(maps, list(text), None, path, title=f"Attention of each head over the sample — {run.name}")
    return path


def _layer_summaries(epochs: list[dict]) -> tuple[list[dict], list[int]]:
    """The per-layer summaries of the epochs that recorded them (``[train] monitor_every``), and their epochs."""
    recorded = [r for r in epochs if r.get("layers")]
    return [r["layers"] for r in recorded], [r["epoch"] for r in recorded]


def _layer_plots(run: Run, epochs: list[dict]) -> list[Path]:
    """Gradient norms per layer over the epochs and the layers' outputs, where the run recorded them."""
    from .. import viz

    summaries, numbers = _layer_summaries(epochs)
    made = []
    if any("grad_rms" in layer for s in summaries for layer in s.values()):
        viz.plot_gradient_norms(summaries, run.plots_dir / "gradient_norms.png", epochs=numbers,
                                title="Gradient per weight, layer by layer", key="grad_rms")
        made.append(run.plots_dir / "gradient_norms.png")
    if any("act_mean" in layer for s in summaries for layer in s.values()):
        viz.plot_activation_stats(summaries, run.plots_dir / "layer_outputs.png", epochs=numbers)
        made.append(run.plots_dir / "layer_outputs.png")
    return made


def _layers_section(epochs: list[dict]) -> list[str]:
    """The report's table of what each watched layer did in the first and last recorded epoch, with
    the ratio of the last to the first layer's gradient norm (a vanishing gradient: a large ratio)."""
    summaries, numbers = _layer_summaries(epochs)
    if not summaries:
        return []
    first, last = summaries[0], summaries[-1]
    names = list(last) or list(first)
    lines = ["", "## Layers", "", f"Recorded every `train.monitor_every` steps, averaged per epoch (epochs "
             f"{numbers[0]} and {numbers[-1]}):", "",
             f"| layer | class | ‖dL/dθ‖ epoch {numbers[0]} | ‖dL/dθ‖ epoch {numbers[-1]} | "
             f"‖dL/dθ‖/√n epoch {numbers[-1]} | "
             f"saturated outputs, epoch {numbers[-1]} | zero outputs, epoch {numbers[-1]} |",
             "|---|---|---|---|---|---|---|"]
    for name in names:
        a, b = first.get(name, {}), last.get(name, {})
        activation = "grad_norm" not in b and "grad_norm" not in a  # a layer without parameters
        cells = [_fmt_small(a.get("grad_norm")), _fmt_small(b.get("grad_norm")), _fmt_small(b.get("grad_rms")),
                 _fmt_share(b.get("act_saturated")), _fmt_share(b.get("act_zeros") if activation else None)]
        lines.append(f"| {name} | {b.get('layer', a.get('layer', '?'))} | " + " | ".join(cells) + " |")
    ratios = gradient_ratios(epochs)
    if ratios is not None:
        (last_layer, first_layer), at_first, at_last = ratios
        lines += ["", f"Gradient per weight (‖dL/dθ‖/√n) of the last layer with parameters ({last_layer}) over "
                  f"the first's ({first_layer}): {at_first:.3g}× in epoch {numbers[0]}, {at_last:.3g}× in epoch "
                  f"{numbers[-1]} (far above 1: the gradient vanishes on its way to the input)."]
    return lines


def gradient_ratios(epochs: list[dict]):
    """((last layer, first layer), ratio in the first recorded epoch, ratio in the last) of the last
    over the first layer's gradient per weight (``grad_rms``: a wide first layer's norm is large for its
    many weights alone), among the layers with parameters; None where fewer than two recorded it."""
    summaries, _ = _layer_summaries(epochs)
    if not summaries:
        return None
    first, last = summaries[0], summaries[-1]
    with_grads = [n for n in last if "grad_rms" in first.get(n, {}) and "grad_rms" in last[n]]
    if len(with_grads) < 2:
        return None
    top, bottom = with_grads[-1], with_grads[0]
    return ((top, bottom), *(s[top]["grad_rms"] / max(s[bottom]["grad_rms"], 1e-300) for s in (first, last)))


def _fmt_small(value) -> str:
    return "—" if value is None else f"{value:.3g}"


def _fmt_share(value) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


#: the ``[model]`` settings each kind of model is built from (models.from_config): a report lists only these
MODEL_KEYS = {"mlp": ("kind", "hidden", "activation", "init", "init_scale", "dropout"),
              "small_cnn": ("kind", "widths", "hidden", "batch_norm"),
              "vgg": ("kind",),
              "char_rnn": ("kind", "embed_dim", "hidden_size", "num_layers", "dropout", "tie_weights"),
              "tiny_gpt": ("kind", "n_layer", "n_head", "n_embd", "block_size", "dropout", "bias")}
#: the ``[data]`` settings of image data sets, which a text corpus's report leaves out
IMAGE_DATA_KEYS = ("split", "val_size", "split_seed", "stratified", "preprocess", "pixel_scale", "augment")
#: the rows of a report's results table, (summary key, label); a language model's come first
LANGUAGE_ROWS = (("final_train_loss", "final training loss (nats per token)"),
                 ("train_bpc", "final training bits per character"), ("train_perplexity", "final training perplexity"),
                 ("final_val_loss", "final validation loss (nats per token)"),
                 ("val_bpc", "final validation bits per character"), ("val_perplexity", "final validation perplexity"),
                 ("test_loss", "test loss (nats per token, final weights)"),
                 ("test_bpc", "test bits per character (final weights)"),
                 ("test_perplexity", "test perplexity (final weights)"),
                 ("best_test_bpc", "test bits per character (best weights)"),
                 ("final_val_acc", "final validation accuracy (next token)"))
ROWS = (("final_train_acc", "final training accuracy (fixed sample)"),
        ("final_val_acc", "final validation accuracy"), ("best_val_acc", "best validation accuracy"),
        ("best_epoch", "epoch of the best validation accuracy"),
        ("test_acc", "test accuracy (final weights)"), ("best_test_acc", "test accuracy (best weights)"),
        ("final_train_loss", "final training loss"), ("final_val_loss", "final validation loss"),
        ("parameters", "parameters"), ("epochs", "epochs"), ("steps", "steps"),
        ("seconds", "training time (s)"))


def write_report(run: Run, with_plots: bool = True) -> Path:
    """Regenerate ``report.md`` (and its figures) from the run folder."""
    config = run.read_config()
    records = run.read_metrics()
    figures = make_plots(run, records) if with_plots else sorted(run.plots_dir.glob("*.png"))
    s = summarize(run.name, records)
    meta = config.get("meta", {})
    lines = [f"# Run {run.name}", ""]
    if "status" not in s:  # no final record: it was stopped (or is still training)
        t = config.get("train", {})
        done = (f"{s['epochs']} epoch(s), {s['steps']} of {t['steps']} steps" if t.get("steps")
                else f"{s['epochs']} of {t.get('epochs')} epoch(s), {s['steps']} steps")
        lines += [f"**Status: unfinished — {done}; continue it with `nablab train --resume {run.path}`**", ""]
    elif s["status"] != "finished":
        lines += [f"**Status: {s['status']}**", ""]
    lines += ["## Results", "", "| metric | value |", "|---|---|"]
    language = "train_bpc" in s
    rows = LANGUAGE_ROWS + tuple(r for r in ROWS if r[0] not in dict(LANGUAGE_ROWS)) if language else ROWS
    for key, label in rows:
        if key in s and s[key] is not None:
            lines.append(f"| {label} | {_fmt(s[key])} |")
    if "sample" in s:
        lines += ["", "## Sample", "", f"Generated at the end of the run ({s['sample_settings']}) after the prompt "
                  f"{s['sample_prompt']!r}:", "", "```text", s["sample"], "```"]
    lines += _layers_section([r for r in records if r["kind"] == "epoch"])
    lines += ["", "## Settings", "", "| setting | value |", "|---|---|"]
    text = config.get("model", {}).get("kind") in LANGUAGE_MODELS
    for section in ("data", "model", "optim", "train"):
        for key, value in config.get(section, {}).items():
            if section == "data" and key in (IMAGE_DATA_KEYS if text else ("seq_len", "tokenizer")):
                continue
            if section != "model" or key in MODEL_KEYS.get(config["model"].get("kind"), (key,)):
                lines.append(f"| {section}.{key} | {value} |")
    lines.append(f"| seed | {config.get('seed')} |")
    lines += ["", f"nablab {meta.get('nablab', '?')}; data from `{meta.get('data_source', '?')}`, "
              f"split: {meta.get('data_split', '?')}.", ""]
    if figures:
        lines += ["## Figures", ""]
        lines += [f"![{p.stem}](plots/{p.name})" for p in figures]
        lines.append("")
    write_text(run.report_path, "\n".join(lines))
    return run.report_path


def write_comparison(runs: list[Run], out_dir, title="Comparison", labels=None) -> Path:
    """One table of every run's results and overlaid curves (labelled with ``labels``, default the
    run names), in ``out_dir/compare.md``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    labels = labels or [r.name for r in runs]
    records = [r.read_metrics() for r in runs]
    rows = [summarize(r.name, metrics) for r, metrics in zip(runs, records)]
    keys = ["final_train_acc", "best_val_acc", "test_acc", "best_test_acc", "final_train_loss", "parameters",
            "epochs", "seconds"]
    lines = [f"# {title}", "", "| run | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for row in rows:
        lines.append(f"| {row['run']} | " + " | ".join(_fmt(row.get(k)) for k in keys) + " |")
    curves = [(label, [m for m in metrics if m["kind"] == "epoch"]) for label, metrics in zip(labels, records)]
    plots.plot_compare(curves, out_dir / "compare_val_acc.png", title=f"{title}: validation accuracy")
    losses = [(label, [m["loss"] for m in metrics if m["kind"] == "step"]) for label, metrics in zip(labels, records)]
    plots.plot_compare_loss(losses, out_dir / "compare_loss.png", title=f"{title}: training loss")
    lines += ["", "![validation accuracy](compare_val_acc.png)", "", "![training loss](compare_loss.png)", ""]
    path = out_dir / "compare.md"
    write_text(path, "\n".join(lines))
    return path
