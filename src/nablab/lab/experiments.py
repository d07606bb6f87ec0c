"""Experiments that reproduce the course reports: ``nablab reproduce NAME [--quick]``.

An experiment is a TOML file in ``experiments/`` holding the published figures beside the
settings that produced them. Three kinds:

- ``toy``: the TwoLayerNet toy check (scores, loss, gradient-check table), no training;
- ``two_layer_net``: the reference TwoLayerNet trained with its own loop (the HLCV report);
- ``train``: one or more variants of a nablab configuration (``[base]`` merged with each
  ``[[variants]]`` entry's ``config``) trained by the :class:`Trainer`.

``[quick]`` holds overrides that make a small version for CI. A file is checked whole when it is
loaded — every top-level key, every variant and every setting, in the full and the quick form —
so a typo in the last variant is an error before the first one trains. The result is a folder with one
run folder per variant and ``report.md``: the published figures and ours side by side, with
the difference, and the variants' curves overlaid.
"""

from __future__ import annotations

import copy
import datetime as _dt
import re
import time
from pathlib import Path

import numpy as np

from .. import data
from ..atomic import write_text
from ..data import batch_transforms as transforms
from ..gradcheck import numerical_gradient, relative_error
from ..models import TwoLayerNet
from ..models.two_layer import toy_problem
from ..nn import count_parameters
from .budget import capped, capped_two_layer_net
from .checkpoint import save_checkpoint
from .config import resolve
from .report import gradient_ratios, write_comparison, write_report
from .run import Run, read_toml
from .session import train
from .settings import TWO_LAYER_NET, ConfigError, check_keys, validate_two_layer_net


class ExperimentError(ValueError):
    """An experiment file that cannot be found or read; the message says which and why."""


def experiment_dirs() -> list[Path]:
    """Where experiment files are looked for: the source tree's experiments/, then ./experiments."""
    return [Path(__file__).resolve().parents[3] / "experiments", Path.cwd() / "experiments"]


def find(name: str) -> Path:
    """The TOML file of experiment ``name`` (or a path to one)."""
    path = Path(name)
    if path.suffix == ".toml" and path.is_file():
        return path
    for folder in experiment_dirs():
        candidate = folder / f"{name}.toml"
        if candidate.is_file():
            return candidate
    raise ExperimentError(f"no experiment {name!r}; `nablab reproduce --list` shows them "
                          f"(looked in {', '.join(str(d) for d in experiment_dirs())})")


def read(path: Path) -> dict:
    """The TOML table of an experiment file; a syntax error names the file, line and column."""
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib
    try:
        return read_toml(path)
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path}: not valid TOML: {exc}") from None


def available() -> dict[str, str]:
    """Name → title of every experiment found."""
    found = {}
    for folder in experiment_dirs():
        for path in sorted(folder.glob("*.toml")):
            table = read(path)
            found.setdefault(path.stem, table.get("title", "") + (f" [sweep: nablab sweep {path.stem}]"
                                                                  if "sweep" in table else ""))
    return found


