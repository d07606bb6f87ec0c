"""The lab around the framework: the Trainer, run folders, checkpoints, plots and reports."""

from .checkpoint import load_checkpoint, save_checkpoint
from .config import ConfigError, resolve
from .evaluate import evaluate
from .report import summary, write_comparison, write_report
from .run import Run, RunError
from .session import train
from .trainer import Trainer, TrainingDiverged, TrainingSettings

__all__ = ["ConfigError", "Run", "RunError", "Trainer", "TrainingDiverged", "TrainingSettings", "evaluate",
           "load_checkpoint", "resolve", "save_checkpoint", "summary", "train", "write_comparison", "write_report"]
