"""Recommendations and keyword lists: who is related to whom, computed once per build. Pure."""

from __future__ import annotations

import heapq
import math
import re
from dataclasses import dataclass, field
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
    return RelatedIndex(candidates).most_related(target, count)


# A pruned candidate must score below the k-th best by more than any float rounding of the bounds.
_MARGIN = 1e-9
_NONZERO = re.compile(rb"[^\x00]")
_BITS = tuple(tuple(bit for bit in range(8) if byte >> bit & 1) for byte in range(256))


def _mask(indexes, size: int) -> int:
    """The candidates' indexes as the set bits of one integer (bit i: candidate i)."""
    data = bytearray((size + 7) // 8)
    for index in indexes:
        data[index >> 3] |= 1 << (index & 7)
    return int.from_bytes(data, "little")


def _members(mask: int) -> list[int]:
    """The indexes of a mask's set bits, in order."""
    data = mask.to_bytes((mask.bit_length() + 7) // 8, "little")
    found = []
    for match in _NONZERO.finditer(data):
        base = match.start() * 8
        found.extend(base + bit for bit in _BITS[data[match.start()]])
    return found


class _Counts:
    """How many of some masks hold each candidate, for all candidates at once: a binary number per bit position."""

    def __init__(self, masks, every: int):
        self.every = every
        self.bits: list[int] = []  # bits[j]: the candidates whose count has bit j set
        for mask in masks:
            carry = mask
            for level, bit in enumerate(self.bits):
                self.bits[level], carry = bit ^ carry, bit & carry
                if not carry:
                    break
            if carry:
                self.bits.append(carry)

    def at_least(self, number: int) -> int:
        """The candidates counted number times or more."""
        if number <= 0:
            return self.every
        if number >= 1 << len(self.bits):
            return 0
        below, equal = 0, self.every
        for level in range(len(self.bits) - 1, -1, -1):
            bit = self.bits[level]
            if number >> level & 1:
                below |= equal & ~bit
                equal &= bit
            else:
                equal &= ~bit
        return self.every & ~below

    def exactly(self, number: int) -> int:
        return self.at_least(number) & ~self.at_least(number + 1)


class RelatedIndex:
    """Candidates as bit masks per tag, category and word, so that a query scores only those that can make its top k.

    The answer is exactly every pair's: the same keys in the same order, ties by the candidates' order.
    A candidate's score is 3 per shared tag + 2 for the same category (its "structure") + 10 x the
    Jaccard index J of the words. To reach the k-th best score found so far, s, a candidate of structure
    v needs J >= t = (s - v) / 10, so at least m = ceil(t x |A|) of the target's |A| words. The shared tags
    and words of every candidate are counted at once, as binary numbers across the masks (a few integer
    operations per tag and word of the target, whatever the catalogue's size); candidates are taken by
    structure, highest first (a level that cannot reach s ends the search), and only those sharing m words
    are scored.
    """

    def __init__(self, candidates: list[Profile]):
        self.candidates = list(candidates)
        size = len(self.candidates)
        by_tag: dict[str, list[int]] = {}
        by_category: dict[str, list[int]] = {}
        by_word: dict[str, list[int]] = {}
        for index, item in enumerate(self.candidates):
            for tag in item.tags:
                by_tag.setdefault(tag, []).append(index)
            if item.category:
                by_category.setdefault(item.category, []).append(index)
            for word in item.words:
                by_word.setdefault(word, []).append(index)
        self.by_tag = {tag: _mask(members, size) for tag, members in by_tag.items()}
        self.by_category = {name: _mask(members, size) for name, members in by_category.items()}
        self.by_word = {word: _mask(members, size) for word, members in by_word.items()}
        self.every = (1 << size) - 1
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

        def needed(level: int) -> int:
            """How many words a candidate of this structure must share to reach the k-th best (0: any)."""
            threshold = (floor - level) / 10.0
            return max(0, math.ceil(threshold * size - _MARGIN)) if threshold > 0 else 0

        shared_words = None  # the candidates' shared words, counted when first needed

        def sharing(least: int) -> int:
            nonlocal shared_words
            if shared_words is None:
                shared_words = _Counts([self.by_word[w] for w in words if w in self.by_word], self.every)
            return shared_words.at_least(least)

        def score(base: float, mask: int) -> None:
            nonlocal floor, scored
            for index in _members(mask):
                if candidates[index].key == key:
                    continue
                other = words_of[index]
                scored += 1
                shared = len(words & other)
                union = size + len(other) - shared
                value = base + 10.0 * (shared / union if union else 0.0)
                if value >= floor and value > 0:
                    entry = (value, -index, candidates[index].key)
                    if len(top) < count:
                        heapq.heappush(top, entry)
                    elif entry > top[0]:
                        heapq.heapreplace(top, entry)
                    if len(top) == count:
                        floor = top[0][0] - _MARGIN

        # The structure: 3 per shared tag, 2 for the same category; levels[structure] = its candidates' mask.
        tags = _Counts([self.by_tag[tag] for tag in target.tags if tag in self.by_tag], self.every)
        same = self.by_category.get(target.category, 0) if target.category else 0
        levels: dict[int, int] = {}
        for shared in range(1, 1 << len(tags.bits)):
            exactly = tags.exactly(shared)
            if exactly & same:
                levels[3 * shared + 2] = exactly & same
            if exactly & ~same:
                levels[3 * shared] = exactly & ~same
        structure = tags.at_least(1) | same  # every candidate with a structure
        only_category = same & ~tags.at_least(1)
        if only_category:
            levels[2] = only_category

        for value in sorted(levels, reverse=True):
            if value + 10.0 < floor:
                break  # this level and every lower one cannot reach the top
            least = needed(value)
            if least > size:
                continue
            members = levels[value]
            if least:  # only those sharing enough words
                members &= sharing(least)
            score(float(value), members)  # 3.0 * tags + 2.0 * category is exactly float(value)

        # Candidates sharing only words: those sharing at least `least` of them.
        least = max(1, needed(0))
        if floor <= 10.0 and least <= size:
            score(0.0, sharing(least) & ~structure)
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