def merge(base: dict, override: dict) -> dict:
    """``base`` updated by ``override``, recursively for nested tables."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


#: the top-level keys an experiment file of each kind may hold
TOP_LEVEL = {"toy": ("title", "source", "kind", "notes", "published"),
             "two_layer_net": ("title", "source", "kind", "notes", "settings", "quick", "published", "sweep"),
             "train": ("title", "source", "kind", "notes", "metrics", "base", "variants", "quick", "published",
                       "sweep")}
VARIANT_KEYS = ("label", "config", "published")


def load(name: str, data_dir=None) -> dict:
    """The experiment ``name`` (a name in experiments/ or a TOML path), checked whole.

    ``data_dir`` is put into every configuration it trains (``--data-dir``).
    """
    path = find(name)
    spec = read(path)
    kind = spec.get("kind")
    if kind not in TOP_LEVEL:
        raise ExperimentError(f"{path}: kind must be 'toy', 'two_layer_net' or 'train', got {kind!r}")
    unknown = sorted(set(spec) - set(TOP_LEVEL[kind]))
    if unknown:
        raise ExperimentError(f"{path}: unknown top-level key(s) {', '.join(unknown)}; a {kind!r} experiment holds "
                              f"{', '.join(TOP_LEVEL[kind])}")
    for key in ("settings", "quick", "published", "sweep", "base"):
        if key in spec and not isinstance(spec[key], dict):
            raise ExperimentError(f"{path}: {key} must be a table ([{key}]), got {spec[key]!r}")
    if kind == "train" and not spec.get("variants") and "sweep" not in spec:
        raise ExperimentError(f"{path}: a 'train' experiment needs [[variants]] (or a [sweep] table)")
    if kind == "train" and "base" not in spec:
        raise ExperimentError(f"{path}: a 'train' experiment needs a [base] table: the settings its variants share "
                              "(e.g. [base.data] dataset = \"mnist\")")
    if data_dir is not None:
        if kind == "train":
            spec["base"] = merge(spec["base"], {"data": {"data_dir": str(data_dir)}})
        elif kind == "two_layer_net":
            spec["settings"] = {**spec.get("settings", {}), "data_dir": str(data_dir)}
    spec["name"] = path.stem
    spec["path"] = str(path)
    _check(spec, path)
    return spec


def _check(spec: dict, path: Path) -> None:
    """Every variant's configuration (full and quick form) is valid; else an ExperimentError naming it."""
    kind, sweep = spec["kind"], "sweep" in spec
    if kind == "two_layer_net":
        for label, settings in (("[settings]", spec.get("settings", {})),
                                ("[quick]", merge(spec.get("settings", {}), spec.get("quick", {})))):
            if sweep and label == "[quick]":
                continue  # a sweep's [quick] also holds its space: nablab.lab.sweep checks it
            try:
                two_layer_net_settings(settings)
            except ExperimentError as exc:
                raise ExperimentError(f"{path}: {label}: {exc}") from None
        return
    if kind != "train":
        return
    try:
        check_keys(spec["base"], "[base]")
        if not sweep:
            check_keys(spec.get("quick", {}), "[quick]")
    except ConfigError as exc:
        raise ExperimentError(f"{path}: {exc}") from None
    variants = spec.get("variants", [])
    if not isinstance(variants, list):
        raise ExperimentError(f"{path}: variants must be [[variants]] tables, got {variants!r}")
    labels = []
    for i, variant in enumerate(variants, 1):
        if not isinstance(variant, dict) or not isinstance(variant.get("label"), str):
            raise ExperimentError(f"{path}: variant {i} needs a label (label = \"…\")")
        label = variant["label"]
        unknown = sorted(set(variant) - set(VARIANT_KEYS))
        if unknown:
            raise ExperimentError(f"{path}: variant {label!r}: unknown key(s) {', '.join(unknown)}; a variant holds "
                                  f"{', '.join(VARIANT_KEYS)}")
        if label in labels:
            raise ExperimentError(f"{path}: two variants are labelled {label!r}")
        labels.append(label)
        for form, quick in (("", False), (" (quick form)", True)):
            try:
                resolve(variant_config(spec, variant, quick))
            except ConfigError as exc:
                raise ExperimentError(f"{path}: variant {label!r}{form}: {exc}") from None
    if sweep:
        try:
            resolve(spec["base"])
        except ConfigError as exc:
            raise ExperimentError(f"{path}: [base]: {exc}") from None


def variant_config(spec: dict, variant: dict, quick: bool) -> dict:
    """The configuration one variant trains: [base], its ``config``, then [quick] in the quick form."""
    config = merge(spec.get("base", {}), variant.get("config", {}))
    if quick:
        config = merge(config, spec.get("quick", {}))
    config["name"] = slug(f"{spec['name']}-{variant['label']}")
    return capped(config)  # NABLAB_MAX_EPOCHS / NABLAB_MAX_STEPS, for smoke runs


def slug(text: str) -> str:
    """A folder name from ``text``: letters, digits, ``.`` and ``_`` kept, every other run of characters one dash.

    ``"ntnu-mnist-+ fan-in init"`` → ``"ntnu-mnist-fan-in-init"``.
    """
    return re.sub(r"[^A-Za-z0-9._]+", "-", text).strip("-")


