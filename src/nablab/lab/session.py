"""One training run from a configuration, start to finish: run folder, training, final test
evaluation, figures and report — or the continuation of an interrupted run (``resume``).

A language model on a text corpus is built by :mod:`nablab.lab.language`: its folder keeps the
tokenizer instead of preprocessing statistics, its records add bits per character and perplexity,
and its final record a sample of generated text instead of a confusion matrix."""

from __future__ import annotations

import datetime as _dt
import shutil

import numpy as np

from .. import __version__
from ..backend import to_host
from ..device import model_device
from ..grad_mode import no_grad
from ..io import safetensors_file
from ..nn import count_parameters
from ..nn.modes import evaluating
from . import language
from .config import build, resolve, resolve_saved
from .evaluate import evaluate
from .report import summarize, write_report
from .run import Run, RunError
from .settings import LANGUAGE_MODELS
from .trainer import Trainer, TrainingDiverged, TrainingSettings


def _confusion(model, loader, num_classes):
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    device = model_device(model)
    with evaluating(model), no_grad():
        for x, y in loader:
            pred = model(x.to(device)).data.argmax(axis=1)
            np.add.at(matrix, (to_host(y.data), to_host(pred)), 1)
    return matrix


def _save_preprocessing(run: Run, transform) -> None:
    state = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in transform.state_dict().items()}
    safetensors_file.write(run.path / "preprocessing.safetensors", state,
                           {"format": safetensors_file.PREPROCESSING_FORMAT, "transform": repr(transform)})


def _load_preprocessing(run: Run, transform) -> None:
    path = run.path / "preprocessing.safetensors"
    if transform is not None and path.is_file():
        transform.load_state_dict(safetensors_file.read(path)[0])


def _is_language(config: dict) -> bool:
    return config["model"]["kind"] in LANGUAGE_MODELS


def _build(config: dict, progress: bool):
    """The data, loaders, model, optimizer, schedule and penalty of a run (a language model's from its corpus)."""
    return language.build(config, progress) if _is_language(config) else build(config, progress=progress)


def _meta(config: dict, parts) -> dict:
    """What a new run's ``meta`` table records about its data and preprocessing."""
    ds, (train_tf, _), *_ = parts
    if _is_language(config):
        return language.meta(ds, config["data"]["seq_len"])
    return {"data_source": ds.info.get("source", ""), "data_split": ds.info.get("split", ""),
            "data_checksums": ds.info.get("checksums", {}), "classes": ds.classes,
            "input_shape": list(ds.input_shape), "preprocessing": repr(train_tf),
            "sizes": {"train": len(ds.train), "val": len(ds.val), "test": len(ds.test)}}


#: the settings ``resume`` may change, and why they may: they change how a run is carried on, not what it computes
RESUMABLE = {("train", "epochs"): "to train longer or shorter", ("train", "steps"): "to train longer or shorter",
             ("train", "checkpoint_every"): "how often it checkpoints",
             ("train", "monitor_every"): "how often it records the layers' statistics",
             ("train", "device"): "where it trains", ("train", "sync_every"): "how often it reads the device",
             ("data", "data_dir"): "where its data is"}


