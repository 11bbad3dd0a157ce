"""Durable small files: written whole or not at all, and on disk before the function returns.

The one way files that must survive a crash are written: the newsletter's journal and state, the record of
published comments, the content cache's marker.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TEMP_PREFIX = ".tmp-"


def fsync_folder(folder: Path) -> None:
    """Make a rename or a new file inside `folder` survive a power cut (the folder's entry is data too)."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_bytes(path: Path, data: bytes) -> None:
    """Temp file in the same folder, flush + fsync, os.replace over the target, fsync of the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{TEMP_PREFIX}{os.getpid()}-{path.name}")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def write_json(path: Path, data) -> None:
    write_bytes(path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def append_line(path: Path, line: str) -> None:
    """Append one line with O_APPEND (one write, so concurrent appends never interleave) and fsync it."""
    append_text(path, line.rstrip("\n") + "\n")


def append_text(path: Path, text: str) -> None:
    """Append text in one O_APPEND write and fsync it; a new file's folder is synced too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, text.encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    if created:
        fsync_folder(path.parent)


def remove_temps(path: Path) -> None:
    """The temp files of writes of path that a killed process left (call it while no one else writes path)."""
    if path.parent.is_dir():
        for leftover in path.parent.glob(f"{TEMP_PREFIX}*-{path.name}"):
            leftover.unlink(missing_ok=True)


def is_temp(path: Path) -> bool:
    """A temp file left by a process killed mid-write: never read, removed by the next run."""
    return path.name.startswith(TEMP_PREFIX)