# ----------------------------------------------------------------- runners
def _run_toy(spec, out: Path, quick: bool, log) -> list[dict]:
    net, X, y = toy_problem()
    published = spec["published"]
    scores = net.loss(X)
    loss, grads = net.loss(X, y, reg=published.get("reg", 0.05))
    rows = [{"label": "softmax scores", "metric": "max abs difference",
             "published": 0.0, "ours": float(np.abs(scores - np.array(published["scores"])).max())},
            {"label": "loss (reg 0.05)", "metric": "loss", "published": published["loss"], "ours": float(loss)}]
    for key in ("W1", "b1", "W2", "b2"):
        numeric = numerical_gradient(lambda: net.loss(X, y, reg=0.05)[0], net.params[key], eps=1e-5)
        rows.append({"label": f"{key} gradient check", "metric": "max relative error",
                     "published": published.get("grad_errors", {}).get(key),
                     "ours": relative_error(grads[key], numeric), "bound": 1e-8})
    return rows


#: the settings of a ``two_layer_net`` experiment (the HLCV report's names) and their defaults
TWO_LAYER_NET_SETTINGS = {s.key: s.default for s in TWO_LAYER_NET}


def two_layer_net_settings(settings: dict) -> dict:
    """``settings`` over :data:`TWO_LAYER_NET_SETTINGS`; an unknown name or a bad value is an error naming it."""
    try:
        return validate_two_layer_net(settings)
    except ConfigError as exc:
        raise ExperimentError(str(exc)) from None


def load_two_layer_net_data(s: dict):
    """The data set and its preprocessing (raw pixels minus the training mean image, flattened)."""
    ds = data.load(s["dataset"], split=s["split"], data_dir=s["data_dir"])
    if s["limit_train"]:
        ds.train = data.Split(ds.train.x[: s["limit_train"]], ds.train.y[: s["limit_train"]])
    prep = transforms.Compose([transforms.SubtractMeanImage(s["pixel_scale"]), transforms.Flatten()])
    prep.fit(ds.train.x)
    return ds, prep


