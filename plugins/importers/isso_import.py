"""Approved WordPress comments into an Isso database, through Isso's own database API, threaded, once each.

A comment is known by its WordPress id: the import keeps `comment:<id>` → Isso id in its manifest, and skips a
comment it already imported, so a second import adds nothing (and a comment deleted in Isso is not put back).
"""

from __future__ import annotations

import calendar
import time
from pathlib import Path

IMPORTABLE_TYPES = ("", "comment")


def importable(comment) -> bool:
    """Approved comments only: no pingbacks, trackbacks, spam, trash or comments waiting for moderation."""
    return comment.approved == "1" and comment.type in IMPORTABLE_TYPES


def open_database(path: Path):
    from isso import config
    from isso.db import SQLite3

    path.parent.mkdir(parents=True, exist_ok=True)
    return SQLite3(str(path), config.new({"general": {"dbpath": str(path)}, "moderation": {"enabled": "true"}}))


def created(comment) -> float:
    try:
        return float(calendar.timegm(time.strptime(comment.date, "%Y-%m-%d %H:%M:%S")))
    except ValueError:
        return time.time()


def import_thread(db, session, uri: str, title: str, comments) -> tuple[int, int]:
    """(added, already there) for one page's approved comments; parents before their replies."""
    if uri not in db.threads:
        db.threads.new(uri, title)
    pending = sorted((c for c in comments if importable(c)), key=lambda c: c.id)
    known = {c.id for c in pending}
    added = kept = 0
    while pending:
        ready = [c for c in pending if c.parent not in known or session.manifest["items"].get(f"comment:{c.parent}")]
        if not ready:
            ready = pending  # a reply whose parent is not importable: it becomes a comment of its own
        for comment in ready:
            pending.remove(comment)
            key = f"comment:{comment.id}"
            if key in session.manifest["items"]:
                kept += 1
                continue
            parent = session.manifest["items"].get(f"comment:{comment.parent}", {}).get("isso_id")
            row = db.comments.add(uri, {"text": comment.content, "author": comment.author or None,
                                        "email": comment.email or None, "website": comment.url or None,
                                        "remote_addr": "127.0.0.1", "created": created(comment), "mode": 1,
                                        "parent": parent})
            session.remember(key, {"isso_id": row["id"], "uri": uri})
            added += 1
    return added, kept
