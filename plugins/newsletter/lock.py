"""One newsletter send at a time, and a way to see that one is running without getting in its way.

Two flocks, both released by the kernel when their process dies (even killed):

- the send lock (`invio.lock`): exclusive and non-blocking; only a send takes it, so only a send makes
  another send refuse;
- the running mark (`invio.in-corso`, next to it): held exclusively by the send that holds the lock, as long
  as it does. Read-only commands (--status, --dry-run, the command's early check) test the mark with a
  non-blocking shared flock that they drop at once, and never touch the send lock: a reader at the instant a
  send starts cannot make it refuse; at worst the send waits the moment the reader holds the mark.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

RUNNING_SUFFIX = ".in-corso"
PID_WIDTH = 24  # bytes of the lock file: the holder's pid, padded, and a newline
HOLDER_TRIES, HOLDER_WAIT = 50, 0.01  # up to half a second for a new holder to write its pid


class LockBusy(RuntimeError):
    """Another run holds the lock."""


def running_mark(path: Path) -> Path:
    return path.with_suffix(RUNNING_SUFFIX)


@contextmanager
def held(path: Path):
    """Hold the lock for the block, or raise LockBusy at once (never wait: a second run must not queue up)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(descriptor)
            by = f" by process {holder}" if holder else ""
            raise LockBusy(f"{path} is held{by}: another newsletter run is sending; "
                           "wait for it to end (the lock goes when that process ends)") from None
        # The pid is only for the message above; the lock is the flock, never the file's existence. One write
        # of a fixed width replaces whatever was there, so a reader never sees half of it.
        os.pwrite(descriptor, f"{os.getpid()}".ljust(PID_WIDTH - 1).encode("ascii") + b"\n", 0)
        os.ftruncate(descriptor, PID_WIDTH)
        try:
            with _marked(running_mark(path)):
                yield
        finally:
            os.ftruncate(descriptor, 0)  # no holder any more (a killed holder's pid is replaced by the next)
    finally:
        os.close(descriptor)  # closing releases the flock


def _holder(descriptor: int) -> str:
    """The pid the holder wrote; a holder that has just taken the lock writes it within moments: wait for it."""
    import time

    for _ in range(HOLDER_TRIES):
        holder = os.pread(descriptor, PID_WIDTH, 0).decode("ascii", "replace").strip()
        if holder.isdigit():
            return holder
        time.sleep(HOLDER_WAIT)
    return ""


@contextmanager
def _marked(mark: Path):
    descriptor = os.open(mark, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        # Blocking, and briefly: with the send lock held, only a reader can hold the mark, for an instant.
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def is_free(path: Path) -> bool:
    """Whether no send is running now, seen without touching the send lock (for commands that only read)."""
    try:
        descriptor = os.open(running_mark(path), os.O_RDONLY)
    except FileNotFoundError:
        return True  # no send ever ran here
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
