"""Recommendations and keyword lists: who is related to whom, computed once per build. Pure."""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain

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
    return RelatedIndex(candidates).most_related(target, count)


# A pruned candidate must score below the k-th best by more than any float rounding of the bounds.
_MARGIN = 1e-9
_SMALL_LEVEL = 32  # a level of fewer candidates is scored without counting the shared words first


class RelatedIndex:
    """Candidates indexed by tag, category and word, so that a query scores only those that can make its top k.

    The answer is exactly every pair's: the same keys in the same order, ties by the candidates' order.
    A candidate's score is 3 per shared tag + 2 for the same category (its "structure") + 10 x the
    Jaccard index J of the words. To reach the k-th best score found so far, s, a candidate of structure
    v needs J >= t = (s - v) / 10, so at least m = ceil(t x |A|) of the target's |A| words. Candidates
    sharing a tag or the category are taken by structure, highest first (a level that cannot reach s ends
    the search); in a large level, and among those sharing only words, only the candidates with m shared
    words (counted from the postings of the target's words, in C) are scored.
    """

    def __init__(self, candidates: list[Profile]):
        self.candidates = list(candidates)
        self.by_tag: dict[str, list[int]] = {}
        self.by_category: dict[str, set[int]] = {}
        self.by_word: dict[str, list[int]] = {}
        for index, item in enumerate(self.candidates):
            for tag in item.tags:
                self.by_tag.setdefault(tag, []).append(index)
            if item.category:
                self.by_category.setdefault(item.category, set()).add(index)
            for word in item.words:
                self.by_word.setdefault(word, []).append(index)
        self.by_category = {name: frozenset(members) for name, members in self.by_category.items()}
        self.words = [item.words for item in self.candidates]
        self.scored = 0  # candidates scored by the queries (pairs), for the tests and the benchmark

    def most_related(self, target: Profile, count: int) -> list[str]:
        if count < 0:  # a slice from the end, as a list's [:count]
            return self.most_related(target, len(self.candidates))[:count]
        if count == 0:
            return []
        candidates, words_of, key = self.candidates, self.words, target.key
        words, size = target.words, len(target.words)
        top: list[tuple[float, int, str]] = []  # a min-heap of (score, -index, key): its root is the k-th best
        floor = -math.inf  # the k-th best score minus the margin, once there are k: below it nothing matters
        scored = 0

        def offer(index: int, score: float) -> float:
            """Keep a candidate with its score, as similarity() computes it; the new floor."""
            if score > 0:
                entry = (score, -index, candidates[index].key)
                if len(top) < count:
                    heapq.heappush(top, entry)
                elif entry > top[0]:
                    heapq.heapreplace(top, entry)
            return top[0][0] - _MARGIN if len(top) == count else -math.inf

        # The structure: 3 per shared tag, 2 for the same category; levels[structure] = its candidates.
        tags = Counter(chain.from_iterable(self.by_tag.get(tag, ()) for tag in target.tags))
        same = self.by_category.get(target.category, frozenset()) if target.category else frozenset()
        levels: dict[int, list[int]] = {}
        for index, shared in tags.items():
            levels.setdefault(3 * shared + 2 if index in same else 3 * shared, []).append(index)
        only_category = same.difference(tags)
        if only_category:
            levels[2] = list(only_category)
        structure = same.union(tags)  # every candidate with a structure

        def needed(level: int) -> int:
            """How many words a candidate of this structure must share to reach the k-th best (0: any)."""
            threshold = (floor - level) / 10.0
            return max(0, math.ceil(threshold * size - _MARGIN)) if threshold > 0 else 0

        overlap = None  # index -> words shared with the target, counted from the postings when first needed

        def shared_counts():
            nonlocal overlap
            if overlap is None:
                overlap = Counter(chain.from_iterable(self.by_word.get(word, ()) for word in words))
            return overlap

        for value in sorted(levels, reverse=True):
            if value + 10.0 < floor:
                break  # this level and every lower one cannot reach the top
            least = needed(value)
            if least > size:
                continue
            members = levels[value]
            if least and len(members) > _SMALL_LEVEL:  # only those sharing enough words
                get = shared_counts().get
                members = [index for index in members if get(index, 0) >= least]
            # 3.0 * tags + 2.0 * category is exactly float(value), as in similarity().
            base = float(value)
            for index in members:
                other = words_of[index]
                if candidates[index].key == key:
                    continue
                scored += 1
                shared = len(words & other)
                union = size + len(other) - shared
                score = base + 10.0 * (shared / union if union else 0.0)
                if score >= floor:
                    floor = offer(index, score)

        # Candidates sharing only words: those sharing at least `least` of them.
        least = max(1, needed(0))
        if floor <= 10.0 and least <= size:
            hits = [index for index, shared in shared_counts().items() if shared >= least and index not in structure]
            for index in hits:
                if candidates[index].key == key:
                    continue
                other = words_of[index]
                scored += 1
                shared = len(words & other)
                score = 10.0 * (shared / (size + len(other) - shared))
                if score >= floor:
                    floor = offer(index, score)
        self.scored += scored
        ranked = sorted(top, key=lambda entry: (-entry[0], -entry[1]))
        return [entry[2] for entry in ranked]


def answer_queries(indexes: tuple[RelatedIndex, RelatedIndex], queries: list) -> list:
    """(product keys, post keys, pairs scored) for each (profile, products wanted, posts wanted); in a worker too."""
    products, posts = indexes
    answers = []
    for own, product_count, post_count in queries:
        before = products.scored + posts.scored
        answers.append((products.most_related(own, product_count), posts.most_related(own, post_count),
                        products.scored + posts.scored - before))
    return answers


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
    # The title and text as the lists search them, lowercased once for every list.
    searched: tuple[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "searched", (self.title.lower(), self.text.lower()))


def relevance(query: ListQuery, item: Candidate) -> float:
    """How well an item matches a list: keyword hits weighted by where they occur, plus tag matches."""
    title, body = item.searched
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
