"""What a build publishes when Isso's answer differs from the record of published comments: the loss rule.

Pure code: the record and what Isso returned go in, the comments for the pages, the new record and what was
removed come out. An answer that would remove most published comments at once (an empty database after a
server move, a wrong dbpath) is not believed unless the owner accepts it; smaller deletions (moderation, an
erasure request) are applied and listed. The new record holds this build's pages only: comments of a page
that is no longer built (a draft, a removed post, `comments: no`) are never published again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator

# What a build decided about Isso's answer.
FIRST = "first"  # there was no record to compare with: Isso's answer is published as it is
APPLIED = "applied"  # Isso's answer is published; removed lists the deletions, if any
KEPT = "kept"  # apparent mass loss: the record's comments stay (with Isso's new ones) on the pages and in the record
ACCEPTED = "accepted"  # apparent mass loss, accepted deliberately: Isso's answer is published


@dataclass(frozen=True)
class Removed:
    """A published comment Isso no longer returns."""

    uri: str
    id: int


@dataclass(frozen=True)
class Outcome:
    verdict: str
    before: int  # comments the record had on this build's pages
    fetched: int  # comments Isso returned for them
    kept: int  # comments on the pages after this build
    removed: tuple[Removed, ...]  # deletions applied by this build (none when the record is kept)
    missing: int  # record comments Isso did not return, applied or not
    pages: dict  # {uri: [Comment]} for this build's pages
    record: dict  # {uri: [Comment]}: the record to save and publish (this build's pages only)
    added: int = 0  # comments Isso returned that a kept record lacked, added to it
    left_out: int = 0  # record comments of pages this build does not have: no longer published

    @property
    def mass_loss(self) -> bool:
        return self.verdict in (KEPT, ACCEPTED)


def walk(comments: Iterable) -> Iterator:
    """Every comment of a thread, replies included, parents first."""
    for comment in comments:
        yield comment
        yield from walk(comment.replies)


def count(threads: dict) -> int:
    return sum(1 for comments in threads.values() for _ in walk(comments))


def identity(comment) -> tuple:
    """Isso numbers comments from 1 in every new database: the id alone would match a stranger's comment."""
    return comment.id, comment.created


def is_mass_loss(before: int, fetched: int, missing: int, max_loss: float, min_loss: int) -> bool:
    """At least min_loss comments missing at once and either every thread empty or more than max_loss of them.

    Both a share and a number: deleting the only comment of a small site, or two of its three, is moderation.
    An answer with every thread empty is a mass loss whatever the share, once the record had min_loss comments.
    """
    if before == 0 or missing < min_loss:
        return False
    return fetched == 0 or missing / before > max_loss


def reconcile(record: dict | None, fetched: dict, max_loss: float, min_loss: int,
              accept_loss: bool = False) -> Outcome:
    """Compare Isso's answer for this build's pages ({uri: [Comment]}) with the record of what was published."""
    if record is None:
        total = count(fetched)
        return Outcome(FIRST, 0, total, total, (), 0, dict(fetched), dict(fetched))
    published = {uri: record.get(uri, []) for uri in fetched}
    before, total = count(published), count(fetched)
    left_out = count({uri: comments for uri, comments in record.items() if uri not in fetched})
    removed = tuple(missing_comments(published, fetched))
    mass_loss = is_mass_loss(before, total, len(removed), max_loss, min_loss)
    if mass_loss and not accept_loss:
        pages = {uri: merge(comments, fetched[uri]) for uri, comments in published.items()}
        kept = count(pages)
        return Outcome(KEPT, before, total, kept, (), len(removed), pages, dict(pages), kept - before, left_out)
    verdict = ACCEPTED if mass_loss else APPLIED
    return Outcome(verdict, before, total, total, removed, len(removed), dict(fetched), dict(fetched), 0, left_out)


def merge(recorded: list, fetched: list) -> list:
    """The recorded comments, with the replies Isso added under them, then Isso's comments the record lacks."""
    live = {identity(comment): comment for comment in fetched}
    known = {identity(comment) for comment in walk(recorded)}
    merged = [replace(comment, replies=merge(comment.replies, live[identity(comment)].replies))
              if identity(comment) in live else comment for comment in recorded]
    return merged + [comment for comment in fetched if identity(comment) not in known]


def missing_comments(published: dict, fetched: dict) -> Iterator[Removed]:
    """The published comments, page by page, that Isso's answer no longer has."""
    for uri, comments in published.items():
        present = {identity(comment) for comment in walk(fetched.get(uri, []))}
        for comment in walk(comments):
            if identity(comment) not in present:
                yield Removed(uri, comment.id)