def train_two_layer_net(settings: dict, out, name: str, dataset=None, on_epoch=None) -> tuple[Run, dict]:
    """Train the reference TwoLayerNet with its own loop into a new run folder under ``out``.

    ``dataset`` is ``(ds, prep)`` from :func:`load_two_layer_net_data` (loaded here if None);
    ``on_epoch(epoch, val_acc)`` is called once per epoch (a sweep prunes from it).
    Returns the run and its final record (val_acc, test_acc, …).
    """
    s = capped_two_layer_net(two_layer_net_settings(settings))  # NABLAB_MAX_STEPS, for smoke runs
    ds, prep = dataset or load_two_layer_net_data(s)
    X, X_val, X_test = (prep(part.x) for part in (ds.train, ds.val, ds.test))
    np.random.seed(s["seed"])  # noqa: NPY002 - the reference draws from NumPy's global generator
    net = TwoLayerNet(X.shape[1], s["hidden_size"], ds.num_classes, std=s["std"])
    run = Run.create(out, name)
    run.write_config({"name": name, "seed": s["seed"], "two_layer_net": {k: v for k, v in s.items() if v is not None},
                      "meta": {"data_source": ds.info.get("source"), "data_split": ds.info.get("split"),
                               "classes": ds.classes, "input_shape": list(ds.input_shape), "preprocessing": repr(prep),
                               "created": _dt.datetime.now().isoformat(timespec="seconds")}})
    start = time.perf_counter()
    history = net.train(X, ds.train.y, X_val, ds.val.y, learning_rate=s["learning_rate"],
                        learning_rate_decay=s["learning_rate_decay"], reg=s["reg"], num_iters=s["num_iters"],
                        batch_size=s["batch_size"], on_epoch=on_epoch)
    seconds = time.perf_counter() - start
    per_epoch = max(X.shape[0] // s["batch_size"], 1)
    steps = [{"kind": "step", "step": i + 1, "loss": loss} for i, loss in enumerate(history["loss_history"])]
    epoch_steps = [i + 1 for i in range(s["num_iters"]) if i % per_epoch == 0]
    epochs = [{"kind": "epoch", "epoch": e + 1, "step": st, "train_batch_acc": tr, "val_acc": va,
               "seconds": seconds * st / s["num_iters"], "lr": s["learning_rate"] * s["learning_rate_decay"] ** e}
              for e, (st, tr, va) in enumerate(zip(epoch_steps, history["train_acc_history"],
                                                   history["val_acc_history"]))]
    epochs[-1]["seconds"] = seconds
    for e in range(len(epochs) - 1, 0, -1):
        epochs[e]["seconds"] -= epochs[e - 1]["seconds"]
    val_acc = float((net.predict(X_val) == ds.val.y).mean())
    test_pred = net.predict(X_test)
    confusion = np.zeros((ds.num_classes, ds.num_classes), dtype=np.int64)
    np.add.at(confusion, (ds.test.y, test_pred), 1)
    module = net.to_module()
    final = {"kind": "final", "step": s["num_iters"], "status": "finished", "val_acc": val_acc,
             "test_acc": float((test_pred == ds.test.y).mean()), "parameters": count_parameters(module),
             "confusion": confusion.tolist(), "seconds": seconds}
    run.log(sorted(steps + epochs, key=lambda r: (r["step"], r["kind"] == "epoch")) + [final])
    save_checkpoint(run.last_checkpoint, module)
    write_report(run)
    return run, final


def _run_two_layer_net(spec, out: Path, quick: bool, log) -> list[dict]:
    settings = merge(spec["settings"], spec.get("quick", {}) if quick else {})
    run, final = train_two_layer_net(settings, out, spec["name"])
    published = spec.get("published", {})
    return [{"label": spec["name"], "metric": metric, "published": published.get(metric), "ours": final[metric],
             "run": run.name} for metric in ("val_acc", "test_acc")]


def _run_train(spec, out: Path, quick: bool, log) -> list[dict]:
    rows = []
    for variant in spec["variants"]:
        config = variant_config(spec, variant, quick)
        if log is not None:
            log(f"== {variant['label']}")
        run, result = train(config, runs_root=out, progress=False, log=log)
        ours = {"val_acc": result.get("final_val_acc"), "best_val_acc": result.get("best_val_acc"),
                "test_acc": result.get("test_acc"), "best_test_acc": result.get("best_test_acc"),
                "train_acc": result.get("final_train_acc")}
        ours.update({k: result[k] for k in LANGUAGE_METRICS if k in result})
        epochs = [r for r in run.read_metrics() if r["kind"] == "epoch"]
        for r in epochs:  # "val_acc@3": the validation accuracy after epoch 3 (how fast a variant learns)
            ours[f"val_acc@{r['epoch']}"] = r.get("val_acc")
        published = variant.get("published", {})
        for metric in dict.fromkeys([*spec.get("metrics", []), *published, "val_acc", "test_acc"]):
            if metric in ours:
                rows.append({"label": variant["label"], "metric": metric, "published": published.get(metric),
                             "ours": ours[metric], "run": run.name, "parameters": result.get("parameters"),
                             "seconds": result.get("seconds"), "sample": result.get("sample")})
    return rows


#: what a language model's run adds to the metrics an experiment can compare (see nablab.lab.language)
LANGUAGE_METRICS = ("val_bpc", "val_perplexity", "train_bpc", "test_bpc", "test_perplexity", "best_test_bpc")


RUNNERS = {"toy": _run_toy, "two_layer_net": _run_two_layer_net, "train": _run_train}


def _cell(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e-3 and value != 0 else f"{value:.4f}"
    return str(value)


def published_and_ours(published, ours) -> tuple[str, str]:
    """The published figure with the digits it was published with, and ours at the same precision.

    A TOML float's shortest round-trip form (``repr``) is the figure as written in the experiment
    file: ``1.30378789133`` stays 1.30378789133 and ours gets 11 decimals too; ``1.2e-08`` gives ours
    two significant digits. Without a published float, ours is shown as :func:`_cell` shows it.
    """
    if not isinstance(published, float) or isinstance(ours, bool) or not isinstance(ours, (int, float)):
        return _cell(published), _cell(ours)
    written = repr(published)
    if "e" in written or "E" in written:
        mantissa = written.lower().split("e")[0]
        digits = len(mantissa.replace("-", "").replace(".", "").lstrip("0")) or 1
        return written, f"{ours:.{digits - 1}e}"
    decimals = len(written.split(".")[1]) if "." in written else 0
    return written, f"{ours:.{decimals}f}"


def select_variants(spec: dict, wanted) -> dict:
    """``spec`` keeping only the variants whose label starts with one of ``wanted`` (all if empty)."""
    if not wanted:
        return spec
    if spec["kind"] != "train":
        raise ExperimentError(f"{spec['name']} has no variants to choose from (kind {spec['kind']!r})")
    labels = [variant["label"] for variant in spec["variants"]]
    unmatched = [w for w in wanted if not any(label.startswith(w) for label in labels)]
    if unmatched:
        raise ExperimentError(f"{spec['name']} has no variant labelled {', '.join(map(repr, unmatched))}; "
                              f"its variants: {', '.join(map(repr, labels))}")
    chosen = [v for v in spec["variants"] if any(v["label"].startswith(w) for w in wanted)]
    return {**spec, "variants": chosen}


def _gradient_pictures(out: Path, labels: dict) -> list[str]:
    """For the variants that recorded their layers (``train.monitor_every``): the ratio of the last to
    the first layer's gradient norm, and each one's picture of the gradient norms through the depth."""
    recorded = {}
    for name, label in labels.items():
        ratios = gradient_ratios([r for r in Run(out / name).read_metrics() if r["kind"] == "epoch"])
        if ratios is not None:
            recorded[name] = (label, ratios)
    if not recorded:
        return []
    lines = ["", "## Gradients through the depth", "", "Each run's gradient per weight (‖dL/dθ‖/√n) of its last "
             "layer with parameters over its first's, averaged over the steps sampled in an epoch (a vanishing "
             "gradient: far above 1):", "", "| variant | first epoch | last epoch |", "|---|---|---|"]
    lines += [f"| {label} | {first:.3g}× | {last:.3g}× |" for label, (_, first, last) in recorded.values()]
    for name, (label, _) in recorded.items():
        if (out / name / "plots" / "gradient_norms.png").is_file():
            lines += ["", f"**{label}**", "", f"![{label}: gradient norm per layer]({name}/plots/gradient_norms.png)"]
    return lines


def reproduce(name: str, out_root="runs/reproduce", quick: bool = False, log=print, variants=(),
              data_dir=None) -> Path:
    """Run experiment ``name`` and write its report; returns the report's path.

    ``variants``: labels (or their beginnings) of the variants to run; all when empty. ``data_dir``:
    the folder holding the data set's files (else NABLAB_DATA, the cache, …).
    """
    spec = load(name, data_dir=data_dir)
    if "sweep" in spec:
        raise ExperimentError(f"{spec['name']} is a hyperparameter search: run it with `nablab sweep {spec['name']}`")
    spec = select_variants(spec, variants)
    out = Path(out_root) / f"{spec['name']}{'-quick' if quick else ''}-{_dt.datetime.now():%Y%m%d-%H%M%S}"
    out.mkdir(parents=True, exist_ok=False)
    start = time.perf_counter()
    rows = RUNNERS[spec["kind"]](spec, out, quick, log)
    seconds = time.perf_counter() - start
    lines = [f"# {spec.get('title', spec['name'])}{' (quick form)' if quick else ''}", "",
             f"Source: {spec.get('source', '—')}", "", spec.get("notes", "").strip(), "",
             "## Published and ours", "", "| variant | metric | published | ours | difference |",
             "|---|---|---|---|---|"]
    for row in rows:
        pub, ours = row["published"], row["ours"]
        diff = ours - pub if isinstance(pub, (int, float)) and isinstance(ours, (int, float)) else None
        shown_pub, shown_ours = published_and_ours(pub, ours)
        lines.append(f"| {row['label']} | {row['metric']} | {shown_pub} | {shown_ours} | "
                     f"{'—' if diff is None else f'{diff:+.4f}' if abs(diff) >= 1e-3 else f'{diff:+.2g}'} |")
    if quick:
        lines += ["", "*Quick form: a small version for CI; its numbers are not comparable with the published "
                      "ones.*"]
    samples = {row["label"]: row["sample"] for row in rows if row.get("sample")}
    if samples:
        lines += ["", "## Samples", "", "Generated by each variant's model at the end of its run:"]
        for label, text in samples.items():
            lines += ["", f"**{label}**", "", "```text", text, "```"]
    labels = {row["run"]: row["label"] for row in rows if "run" in row}  # in the variants' order
    if labels:
        lines += ["", "## Runs", ""] + [f"- {label}: [{name}]({name}/report.md)" for name, label in labels.items()]
        if len(labels) > 1:
            write_comparison([Run(out / name) for name in labels], out, title=spec["name"],
                             labels=list(labels.values()))
            lines += ["", "![validation accuracy](compare_val_acc.png)", "", "![training loss](compare_loss.png)"]
    lines += _gradient_pictures(out, labels)
    lines += ["", f"Total time: {seconds:.0f} s.", ""]
    report = out / "report.md"
    write_text(report, "\n".join(lines))
    if log is not None:
        log("\n".join(lines[lines.index("## Published and ours"):]))
    return report
