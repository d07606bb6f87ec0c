"""The lab around the framework: training loops (and, with the lab issue, runs, plots, reports)."""

from .fit import evaluate, fit

__all__ = ["evaluate", "fit"]