def train(config: dict | None = None, runs_root="runs", resume=None, progress: bool = True, log=print,
          plots: bool = True, on_epoch=None):
    """Train as ``config`` says (or continue the run folder ``resume``); returns (run, summary dict).

    With ``resume``, ``config`` holds only the settings the user gave again (None: none): each
    must equal the run's own, except those of :data:`RESUMABLE` (a larger ``train.epochs``
    trains a finished run longer). A finished run is not trained again (:class:`RunError`).
    The run folder is locked while it trains: a second writer is a :class:`RunError` naming
    the process that holds it. ``on_epoch(record)`` is passed to the :class:`Trainer`.
    """
    if resume is not None:
        return _resume(Run(resume), config or {}, progress, log, plots, on_epoch)
    config = resolve(config)
    parts = _build(config, progress)  # the data and the model before any folder exists
    ds, (train_tf, _), *_ = parts
    trainer = _trainer(config, parts, progress, log, on_epoch)
    meta = {"nablab": __version__, "created": _dt.datetime.now().isoformat(timespec="seconds"), **_meta(config, parts)}

    def setup(staged: Run) -> None:
        if _is_language(config):
            language.save_tokenizer(staged, ds.tokenizer)
        else:
            _save_preprocessing(staged, train_tf)

    run = Run.create(runs_root, config["name"], config={**config, "meta": meta}, setup=setup)
    try:
        trainer.run = run
        if log is not None:
            log(f"run folder: {run.path}")
        try:
            return _finish(run, config, parts, trainer, plots)
        except BaseException as exc:
            if not isinstance(exc, TrainingDiverged) and not run.metrics_path.exists():
                run.release()  # it failed before it recorded a step: leave no folder that holds nothing
                shutil.rmtree(run.path, ignore_errors=True)
            raise
    finally:
        run.release()


def _resume(run: Run, requested: dict, progress, log, plots, on_epoch):
    run.read_config()  # a folder that is not a run is told so, and gets no lock file
    run.acquire()
    try:
        run.remove_temp_files()
        saved = run.read_config()
        meta = saved.pop("meta", {})
        config = resolve_saved(saved)
        changed = _changes(run, config, requested)
        final = run.final_record()
        if final is not None:
            _refuse_finished(run, config, changed, final)
        for (section, key), value in changed.items():
            config[section][key] = value
        parts = _build(config, progress)
        _load_preprocessing(run, parts[1][0])
        trainer = _trainer(config, parts, progress, log, on_epoch)
        trainer.run = run
        from_checkpoint = trainer.resume()
        if trainer.state["epoch"] > trainer.epochs:
            raise RunError(f"{run.path} has trained {trainer.state['epoch']} epochs already: train.epochs "
                           f"{trainer.epochs} would end it before where it is; give at least {trainer.state['epoch']}")
        if changed:
            run.write_config({**config, "meta": meta})
        if log is not None:
            log(_continues(run, trainer, from_checkpoint, changed, final))
        return _finish(run, config, parts, trainer, plots)
    finally:
        run.release()


def _changes(run: Run, config: dict, requested: dict) -> dict:
    """The resumable settings ``requested`` changes, {(section, key): new value}; a :class:`RunError` for others."""
    wanted = resolve(requested)  # checks the keys and values the same way as for a new run
    refused, changed = [], {}
    for section, values in requested.items():
        if section == "name":
            continue  # a name only names a new folder
        pairs = values.items() if isinstance(values, dict) else [(None, values)]
        for key, _ in pairs:
            new = wanted[section][key] if key is not None else wanted[section]
            old = config[section][key] if key is not None else config[section]
            if _same(new, old):
                continue
            label = section if key is None else f"{section}.{key}"
            if (section, key) in RESUMABLE:
                changed[section, key] = new
            else:
                refused.append(f"{label} {old!r} → {new!r}")
    if refused:
        allowed = ", ".join(f"{s}.{k} ({why})" for (s, k), why in RESUMABLE.items())
        raise RunError(f"{run.path} cannot be resumed with other settings ({'; '.join(refused)}): a resumed run "
                       f"continues with the settings of its config.toml. Only {allowed} may change; "
                       "start a new run for the others")
    if ("train", "epochs") in changed and config["optim"]["schedule"] == "cosine":
        raise RunError(f"{run.path} has a cosine schedule, which its train.epochs ({config['train']['epochs']}) "
                       "fixes: it cannot be trained longer; start a new run")
    return changed


