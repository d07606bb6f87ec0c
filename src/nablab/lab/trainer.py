"""``Trainer``: the training loop of the lab.

Per step: forward, loss (+ an optional penalty such as the reports' L2), backward, optional
gradient-norm clipping, optimizer step. A language model's logits (N, T, V) are scored against the
next tokens (N, T): the loss is the mean over all N·T tokens, and the epoch's means weight each
batch by its tokens (:func:`nablab.lab.evaluate.per_token`); with ``language_model`` the epoch
records also give every loss in bits per character and as a perplexity.

Per epoch: accuracy on a fixed sample of the training set (as the reports measure it), validation
loss and accuracy, the learning-rate schedule, the best-validation weights, optional early
stopping, and a checkpoint. With a :class:`Run`, every
step and epoch is logged to metrics.jsonl and checkpoints are written atomically, so a killed
run resumes (:meth:`Trainer.resume`) to exactly the weights an uninterrupted run reaches.

Divergence: training stops (:class:`TrainingDiverged`) at the first step whose loss is not finite
or exceeds ``divergence_factor`` (default 100) times the first epoch's mean loss — during the
first epoch, the mean of its steps so far. The step is not taken, and the message says which
rule fired and which checkpoint is kept.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np

from ..backend import get_array_module, read
from ..device import model_device
from ..nn import functional as F
from ..nn.utils import clip_grad_norm_
from .checkpoint import CheckpointError, load_checkpoint, model_state, read_checkpoint, save_checkpoint
from .evaluate import evaluate, per_token
from .language import with_language_metrics
from .monitor import LayerMonitor
from .progress import progress_bar
from .run import RunError

#: how many steps a GPU trains between two reads of the losses, unless ``sync_every`` says
GPU_SYNC_EVERY = 50


class TrainingDiverged(RuntimeError):
    """The loss became NaN, infinite or far above the first epoch's; the message says where and what to try."""


@dataclass(frozen=True)
class TrainingSettings:
    """How long and how carefully to train: the ``[train]`` settings the loop itself reads.

    ``epochs``; ``max_steps`` (stop after this many steps, inside an epoch if need be: the reports
    count iterations, not epochs); ``grad_clip`` (max gradient norm); ``patience`` (stop after this
    many epochs without a better validation accuracy); ``checkpoint_every`` (also checkpoint every
    N steps); ``divergence_factor`` (stop when a step's loss exceeds this multiple of the first
    epoch's mean loss; None: only a non-finite loss); ``monitor_every`` (record per-layer gradient
    norms and activation statistics every N steps with a :class:`~nablab.lab.monitor.LayerMonitor`,
    averaged per epoch into the epoch record's ``layers``; None: not recorded); ``sync_every`` (read
    the step losses from the model's device every N steps, in one download; None: every step on the
    CPU, where reading costs nothing, and every 50 on a GPU, which waits at each read).
    """

    epochs: int = 10
    max_steps: int | None = None
    grad_clip: float | None = None
    patience: int | None = None
    checkpoint_every: int | None = None
    divergence_factor: float | None = 100.0
    monitor_every: int | None = None
    sync_every: int | None = None

    def __post_init__(self):
        if self.divergence_factor is not None and not self.divergence_factor > 1:
            raise ValueError(f"divergence_factor must be a number above 1 (or None), got {self.divergence_factor!r}")

    @classmethod
    def from_config(cls, train: dict) -> TrainingSettings:
        """The settings of a resolved config's ``[train]`` table (``steps`` is ``max_steps`` here)."""
        return cls(epochs=train["epochs"], max_steps=train["steps"], grad_clip=train["grad_clip"],
                   patience=train["patience"], checkpoint_every=train["checkpoint_every"],
                   divergence_factor=train.get("divergence_factor", 100.0),
                   monitor_every=train.get("monitor_every"), sync_every=train.get("sync_every"))


