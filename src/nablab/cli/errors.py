"""The ``nablab`` command's error boundary: every error becomes one line ``nablab: error: …`` with a hint.

Exit status 2 for usage errors (a bad option or setting, an unknown experiment), 1 for failures
(missing or corrupt data, a full disk, a diverged run). ``nablab --debug …`` or ``NABLAB_DEBUG=1``
shows the traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from collections import Counter


class CommandError(Exception):
    """A command that cannot do what it was asked; the message says why (exit status 1)."""

    status = 1


class UsageError(CommandError):
    """A command given options that do not go together or are out of range (exit status 2)."""

    status = 2


class Exit(SystemExit):
    """How :func:`nablab.cli.main` ends on an error: ``code`` is the exit status, ``str()`` the line printed."""

    def __init__(self, status: int, message: str):
        super().__init__(status)
        self.message = message

    def __str__(self) -> str:
        return self.message


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line too: ``nablab: error: … (see `nablab train --help`)``, exit 2."""

    def error(self, message: str):
        line = f"nablab: error: {message} (see `{self.prog} --help`)"
        print(line, file=sys.stderr)
        raise Exit(2, line)


def debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("NABLAB_DEBUG", "") not in ("", "0")


_OS_HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run the command again (a run continues with "
                  "`nablab train --resume RUN_DIR`)",
    errno.EDQUOT: "the disk quota is used up: free some space and run the command again",
    errno.EACCES: "choose a folder you may write to, or change its permissions",
    errno.EPERM: "choose a folder you may write to, or change its permissions",
    errno.EROFS: "the file system is read-only: choose another folder",
}


def _os_line(exc: OSError) -> str:
    where = " ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    text = exc.strerror or str(exc)
    line = f"{where}: {text}" if where else text
    hint = _OS_HINTS.get(exc.errno)
    return f"{line}; {hint}" if hint else line


def _safetensors_line(exc: Exception) -> str:
    text = str(exc)
    if "StorageFull" in text or "No space left" in text or "code: 28," in text:
        return f"could not write a safetensors file: no space left on device; {_OS_HINTS[errno.ENOSPC]}"
    return f"safetensors: {text}"


def describe(exc: BaseException) -> tuple[int, str]:
    """The exit status and the line (without ``nablab: error: ``) for ``exc``."""
    from ..data import DataError
    from ..lab import ConfigError, TrainingDiverged
    from ..lab.experiments import ExperimentError

    if isinstance(exc, CommandError):
        return exc.status, str(exc)
    if isinstance(exc, (ConfigError, ExperimentError)):
        return 2, str(exc)
    if isinstance(exc, TrainingDiverged):
        return 1, f"training stopped: {exc}"
    if isinstance(exc, DataError):  # the command line's name for verify=False
        return 1, str(exc).replace("turn checksum verification off for your own files",
                                   "give --no-verify for your own files ([data] verify = false in an experiment file)")
    if isinstance(exc, OSError):
        return 1, _os_line(exc)
    if type(exc).__name__ == "SafetensorError":
        return 1, _safetensors_line(exc)
    if type(exc).__module__.split(".")[0] == "nablab" or isinstance(exc, (ValueError, ImportError)):
        return 1, str(exc)
    return 1, (f"unexpected {type(exc).__name__}: {exc} (a bug in nablab? `nablab --debug …` or NABLAB_DEBUG=1 "
               "shows the traceback; please report it)")


def one_line(text: str) -> str:
    """``text`` on one line: indented lines (a message's list of files or folders) joined with commas."""
    out = ""
    for line in text.splitlines():
        item = line.strip()
        if not item:
            continue
        listed = line[:1].isspace() and out and not out.endswith(":")
        out += (", " if listed else " ") + item
    return out.strip()


def guarded(run, args) -> int:
    """``run(args)``, with every error printed as one line ``nablab: error: …`` and raised as :class:`Exit`."""
    try:
        return run(args)
    except KeyboardInterrupt:
        print("nablab: interrupted", file=sys.stderr)
        raise Exit(130, "nablab: interrupted") from None
    except Exception as exc:  # noqa: BLE001 - the boundary: every error becomes one line
        status, line = describe(exc)
        message = f"nablab: error: {one_line(line)}"
        print(message, file=sys.stderr)
        raise Exit(status, message) from None


@contextlib.contextmanager
def floating_point_notes(what: str = "training"):
    """NumPy's floating-point warnings (overflow, invalid values, division by zero) in the block become one
    note at its end, instead of a raw RuntimeWarning per occurrence; the divergence check judges the loss."""
    import numpy as np

    seen: Counter = Counter()

    def record(kind: str, flag: int) -> None:
        seen[kind] += 1

    previous = np.seterrcall(record)
    try:
        with np.errstate(over="call", invalid="call", divide="call", under="ignore"):
            yield
    finally:
        np.seterrcall(previous)
        if seen:
            counts = ", ".join(f"{kind} {n}×" for kind, n in seen.items())
            print(f"nablab: note: NumPy reported floating-point trouble during {what} ({counts}): values left the "
                  "float range somewhere; if the results look wrong, a smaller --lr usually helps", file=sys.stderr)
