"""Where the record of published comments lives: the local file, its deletion log, and the copy the site publishes.

Every write is atomic (a temporary file in the same folder, fsync, os.replace): a build killed half-way leaves
the previous record whole. A lock file keeps two builds of the same checkout from interleaving.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from core import durable

from . import record

try:
    import fcntl
except ImportError:  # not POSIX: builds of one checkout are not serialised
    fcntl = None


class RecordUnusable(Exception):
    """The record exists but cannot be read as one (str(error) says why)."""


class PublishedUnavailable(Exception):
    """The copy on the site could not be downloaded (str(error) says why)."""


def utc_stamp(now: dt.datetime | None = None) -> str:
    return (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")


def read(path: Path, instance: str = "") -> dict | None:
    """The record at path, None when there is none; RecordUnusable when it is not a record of this Isso."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        found = record.parse(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise RecordUnusable(f"not UTF-8 text (byte {error.start})") from None
    except record.RecordError as error:
        raise RecordUnusable(str(error)) from None
    if instance and found.instance and found.instance != instance:
        raise RecordUnusable(f"it is the record of another Isso (instance {found.instance!r}, this build reads "
                             f"{instance!r}): copied under this name by hand?")
    return found.threads


def move_aside(path: Path, now: dt.datetime | None = None) -> Path:
    """Rename an unusable record to <name>.corrupt-<UTC time>, never over an earlier one; the new path."""
    base = path.with_name(f"{path.name}.corrupt-{utc_stamp(now)}")
    target, n = base, 1
    while target.exists():
        target, n = base.with_name(f"{base.name}-{n}"), n + 1
    os.replace(path, target)
    return target


def save(path: Path, threads: dict, instance: str = "") -> None:
    durable.remove_temps(path)  # of a write killed half-way (callers hold the lock: nobody else is writing)
    durable.write_bytes(path, record.dumps(threads, instance).encode("utf-8"))


def deletion_log(path: Path) -> Path:
    """The file next to the record that lists every comment a build removed, one JSON object a line."""
    return path.with_name(f"{path.stem}-deletions.jsonl")


def log_deletions(path: Path, removed, reason: str, now: dt.datetime | None = None) -> Path:
    """Append the removed comments (page and id only: no names, no text) to the deletion log; its path."""
    log = deletion_log(path)
    when = (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")
    lines = "".join(json.dumps({"time": when, "uri": item.uri, "id": item.id, "reason": reason}) + "\n"
                    for item in removed)
    durable.append_text(log, lines)
    return log


@contextlib.contextmanager
def locked(path: Path):
    """Hold <record>.lock for the read-fetch-write of one build; a second build of the checkout waits."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{path.name}.lock"), "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_UN)


# Names that never resolve to a published site (RFC 2606, RFC 6761): the demo shop's, a test's.
RESERVED_TLDS = frozenset({"example", "invalid", "test", "localhost"})


def never_published(url: str) -> bool:
    """Whether url names a host that cannot have published anything (a reserved top-level domain)."""
    host = (urllib.parse.urlsplit(url).hostname or "").rstrip(".")
    return host.rsplit(".", 1)[-1].lower() in RESERVED_TLDS


def download(url: str, timeout: float) -> record.Record | None:
    """The record the site published last (None: the site answers that it has none); PublishedUnavailable otherwise."""
    if never_published(url):
        return None  # www.shop.example has never been online: like a site that answers 404
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read()
    except urllib.error.HTTPError as error:
        if error.code in (404, 410):
            return None
        raise PublishedUnavailable(f"HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise PublishedUnavailable(str(getattr(error, "reason", error))) from None
    try:
        return record.parse(data.decode("utf-8"))
    except (UnicodeDecodeError, record.RecordError) as error:
        raise PublishedUnavailable(f"not a comment record: {error}") from None
