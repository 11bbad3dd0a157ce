"""One newsletter run at a time: an exclusive, non-blocking flock that the kernel releases when the process dies."""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path


class LockBusy(RuntimeError):
    """Another run holds the lock."""


@contextmanager
def held(path: Path):
    """Hold the lock for the block, or raise LockBusy at once (never wait: a second run must not queue up)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
            by = f" by process {holder}" if holder.isdigit() else ""
            raise LockBusy(f"{path} is held{by}: another newsletter run is sending; "
                           "wait for it to end (the lock goes when that process ends)") from None
        # The pid is only for the message above; the lock is the flock, never the file's existence.
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(descriptor)  # closing releases the flock


def is_free(path: Path) -> bool:
    """Whether no run holds the lock now (for --status and --dry-run, which only read)."""
    if not path.exists():
        return True
    descriptor = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
