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


# Thread requests in flight together (the first failure stops the fetch, as one request at a time would).
FETCHES_AT_ONCE = 4
# Isso refuses a request body above 256 KiB: the count request is sent in parts well below that.
COUNT_REQUEST_BYTES = 64 * 1024


def count_body(uris: list[str]) -> bytes:
    """The JSON list POST /count reads."""
    return json.dumps(uris, separators=(",", ":")).encode("utf-8")


def count_batches(uris: list[str], limit: int = COUNT_REQUEST_BYTES) -> list[list[str]]:
    """The URIs in consecutive parts whose request bodies stay under limit bytes (one URI per part at least)."""
    batches, batch, size = [], [], 1
    for uri in uris:
        cost = len(json.dumps(uri).encode("utf-8")) + 1  # the URI and its comma (or the closing bracket)
        if batch and size + cost > limit:
            batches.append(batch)
            batch, size = [], 1
        batch.append(uri)
        size += cost
    return batches + [batch] if batch else batches


def counts(base_url: str, uris: list[str], timeout: float) -> dict[str, int]:
    """{uri: approved comments, replies included} from Isso's POST /count, a few requests for every page."""
    found = {}
    for batch in count_batches(uris):
        request = urllib.request.Request(f"{base_url}/count", data=count_body(batch), method="POST",
                                         headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise IssoUnreachable(f"{base_url}/count: HTTP {error.code}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise IssoUnreachable(f"{base_url}/count: {getattr(error, 'reason', error)}") from None
        if not isinstance(answer, list) or len(answer) != len(batch) or not all(
                isinstance(number, int) and not isinstance(number, bool) for number in answer):
            raise IssoUnreachable(f"{base_url}/count: not a list of {len(batch)} counts")
        found.update(zip(batch, answer))
    return found


def fetch_all(base_url: str, uris: list[str], timeout: float) -> dict[str, list[Comment]]:
    """{uri: [Comment]} for every page: the counts first, then a thread request only for pages that have comments.

    A page Isso counts no approved comment on is fetched-empty ([]), exactly as its thread request would say:
    the count and the thread both hold approved comments only, replies included.
    """
    numbers = counts(base_url, uris, timeout)
    commented = [uri for uri in uris if numbers[uri] > 0]
    threads = {}
    if commented:
        # A few requests at once: a distant Isso answers in one round trip what would take one each.
        from concurrent.futures import ThreadPoolExecutor

        pool = ThreadPoolExecutor(min(FETCHES_AT_ONCE, len(commented)), thread_name_prefix="isso")
        try:
            threads = dict(zip(commented, pool.map(lambda uri: fetch(base_url, uri, timeout), commented)))
        finally:  # after a failure, the requests not yet sent are not sent; the threads end here either way
            pool.shutdown(wait=True, cancel_futures=True)
    return {uri: threads.get(uri, []) for uri in uris}
