"""Approved comments from Isso's public API, sanitised again on our side (the record that keeps them: record.py)."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from core.sanitise import clean


class IssoUnreachable(RuntimeError):
    """Isso did not answer (down, wrong address, timeout)."""


@dataclass
class Comment:
    id: int
    author: str
    website: str
    created: str  # ISO 8601, UTC
    html: str
    replies: list = field(default_factory=list)

    @property
    def date(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.created)


def sanitise(html: str) -> str:
    """Isso sanitises already; we do it again, with the site's one allow-list, before embedding the HTML."""
    return clean(html)


def to_comment(raw: dict) -> Comment:
    created = dt.datetime.fromtimestamp(float(raw.get("created") or 0), dt.timezone.utc).isoformat()
    website = raw.get("website") or ""
    return Comment(
        id=int(raw["id"]),
        author=(raw.get("author") or "").strip(),
        website=website if website.startswith(("http://", "https://")) else "",
        created=created,
        html=sanitise(raw.get("text", "")),
        replies=[to_comment(reply) for reply in raw.get("replies") or [] if reply.get("mode", 1) == 1],
    )


def fetch(base_url: str, uri: str, timeout: float) -> list[Comment]:
    """The approved comments of one page (Isso's GET /?uri=...: no e-mail addresses, no pending comments)."""
    url = f"{base_url}/?{urllib.parse.urlencode({'uri': uri, 'nested_limit': 50})}"
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        if error.code == 404:  # a page nobody has commented on yet
            return []
        raise IssoUnreachable(f"{url}: HTTP {error.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise IssoUnreachable(f"{url}: {getattr(error, 'reason', error)}") from None
    return [to_comment(raw) for raw in data.get("replies", []) if raw.get("mode", 1) == 1]


def comment_from_dict(data: dict) -> Comment:
    """A comment of the record of published comments: its shape checked, its HTML cleaned again (record.py)."""
    from .record import comment_from_dict as from_record  # record.py builds on this module

    return from_record(data, "comment")
