"""One training run from a configuration, start to finish: run folder, training, final test
evaluation, figures and report — or the continuation of an interrupted run (``resume``)."""

from __future__ import annotations

import datetime as _dt

import numpy as np

from .. import __version__
from ..grad_mode import no_grad
from ..nn import count_parameters
from .config import build, resolve, resolve_saved
from .evaluate import evaluate
from .report import summary, write_report
from .run import Run
from .trainer import Trainer, TrainingDiverged


def _confusion(model, loader, num_classes):
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    model.eval()
    with no_grad():
        for x, y in loader:
            pred = model(x).data.argmax(axis=1)
            np.add.at(matrix, (np.asarray(y.data), np.asarray(pred)), 1)
    model.train()
    return matrix


def _save_preprocessing(run: Run, transform) -> None:
    from safetensors.numpy import save_file

    from ..atomic import atomic_path

    state = {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in transform.state_dict().items()}
    with atomic_path(run.path / "preprocessing.safetensors") as tmp:
        save_file(state, str(tmp), metadata={"transform": repr(transform)})


def _load_preprocessing(run: Run, transform) -> None:
    from safetensors.numpy import load_file

    path = run.path / "preprocessing.safetensors"
    if path.is_file():
        transform.load_state_dict(load_file(str(path)))


def train(config: dict | None = None, runs_root="runs", resume=None, progress: bool = True, log=print,
          plots: bool = True, on_epoch=None):
    """Train as ``config`` says (or continue the run folder ``resume``); returns (run, summary dict).

    ``on_epoch(record)`` is passed to the :class:`Trainer` (called after every epoch).
    """
    if resume is not None:
        run = Run(resume)
        saved = run.read_config()
        saved.pop("meta", None)
        config = resolve_saved(saved)
    else:
        config = resolve(config)
        run = Run.create(runs_root, config["name"])
    ds, (train_tf, eval_tf), loaders, model, optimizer, scheduler, penalty = build(config, progress=progress)
    if resume is not None:
        _load_preprocessing(run, train_tf)
    else:
        _save_preprocessing(run, train_tf)
        meta = {"nablab": __version__, "created": _dt.datetime.now().isoformat(timespec="seconds"),
                "data_source": ds.info.get("source", ""), "data_split": ds.info.get("split", ""),
                "data_checksums": ds.info.get("checksums", {}), "classes": ds.classes,
                "input_shape": list(ds.input_shape), "preprocessing": repr(train_tf),
                "sizes": {"train": len(ds.train), "val": len(ds.val), "test": len(ds.test)}}
        run.write_config({**config, "meta": meta})
    t = config["train"]
    trainer = Trainer(model, optimizer, loaders["train"], loaders["val"], epochs=t["epochs"], max_steps=t["steps"],
                      scheduler=scheduler,
                      penalty=penalty, grad_clip=t["grad_clip"], patience=t["patience"],
                      train_eval_loader=loaders.get("train_eval"), run=run, checkpoint_every=t["checkpoint_every"],
                      progress=progress, log=log, on_epoch=on_epoch)
    if resume is not None:
        trainer.resume()
        if log is not None:
            log(f"resumed {run.path} at epoch {trainer.state['epoch'] + 1}, step {trainer.state['step']}")
    elif log is not None:
        log(f"run folder: {run.path}")
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
    final["confusion"] = _confusion(model, loaders["test"], ds.num_classes).tolist()
    run.log([final])
    write_report(run, with_plots=plots)
    return run, summary(run)