def _same(a, b) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def _refuse_finished(run: Run, config: dict, changed: dict, final: dict) -> None:
    """A finished run is trained again only to extend it (more epochs or steps); anything else is a RunError."""
    epochs = sum(1 for r in run.read_metrics() if r.get("kind") == "epoch")
    done = f"{run.path} has already finished ({epochs} epoch(s), {final.get('step', 0)} steps"
    status = final.get("status", "finished")
    if status != "finished":
        raise RunError(f"{done}; it stopped: {status}) and resuming it would only diverge again: start a new run "
                       "with a smaller learning rate")
    t = config["train"]  # its own settings, before the changes
    if t["steps"]:
        key, planned, reached = "steps", t["steps"], final.get("step", 0)
    else:
        key, planned, reached = "epochs", t["epochs"], epochs
    if reached < planned:
        raise RunError(f"{done}; it stopped early, after {t['patience']} epoch(s) without a better validation "
                       "accuracy): there is nothing to resume; start a new run to train it differently")
    if changed.get(("train", key), reached) <= reached:
        raise RunError(f"{done}, test accuracy {final.get('test_acc', float('nan')):.4f}): there is nothing to "
                       f"resume. To train it longer, resume it with a larger train.{key} (--{key} N, N > {reached})")


def _continues(run: Run, trainer: Trainer, from_checkpoint: bool, changed: dict, final) -> str:
    """What a resumed run continues, in one line."""
    st = trainer.state
    extended = "".join(f", {s}.{k} now {v}" for (s, k), v in changed.items())
    if not from_checkpoint:
        return (f"resuming {run.path} from its start: it was stopped before its first checkpoint "
                f"(the settings of its config.toml{extended})")
    if final is not None:
        where = f"training the finished run on from epoch {st['epoch']} of {trainer.epochs}, step {st['step']}"
    elif st["epoch"] >= trainer.epochs or (trainer.max_steps is not None and st["step"] >= trainer.max_steps):
        where = f"its training is complete (step {st['step']}): evaluating it and writing its report"
    elif st["batch"]:
        where = f"continuing epoch {st['epoch'] + 1} of {trainer.epochs} at step {st['step']} (batch {st['batch']})"
    else:
        where = f"continuing with epoch {st['epoch'] + 1} of {trainer.epochs}, step {st['step']}"
    return f"resuming {run.path}: {where}, from {run.last_checkpoint.name}{extended}"


def _trainer(config: dict, parts, progress, log, on_epoch) -> Trainer:
    _, _, loaders, model, optimizer, scheduler, penalty = parts
    t = config["train"]
    model.to(t.get("device", "cpu"))  # the same parameters, which the optimizer holds, moved
    return Trainer(model, optimizer, loaders["train"], loaders["val"], TrainingSettings.from_config(t),
                   scheduler=scheduler, penalty=penalty, train_eval_loader=loaders.get("train_eval"),
                   progress=progress, log=log, on_epoch=on_epoch, language_model=_is_language(config))


def _finish(run: Run, config: dict, parts, trainer: Trainer, plots: bool):
    """Train to the end, then the final test evaluation, the final record and the report."""
    ds, _, loaders, model, *_ = parts
    final = {"kind": "final", "step": trainer.state["step"], "parameters": count_parameters(model)}
    try:
        trainer.fit()
        final["status"] = "finished"
    except TrainingDiverged as exc:
        final.update(status=f"diverged: {exc}", step=trainer.state["step"])
        run.log([final])
        write_report(run, with_plots=plots)
        raise
    final["step"] = trainer.state["step"]
    final["test_loss"], final["test_acc"] = evaluate(model, loaders["test"])
    if trainer.best_state is not None:
        trainer.use_best_weights()
        final["best_test_loss"], final["best_test_acc"] = evaluate(model, loaders["test"])
    if _is_language(config):  # the weights the run keeps (the best, else the last) write its sample
        final = language.with_language_metrics(final)
        final.update(language.end_of_run_sample(model, ds, config["seed"]))
    else:
        final["confusion"] = _confusion(model, loaders["test"], ds.num_classes).tolist()
    run.log([final])
    write_report(run, with_plots=plots)
    return run, summarize(run.name, [*trainer.records, final])  # what it computed, not re-read
