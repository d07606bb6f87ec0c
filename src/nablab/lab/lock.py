"""One writer per run folder: an exclusive lock on ``RUN/.lock`` that names the process holding it.

The lock is the operating system's (``flock``), taken without waiting: a second ``nablab train``
or ``--resume`` of a folder that a live process trains is refused with that process's id. The
kernel drops the lock when its holder ends, however it ends (SIGKILL, a crash, a power cut
leaves no process at all), so a lock left by a dead process is simply taken over — there is no
stale lock to clean up by hand. The file itself stays; it holds the id of its last holder.
(On Windows the lock is msvcrt's on one byte far past that id, which other processes then read.)
"""

from __future__ import annotations

import os
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

_WINDOWS_LOCK_BYTE = 1 << 20


def _try_lock(fd: int) -> bool:
    """Lock the open file ``fd`` without waiting; False if another process holds it."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    os.lseek(fd, _WINDOWS_LOCK_BYTE, os.SEEK_SET)
    try:
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _unlock_and_close(fd: int) -> None:
    if fcntl is None:
        os.lseek(fd, _WINDOWS_LOCK_BYTE, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    os.close(fd)  # on POSIX, closing the only descriptor of this open file drops the flock


class LockHeld(RuntimeError):
    """Another live process holds the lock; ``pid`` is its process id (None if it has not written it yet)."""

    def __init__(self, path: Path, pid: int | None):
        self.path, self.pid = path, pid
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(f"{path.parent} is in use by {holder} (it holds {path.name})")


class RunLock:
    """The exclusive lock of ``folder`` (``folder/.lock``); :meth:`acquire` it, :meth:`release` it, or use ``with``."""

    NAME = ".lock"

    def __init__(self, folder):
        self.path = Path(folder) / self.NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock and write this process's id into it; :class:`LockHeld` if a live process has it."""
        if self._fd is not None:
            return self
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            locked = _try_lock(fd)
        except BaseException:
            os.close(fd)
            raise
        if not locked:
            os.close(fd)
            raise LockHeld(self.path, holder(self.path))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            _unlock_and_close(fd)

    def moved_to(self, folder) -> None:
        """The locked folder was renamed to ``folder`` (the lock, held on the open file, goes with it)."""
        self.path = Path(folder) / self.NAME

    def __del__(self) -> None:  # a lock lasts as long as the object that holds it; the OS drops it on close
        if self._fd is not None:
            os.close(self._fd)

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def holder(path) -> int | None:
    """The process id written in the lock file ``path`` (None if there is none yet)."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def is_locked(folder) -> bool:
    """Whether a live process holds ``folder``'s lock (without taking it for longer than the check)."""
    path = Path(folder) / RunLock.NAME
    if not path.is_file():
        return False
    try:
        RunLock(folder).acquire().release()
    except LockHeld:
        return True
    return False


__all__ = ["LockHeld", "RunLock", "holder", "is_locked"]
