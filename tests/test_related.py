"""Related items through the inverted index: the same answers as scoring every pair, for far fewer pairs."""

from __future__ import annotations

import random

import pytest

from shop import related
from shop.related import Profile, RelatedIndex, keywords, similarity


def every_pair(target: Profile, candidates: list[Profile], count: int) -> list[str]:
    """The reference: every candidate scored, the positive ones sorted by score, ties in the candidates' order."""
    scored = [(similarity(target, other), index, other.key)
              for index, other in enumerate(candidates) if other.key != target.key]
    scored = [entry for entry in scored if entry[0] > 0]
    scored.sort(key=lambda entry: (-entry[0], entry[1]))
    return [key for _, _, key in scored[:count]]


def corpus(seed: int, size: int, vocabulary: int, tags: int, categories: int) -> list[Profile]:
    """Random profiles with a skewed vocabulary: a few words everywhere, many rare; some items bare."""
    rng = random.Random(seed)
    words = [f"parola{i}" for i in range(vocabulary)]
    weights = [1.0 / (rank + 1) for rank in range(vocabulary)]
    items = []
    for index in range(size):
        drawn = rng.choices(words, weights, k=rng.choice([0, 1, 3, 6, 10, 15]))
        shown_tags = frozenset(rng.choices([f"tag{i}" for i in range(tags)], k=rng.choice([0, 0, 1, 2, 3])))
        category = rng.choice([""] + [f"cat{i}" for i in range(categories)])
        items.append(Profile(f"item-{index}", shown_tags, category, frozenset(drawn)))
    return items


@pytest.mark.parametrize("seed", range(40))
def test_the_index_gives_the_lists_of_every_pair_scored(seed):
    rng = random.Random(seed)
    items = corpus(seed, size=rng.choice([1, 5, 30, 80]), vocabulary=rng.choice([3, 12, 60]),
                   tags=rng.choice([1, 4, 10]), categories=rng.choice([1, 3, 8]))
    others = corpus(seed + 1000, size=rng.choice([0, 7, 40]), vocabulary=12, tags=4, categories=3)
    for candidates in (items, others, items + others):
        index = RelatedIndex(candidates)
        for target in items:
            for count in (0, 1, 3, 4, 7, 200, -2):
                assert index.most_related(target, count) == every_pair(target, candidates, count), (target, count)
                assert related.most_related(target, candidates, count) == every_pair(target, candidates, count)


@pytest.mark.parametrize("seed", range(3))
def test_a_large_catalogue_gets_the_lists_of_every_pair(seed):
    """Big masks (a few tags and words shared by hundreds, items with many tags): still every pair's lists."""
    rng = random.Random(seed)
    items = corpus(seed, size=1500, vocabulary=rng.choice([40, 300]), tags=rng.choice([6, 30]), categories=6)
    for item in items:  # more tags than corpus() gives: counts of shared tags up to five
        if rng.random() < 0.6:
            object.__setattr__(item, "tags", item.tags | {f"tag{rng.randrange(6)}" for _ in range(rng.randint(1, 4))})
    index = RelatedIndex(items)
    for target in rng.sample(items, 60):
        for count in (1, 4, 9):
            assert index.most_related(target, count) == every_pair(target, items, count), (target, count)


def test_ties_keep_the_candidates_order():
    same = [Profile(f"k{i}", frozenset({"a"}), "c", frozenset({"uno", "due"})) for i in range(6)]
    target = Profile("t", frozenset({"a"}), "c", frozenset({"uno", "due"}))
    assert RelatedIndex(list(reversed(same))).most_related(target, 3) == ["k5", "k4", "k3"]
    assert RelatedIndex(same).most_related(target, 3) == ["k0", "k1", "k2"]


def test_a_target_in_the_candidates_is_never_its_own_relative():
    items = [Profile("a", frozenset({"x"}), "c", frozenset({"lana"})), Profile("b", frozenset({"x"}), "", frozenset())]
    assert RelatedIndex(items).most_related(items[0], 5) == ["b"]


def test_items_that_share_nothing_are_not_scored_in_pairs():
    """2,000 items, each with its own words and tag, in pairs sharing a word: a few thousand scores, not 4 million."""
    items = []
    for index in range(2000):
        own = {f"unica{index}", f"coppia{index // 2}", "comune" if index % 100 == 0 else f"sola{index}"}
        items.append(Profile(f"item-{index}", frozenset({f"tag{index}"}), "", frozenset(own)))
    index = RelatedIndex(items)
    lists = [index.most_related(item, 4) for item in items]
    assert lists[0] == ["item-1", "item-100", "item-200", "item-300"]
    assert lists[3] == ["item-2"]
    assert index.scored < 10 * len(items)  # every pair would be 3,998,000


def test_a_shared_category_is_pruned_once_the_top_is_full():
    """Items of one big category: those whose words cannot reach the k-th best are not scored."""
    rng = random.Random(7)
    items = [Profile(f"item-{i}", frozenset({f"tag{i % 50}"}), "unica",
                     frozenset(rng.sample([f"parola{w}" for w in range(400)], k=8))) for i in range(1000)]
    index = RelatedIndex(items)
    for item in items[:100]:
        assert index.most_related(item, 4) == every_pair(item, items, 4)
    assert index.scored < 100 * 999 / 2


def test_keywords_leave_out_short_words_stopwords_and_digits():
    assert keywords("Lana merino della Val 2026", None) == frozenset({"lana", "merino"})


def test_counts_across_masks_say_how_many_hold_each_candidate():
    rng = random.Random(3)
    size = 300
    sets = [{i for i in range(size) if rng.random() < rng.choice([0.05, 0.5, 0.95])} for _ in range(23)]
    counts = related._Counts([related._mask(members, size) for members in sets], (1 << size) - 1)
    held = [sum(i in members for members in sets) for i in range(size)]
    for number in range(0, 26):
        assert related._members(counts.at_least(number)) == [i for i in range(size) if held[i] >= number], number
        assert related._members(counts.exactly(number)) == [i for i in range(size) if held[i] == number], number