class Trainer:
    """Train ``model`` with cross-entropy on ``train_loader``, as ``settings`` say
    (:class:`TrainingSettings`; its fields may also be given as keywords: ``Trainer(..., epochs=3)``).

    The parts: ``scheduler`` (stepped once per epoch), ``penalty`` (a function of the model added
    to the loss, e.g. ``lambda m: F.l2_penalty(m, 0.25)``), ``train_eval_loader`` (the fixed
    training sample whose accuracy is reported), ``run`` (log and checkpoint into a run folder),
    ``on_epoch`` (called with each epoch's record after it is logged; a sweep reports to Optuna
    and prunes from it by raising), ``language_model`` (epoch records add ``*_bpc`` and
    ``*_perplexity`` beside each ``*_loss``), ``live`` (redraw the curves after each epoch in a
    Jupyter notebook: a :class:`nablab.viz.LivePlot`, or True for one with its defaults).
    """

    def __init__(self, model, optimizer, train_loader, val_loader=None, settings: TrainingSettings | None = None, *,
                 scheduler=None, penalty=None, train_eval_loader=None, run=None, progress: bool = True, log=print,
                 on_epoch=None, language_model: bool = False, live=False, **options):
        settings = replace(settings or TrainingSettings(), **options)
        self.settings = settings
        epochs, max_steps = settings.epochs, settings.max_steps
        self.model, self.optimizer, self.scheduler = model, optimizer, scheduler
        self.train_loader, self.val_loader, self.train_eval_loader = train_loader, val_loader, train_eval_loader
        if max_steps is not None:
            epochs = -(-max_steps // len(train_loader))
        self.epochs, self.max_steps = epochs, max_steps
        self.penalty, self.grad_clip, self.patience = penalty, settings.grad_clip, settings.patience
        self.run, self.checkpoint_every = run, settings.checkpoint_every
        self.progress, self.log, self.on_epoch = progress, log, on_epoch
        self.language_model = language_model
        self.divergence_factor = settings.divergence_factor
        self.monitor_every = settings.monitor_every
        self.device = model_device(model)
        self.sync_every = settings.sync_every or (1 if self.device.type == "cpu" else GPU_SYNC_EVERY)
        if live is True:
            from ..viz import LivePlot

            live = LivePlot(title=f"Training {type(model).__name__}")
        self.live = live or None
        self.state = {"epoch": 0, "batch": 0, "step": 0, "best_val_acc": None, "best_epoch": None,
                      "stale_epochs": 0, "stopped_early": False, "last_finite_loss": None, "first_epoch_loss": None,
                      "epoch_loss": 0.0, "epoch_correct": 0, "epoch_count": 0, "epoch_seconds": 0.0}
        self.checkpointed: tuple[int, int] | None = None  # (epoch, step) of the last checkpoint in the run folder
        self.records: list[dict] = []
        self.best_state = None

    # ----------------------------------------------------------------- checkpoints
    def _save(self, path) -> None:
        save_checkpoint(path, self.model, self.optimizer, self.scheduler, progress=dict(self.state))
        self.checkpointed = (self.state["epoch"], self.state["step"])

    def resume(self) -> bool:
        """Continue from the run's last checkpoint: weights, optimizer, schedule, RNG and position.

        A run stopped before its first checkpoint starts again from the beginning (the model,
        optimizer and RNG as built, its records cleared) and ``False`` is returned. A checkpoint
        that cannot be read is a :class:`RunError` naming it and what to do.
        """
        if self.run is None:
            raise ValueError("resume() needs the run folder the Trainer was given")
        last = self.run.last_checkpoint
        if not last.is_file():
            self.records = self.run.truncate_metrics(0)
            return False
        try:
            self.state.update(load_checkpoint(last, self.model, self.optimizer, self.scheduler))
        except (ValueError, KeyError) as exc:  # a CheckpointError, or weights that do not fit the model
            raise RunError(f"cannot continue {self.run.path} from {last}: {exc}. Delete that file to train the run "
                           "again from its start with the settings of its config.toml, or start a new run") from None
        self.checkpointed = (self.state["epoch"], self.state["step"])
        self.records = self.run.truncate_metrics(self.state["step"])
        if self.state["first_epoch_loss"] is None and self.state["epoch"] > 0:  # a checkpoint of before the rule
            self.state["first_epoch_loss"] = next((r["train_loss"] for r in self.records if r["kind"] == "epoch"), None)
        if self.run.best_checkpoint.is_file():
            try:
                tensors, _ = read_checkpoint(self.run.best_checkpoint)
            except CheckpointError as exc:
                raise RunError(f"cannot continue {self.run.path}: {exc}. Delete that file and resume again (the best "
                               "weights are then chosen among the epochs still to train)") from None
            self.best_state = model_state(tensors, self.model)
        return True

    # ----------------------------------------------------------------- loop
    def _step(self, x, y) -> tuple:
        """One optimizer step on the batch (moved to the model's device); returns its mean loss and
        correct predictions as 0-d arrays on that device, and the number of predictions.

        Reading the loss every step (``sync_every`` 1), a diverged loss is caught before its step is
        taken; otherwise :meth:`_settle` reads it with the others, after.
        """
        x, y = x.to(self.device), y.to(self.device)
        logits, y = per_token(self.model(x), y)
        loss = F.cross_entropy(logits, y)
        if self.penalty is not None:
            loss = loss + self.penalty(self.model)
        if self.sync_every == 1:
            self._check(loss.item(), self.state["step"] + 1)
        self.optimizer.zero_grad()
        loss.backward()
        if self.grad_clip is not None:
            clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        return loss.data, (logits.data.argmax(axis=1) == y.data).sum(), len(y)

    def _check(self, value: float, step: int) -> None:
        """Raise :class:`TrainingDiverged` if step ``step``'s loss ``value`` breaks a divergence rule."""
        why = self._divergence(value)
        if why is None:
            return
        last = self.state["last_finite_loss"]
        late = ("" if self.sync_every == 1 else f"; the losses are read from the device every {self.sync_every} "
                f"steps (sync_every), so the steps after it until step {self.state['step']} were taken")
        raise TrainingDiverged(
            f"the loss became {value:.6g} at epoch {self.state['epoch'] + 1}, step {step} ({why}; the previous "
            f"step's loss: {last if last is None else f'{last:.6g}'}{late}); is the learning rate too high? "
            f"{self._kept_checkpoint()}")

    def _settle(self, taken: list, records: list) -> float | None:
        """Read the losses and correct counts of the steps ``taken`` from the device in one download, check
        them for divergence in order, and add them to the epoch's sums and to ``records``; returns the
        last loss (None when nothing was taken)."""
        if not taken:
            return None
        xp = get_array_module(taken[0][0])
        [values] = read(xp.stack([xp.asarray(v, dtype=np.float64) for step in taken for v in step[:2]]))
        st = self.state
        first = st["step"] - len(taken) + 1
        for i, (_, _, count, lr) in enumerate(taken):
            value, correct = float(values[2 * i]), int(values[2 * i + 1])
            if self.sync_every > 1:
                self._check(value, first + i)
            st["last_finite_loss"] = value
            st["epoch_loss"] += value * count
            st["epoch_correct"] += correct
            st["epoch_count"] += count
            records.append({"kind": "step", "epoch": st["epoch"] + 1, "step": first + i, "loss": value, "lr": lr})
        taken.clear()
        return value

    def reference_loss(self) -> float | None:
        """The first epoch's mean training loss (its mean so far while it runs); None before its first step."""
        st = self.state
        if st["first_epoch_loss"] is not None:
            return st["first_epoch_loss"]
        return st["epoch_loss"] / st["epoch_count"] if st["epoch"] == 0 and st["epoch_count"] else None

    def _divergence(self, value: float) -> str | None:
        """Which divergence rule ``value`` breaks (a phrase for the message), or None."""
        if not math.isfinite(value):
            return "not a finite number"
        reference = self.reference_loss()
        if self.divergence_factor is not None and reference is not None and value > self.divergence_factor * reference:
            factor = self.divergence_factor
            return f"over {factor:g}× the first epoch's mean loss {reference:.6g}, the divergence_factor"
        return None

    def _kept_checkpoint(self) -> str:
        if self.run is None:
            return "No checkpoint is kept: the Trainer was given no run folder."
        if self.checkpointed is None:
            return (f"No checkpoint was written before it, so {self.run.path} has none to keep or resume: "
                    "start a new run with a smaller learning rate.")
        epoch, step = self.checkpointed
        return f"The last checkpoint, of step {step} ({epoch} epoch(s) done), is kept in {self.run.last_checkpoint}."

    def _run_epoch(self) -> None:
        st = self.state
        loader = self.train_loader
        loader.set_epoch(st["epoch"])
        bar = progress_bar(loader.iter_from(st["batch"]), len(loader) - st["batch"],
                        f"epoch {st['epoch'] + 1}/{self.epochs}", self.progress)
        pending, taken = [], []  # the step records to log, and the steps whose losses are still on the device
        start = time.perf_counter()
        for x, y in bar:
            if self.max_steps is not None and st["step"] >= self.max_steps:
                break
            loss, correct, count = self._step(x, y)
            st["batch"] += 1
            st["step"] += 1
            lr = self.optimizer.param_groups[0]["lr"]
            taken.append((loss, correct, count, lr))
            checkpoint = self.checkpoint_every and st["step"] % self.checkpoint_every == 0 and st["batch"] < len(loader)
            if len(taken) < self.sync_every and not checkpoint:
                continue
            value = self._settle(taken, pending)
            if hasattr(bar, "set_postfix"):
                rate = st["epoch_count"] / max(time.perf_counter() - start + st["epoch_seconds"], 1e-9)
                bar.set_postfix(loss=f"{value:.4f}", lr=f"{lr:.3g}", samples_s=f"{rate:,.0f}", refresh=False)
            if checkpoint:
                st["epoch_seconds"] += time.perf_counter() - start
                start = time.perf_counter()
                self._flush(pending)
                pending = []
        self._settle(taken, pending)
        st["epoch_seconds"] += time.perf_counter() - start
        self._flush(pending, checkpoint=False)

    def _flush(self, records, checkpoint=True) -> None:
        self.records += records
        if self.run is not None:
            self.run.log(records)
            if checkpoint:
                self._save(self.run.last_checkpoint)

    def _end_epoch(self, monitor=None) -> dict:
        st = self.state
        record = {"kind": "epoch", "epoch": st["epoch"] + 1, "step": st["step"],
                  "lr": self.optimizer.param_groups[0]["lr"],
                  "train_loss": st["epoch_loss"] / max(st["epoch_count"], 1),
                  "train_running_acc": st["epoch_correct"] / max(st["epoch_count"], 1),
                  "seconds": st["epoch_seconds"], "samples_per_s": st["epoch_count"] / max(st["epoch_seconds"], 1e-9)}
        if self.train_eval_loader is not None:
            record["train_loss_sample"], record["train_acc"] = evaluate(self.model, self.train_eval_loader)
        if self.val_loader is not None:
            record["val_loss"], record["val_acc"] = evaluate(self.model, self.val_loader)
            if st["best_val_acc"] is None or record["val_acc"] > st["best_val_acc"]:
                st["best_val_acc"], st["best_epoch"], st["stale_epochs"] = record["val_acc"], st["epoch"] + 1, 0
                self.best_state = {k: v.data.copy() for k, v in self.model.state_dict().items()}
                if self.run is not None:
                    save_checkpoint(self.run.best_checkpoint, self.model, progress={"epoch": st["epoch"] + 1,
                                                                                     "val_acc": record["val_acc"]})
            else:
                st["stale_epochs"] += 1
        if self.language_model:
            record = with_language_metrics(record)
        if monitor is not None:  # after the evaluation, whose forward passes it does not count
            layers = monitor.epoch_summary()
            if layers:
                record["layers"] = layers
            monitor.reset()
        if self.scheduler is not None:
            self.scheduler.step()
        if st["first_epoch_loss"] is None:
            st["first_epoch_loss"] = record["train_loss"]
        st.update(epoch=st["epoch"] + 1, batch=0, epoch_loss=0.0, epoch_correct=0, epoch_count=0, epoch_seconds=0.0)
        if self.patience is not None and st["stale_epochs"] >= self.patience:
            st["stopped_early"] = True
        self._flush([record])
        return record

    def fit(self) -> list[dict]:
        """Train until ``epochs`` (or early stopping); returns every metrics record."""
        monitor = None
        if self.monitor_every:
            monitor = LayerMonitor(self.model, every=self.monitor_every)
            monitor.steps = self.state["step"]  # a resumed run samples the steps an uninterrupted one would
        try:
            while self.state["epoch"] < self.epochs and not self.state["stopped_early"]:
                self._run_epoch()
                record = self._end_epoch(monitor)
                if self.log is not None:
                    self.log(_describe(record, self.epochs))
                if self.live is not None:
                    self.live(record)
                if self.on_epoch is not None:
                    self.on_epoch(record)
        finally:
            if monitor is not None:
                monitor.detach()
        if self.state["stopped_early"] and self.log is not None:
            self.log(f"early stop: no better validation accuracy for {self.patience} epochs "
                     f"(best {self.state['best_val_acc']:.4f} at epoch {self.state['best_epoch']})")
        return self.records

    def use_best_weights(self) -> None:
        """Load the best-validation weights into the model (if validation was run)."""
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)

    def epoch_records(self) -> list[dict]:
        return [r for r in self.records if r["kind"] == "epoch"]

    def step_losses(self) -> np.ndarray:
        return np.array([r["loss"] for r in self.records if r["kind"] == "step"])


def _describe(record: dict, epochs: int) -> str:
    parts = [f"epoch {record['epoch']}/{epochs}: loss {record['train_loss']:.4f}"]
    if "train_bpc" in record:
        parts[0] += f" ({record['train_bpc']:.3f} bpc)"
    if "train_acc" in record:
        parts.append(f"train acc {record['train_acc']:.4f}")
    if "val_acc" in record:
        parts.append(f"val loss {record['val_loss']:.4f}, val acc {record['val_acc']:.4f}")
    if "val_bpc" in record:
        parts.append(f"val {record['val_bpc']:.3f} bpc, perplexity {record['val_perplexity']:.2f}")
    unit = "tokens" if "train_bpc" in record else "samples"  # a language model counts every position
    parts.append(f"lr {record['lr']:.3g}, {record['samples_per_s']:,.0f} {unit}/s")
    return ", ".join(parts)


__all__ = ["Trainer", "TrainingDiverged"]
