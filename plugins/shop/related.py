"""Recommendations and keyword lists: who is related to whom, computed once per build. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

STOPWORDS = frozenset("""
alla alle allo anche ancora avere come con cosa dalla dalle degli della delle dello dopo essere fare
fino loro molto nella nelle nello nostro ogni per perché però più poco prima quale quando quanto
quello questa queste questi questo senza sono sotto sulla sulle tutti tutto una uno vostro about
after also been from have into more most other over some such than that their them then there these
they this those what when which while with your
""".split())
WORD = re.compile(r"[^\W\d_]{4,}", re.UNICODE)


def keywords(*texts: str) -> frozenset[str]:
    """The significant words of some texts, lowercased."""
    words = set()
    for text in texts:
        words.update(word for word in WORD.findall((text or "").lower()) if word not in STOPWORDS)
    return frozenset(words)


@dataclass(frozen=True)
class Profile:
    """What an item is about: tags, category and words."""

    key: str
    tags: frozenset[str]
    category: str
    words: frozenset[str]


def similarity(a: Profile, b: Profile) -> float:
    shared_tags = len(a.tags & b.tags)
    same_category = 1 if a.category and a.category == b.category else 0
    union = a.words | b.words
    text = len(a.words & b.words) / len(union) if union else 0.0
    return 3.0 * shared_tags + 2.0 * same_category + 10.0 * text


def most_related(target: Profile, candidates: list[Profile], count: int) -> list[str]:
    """Keys of the count candidates most like target (ties keep the candidates' order)."""
    scored = [(similarity(target, other), index, other.key)
              for index, other in enumerate(candidates) if other.key != target.key]
    scored = [entry for entry in scored if entry[0] > 0]
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [key for _, _, key in scored[:count]]


@dataclass(frozen=True)
class ListQuery:
    """A keyword list as its writer defined it."""

    keywords: tuple[str, ...]
    tags: tuple[str, ...]
    pinned: tuple[str, ...]
    max_price: Decimal | None
    limit: int


@dataclass(frozen=True)
class Candidate:
    key: str
    title: str
    tags: frozenset[str]
    text: str
    price: Decimal
    boost: Decimal
    available: bool


def relevance(query: ListQuery, item: Candidate) -> float:
    """How well an item matches a list: keyword hits weighted by where they occur, plus tag matches."""
    title, body = item.title.lower(), item.text.lower()
    score = 0.0
    for keyword in query.keywords:
        keyword = keyword.lower()
        score += 3.0 * title.count(keyword) + 1.0 * min(body.count(keyword), 3)
        score += 3.0 if keyword in item.tags else 0.0
    score += 3.0 * len({tag.lower() for tag in query.tags} & item.tags)
    return score


def rank_list(query: ListQuery, items: list[Candidate]) -> list[str]:
    """Keys of the list's products: pinned first, then matches ranked by relevance times the shop's boost."""
    by_key = {item.key: item for item in items}
    chosen = [key for key in query.pinned if key in by_key]
    scored = []
    for index, item in enumerate(items):
        if item.key in chosen or (query.max_price is not None and item.price > query.max_price):
            continue
        score = relevance(query, item)
        if score <= 0:
            continue
        score *= float(item.boost) * (1.0 if item.available else 0.5)
        scored.append((-score, index, item.key))
    scored.sort()
    chosen.extend(key for _, _, key in scored)
    return chosen[: query.limit] if query.limit else chosen
