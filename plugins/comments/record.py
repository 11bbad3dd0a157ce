"""The record of published comments as JSON: one format for the local file and the copy the site publishes.

Pure code: text in, {uri: [Comment]} out (and back). A record is not trusted more than Isso is: its shape is
checked field by field and every comment's HTML is cleaned again. It says which Isso it came from ("instance",
a short hash of the build URL: the published copy names no server address).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import NamedTuple

from .isso import Comment, sanitise

FORMAT = "vetrina-comments"
VERSION = 1


class RecordError(ValueError):
    """The text is not a record of comments: invalid JSON or the wrong shape (the message says where)."""


class Record(NamedTuple):
    threads: dict  # {uri: [Comment]}
    instance: str  # the Isso it came from ("": not said, as in records of earlier versions)


def dumps(threads: dict, instance: str = "") -> str:
    """The record as JSON text, pages sorted, so that two builds with the same comments write the same bytes."""
    document = {"format": FORMAT, "version": VERSION, **({"instance": instance} if instance else {}),
                "threads": {uri: [as_dict(c) for c in comments] for uri, comments in sorted(threads.items())}}
    return json.dumps(document, ensure_ascii=False, indent=1) + "\n"


def as_dict(comment: Comment) -> dict:
    return {"id": comment.id, "author": comment.author, "website": comment.website, "created": comment.created,
            "html": comment.html, "replies": [as_dict(reply) for reply in comment.replies]}


def loads(text: str) -> dict:
    """{uri: [Comment]} from a record's text; RecordError names the line (bad JSON) or the field (bad shape)."""
    return parse(text).threads


def parse(text: str) -> Record:
    """The record's threads and the Isso it came from; RecordError as loads()."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(f"invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
    if not isinstance(document, dict):
        raise RecordError(f"the top level is a JSON {type(document).__name__}, not an object")
    if "threads" in document or "format" in document:
        if document.get("format") != FORMAT or document.get("version") != VERSION:
            raise RecordError(f"'format'/'version' must be {FORMAT!r}/{VERSION} "
                              f"(found {document.get('format')!r}/{document.get('version')!r})")
        threads = document.get("threads")
        if not isinstance(threads, dict):
            raise RecordError("'threads' must be an object of page paths")
        instance = document.get("instance", "")
        if not isinstance(instance, str):
            raise RecordError("'instance' must be a string (the Isso the record came from)")
    else:
        threads, instance = document, ""  # the flat {uri: [comment]} cache written by earlier versions
    return Record({uri: thread_from_list(uri, comments) for uri, comments in threads.items()}, instance)


def thread_from_list(uri: str, comments) -> list[Comment]:
    if not uri.startswith("/"):
        raise RecordError(f"thread {uri!r}: a page path must start with '/'")
    if not isinstance(comments, list):
        raise RecordError(f"thread {uri!r}: must be a list of comments, not a JSON {type(comments).__name__}")
    return [comment_from_dict(data, f"thread {uri!r}, comment {n}") for n, data in enumerate(comments, 1)]


def comment_from_dict(data, where: str) -> Comment:
    if not isinstance(data, dict):
        raise RecordError(f"{where}: must be an object")
    comment_id = data.get("id")
    if not isinstance(comment_id, int) or isinstance(comment_id, bool):
        raise RecordError(f"{where}: 'id' must be an integer")
    for key in ("author", "website", "created", "html"):
        if not isinstance(data.get(key), str):
            raise RecordError(f"{where}: {key!r} must be a string")
    try:
        dt.datetime.fromisoformat(data["created"])
    except ValueError:
        raise RecordError(f"{where}: 'created' must be an ISO 8601 date, not {data['created']!r}") from None
    replies = data.get("replies", [])
    if not isinstance(replies, list):
        raise RecordError(f"{where}: 'replies' must be a list")
    website = data["website"]
    return Comment(id=comment_id, author=data["author"],
                   website=website if website.startswith(("http://", "https://")) else "",
                   created=data["created"], html=sanitise(data["html"]),
                   replies=[comment_from_dict(reply, f"{where}, reply {n}") for n, reply in enumerate(replies, 1)])
