"""Work Pelican and Python-Markdown repeat for a fixed answer, done once or skipped: the same results.

Relative source paths. Every `url` and `save_as` of a post, page or product formats its URL setting anew, and each of those
calls `get_relative_source_path`, two `abspath`s and a `relpath` of strings that do not change during a
build: on a 4,000-page shop that is 180,000 calls, a tenth of the build. The answer depends only on the
content folder, the source path and the working folder, so it is kept per those three.

URLs. Formatting a URL setting builds `url_format`, a copy of the item's metadata with its path, slug,
language, date, author and category, of which "blog/{slug}/" reads one: only the fields the setting names
are computed, as url_format computes them.

Inline patterns. Python-Markdown tries each of its inline patterns (about fifteen, and smarty's twenty
more) on every text of a document, one regular expression and a round of Python each. A pattern whose
every match holds a character the text does not have (a backtick, a bracket, an asterisk, a quote) is
skipped, as the stock loop moves on from a pattern that finds nothing: a third of the Markdown time.

Dates. Pelican reads every Date and Modified with dateutil's parser (about 50 microseconds each, in the
build's own process); a date written as ISO's "2026-03-05", "2026-03-05 10:00" or "2026-03-05T10:00:07",
without a zone, is the same SafeDatetime read by its numbers. Any other text, or numbers that are no
date, go to dateutil as before.
"""

from __future__ import annotations

import datetime
import os
import re
from functools import lru_cache

from pelican import utils
from pelican.contents import Content
from pelican.utils import path_to_url

_original = Content.get_relative_source_path
_original_get_date = utils.get_date
_ISO_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d))?)?")
_original_expand = Content._expand_settings


@lru_cache(maxsize=65536)
def _relative(path_setting: str, source_path: str, cwd: str) -> str:
    from pelican.utils import posixize_path

    return posixize_path(os.path.relpath(os.path.abspath(os.path.join(path_setting, source_path)),
                                         os.path.abspath(path_setting)))


def get_relative_source_path(self, source_path: str | None = None) -> str | None:
    source_path = source_path or self.source_path
    if source_path is None:
        return None
    return _relative(str(self.settings["PATH"]), str(source_path), os.getcwd())


@lru_cache(maxsize=1024)
def _url_fields(pattern: str) -> tuple[str, ...] | None:
    """The names a URL setting formats ("blog/{date:%Y}/{slug}/": date, slug); None when it is not that plain."""
    import _string
    from string import Formatter

    names = []
    try:
        for _, field, spec, _ in Formatter().parse(pattern):
            if field is None:
                continue
            first, _ = _string.formatter_field_name_split(field)
            if not isinstance(first, str) or not first or (spec and "{" in spec):
                return None  # a positional or nested field: Pelican's own formatting says what it means
            names.append(first)
    except ValueError:
        return None
    return tuple(dict.fromkeys(names))


def _url_value(item: Content, name: str):
    """One value of Content.url_format, computed alone."""
    if name == "path":
        return path_to_url(item.metadata.get("path", item.get_relative_source_path()))
    if name == "slug":
        return getattr(item, "slug", "")
    if name == "lang":
        return getattr(item, "lang", "en")
    if name == "date":
        return item.date if hasattr(item, "date") else datetime.datetime.now()
    if name in ("author", "category"):
        return getattr(item, name).slug if hasattr(item, name) else ""
    return item.metadata[name]  # a field the setting names that the item lacks: the KeyError Pelican raises


def expand_settings(self, key: str, klass: str | None = None) -> str:
    pattern = str(self.settings[f"{klass or self.__class__.__name__}_{key}".upper()])
    names = _url_fields(pattern)
    if names is None or type(self).url_format is not Content.url_format:
        return pattern.format(**self.url_format)
    return pattern.format(**{name: _url_value(self, name) for name in names})


@lru_cache(maxsize=1)
def _smarty_literals() -> dict[str, str]:
    """The sequence each of smarty's patterns needs, by the pattern's exact regular expression."""
    from markdown.extensions import smarty

    single, double = "'", '"'
    return {
        smarty.singleQuoteStartRe: single, smarty.doubleQuoteStartRe: double,
        smarty.doubleQuoteSetsRe: double, smarty.singleQuoteSetsRe: single,
        smarty.doubleQuoteSetsRe2: single, smarty.singleQuoteSetsRe2: double,
        smarty.decadeAbbrRe: single, smarty.openingSingleQuotesRegex: single,
        smarty.closingSingleQuotesRegex: single, smarty.closingSingleQuotesRegex2: single,
        smarty.remainingSingleQuotesRegex: single, smarty.openingDoubleQuotesRegex: double,
        smarty.closingDoubleQuotesRegex: double, smarty.closingDoubleQuotesRegex2: double,
        smarty.remainingDoubleQuotesRegex: double,
        r"(?<!-)---(?!-)": "---", r"(?<!-)--(?!-)": "--", r"(?<!\.)\.{3}(?!\.)": "...",
        r"\<\<": "<<", r"\>\>": ">>",
    }


def _caseless(character: str) -> bool:
    """Whether a character matches only itself under every flag (no letter: IGNORECASE cannot widen it)."""
    return character.lower() == character == character.upper()


def _needs(parsed) -> list[frozenset[str]]:
    """What every match of a parsed expression contains: groups of strings, each group holding at least one.

    Only what a match consumes counts (lookarounds, classes and anything unknown give nothing), so a text
    lacking every string of one group cannot hold a match.
    """
    from re import _constants as sre

    groups: list[frozenset[str]] = []
    for op, value in parsed:
        if op is sre.LITERAL and _caseless(chr(value)):
            groups.append(frozenset({chr(value)}))
        elif op is sre.IN and value and all(kind is sre.LITERAL and _caseless(chr(c)) for kind, c in value):
            groups.append(frozenset(chr(c) for _, c in value))  # one of a few characters: [*_], or \*|_
        elif op is sre.SUBPATTERN:
            groups += _needs(value[-1])
        elif op is getattr(sre, "ATOMIC_GROUP", None):
            groups += _needs(value)
        elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", None)) and value[0] >= 1:
            groups += _needs(value[2])
        elif op is sre.BRANCH:
            # Each branch must hold one of the group: its own best group (the fewest strings) joins it.
            best = [min(_needs(branch), key=len, default=None) for branch in value[1]]
            if all(best):
                groups.append(frozenset().union(*best))
    return list(dict.fromkeys(groups))


def needs_of(compiled) -> tuple[frozenset[str], ...]:
    """What a text must contain for an inline pattern's expression to match anywhere in it (() when unknown)."""
    known = _smarty_literals().get(compiled.pattern)
    if known is not None:
        return (frozenset({known}),)
    try:
        from re import _parser

        return tuple(_needs(_parser.parse(compiled.pattern, compiled.flags)))
    except Exception:  # noqa: BLE001 - an expression this cannot read is always tried
        return ()


# Characters most prose has: a pattern is better told apart by another one it needs.
_COMMON = frozenset(" \n.,;:!?'\"-()")


def _test_of(needs: tuple[frozenset[str], ...]) -> tuple[frozenset[str] | None, str | None]:
    """The one look at a text that can rule a pattern out: (characters, one of which it needs) or (None, a
    longer sequence it needs); (None, None) when nothing can."""
    if not needs:
        return None, None
    group = min(needs, key=lambda g: (len(g & _COMMON), -max(map(len, g)), len(g)))
    if len(group) == 1 and len(next(iter(group))) > 1:
        return None, next(iter(group))
    if any(len(s) > 1 for s in group):
        return frozenset(s[0] for s in group), None  # the first character of each: a weaker, still true, test
    return group, None


def stock_inline_processor():
    """Python-Markdown's own InlineProcessor, also after install()."""
    from markdown.treeprocessors import InlineProcessor

    return next(kind for kind in InlineProcessor.__mro__ if "skips_patterns" not in vars(kind))


def skipping_processor_class(base=None):
    """Python-Markdown's InlineProcessor, skipping each pattern a text cannot match: the same tree, sooner.

    Every text node goes through every inline pattern in turn; most of them need a character the text
    does not have (a backtick, a bracket, a quote...). Skipping one is what the stock loop does when the
    pattern finds no match: the next pattern is tried from the start of the text.
    """
    from markdown import util

    base = base or stock_inline_processor()
    known: dict[tuple[str, int], tuple] = {}

    class SkippingInlineProcessor(base):
        skips_patterns = True

        def run(self, tree, ancestors=None):
            # The plan of this document's patterns: an extension may have registered more since the last one.
            self._plan_list = [(pattern, *self._test(pattern)) for pattern in self.inlinePatterns]
            return super().run(tree, ancestors)

        @staticmethod
        def _test(pattern) -> tuple:
            """(characters one of which the pattern needs, or a sequence it needs), read once per expression."""
            compiled = pattern.compiled_re
            test = known.get((compiled.pattern, compiled.flags))
            if test is None:
                test = known[(compiled.pattern, compiled.flags)] = _test_of(needs_of(compiled))
            return test

        def _InlineProcessor__handleInline(self, data, patternIndex=0):
            if isinstance(data, util.AtomicString):
                return data
            plan = self._plan_list
            apply = self._InlineProcessor__applyPattern
            start, count, present = 0, len(plan), None
            while patternIndex < count:
                pattern, characters, sequence = plan[patternIndex]
                if characters is not None:
                    if present is None:
                        present = set(data)
                    skip = present.isdisjoint(characters)
                else:
                    skip = sequence is not None and sequence not in data
                if skip:
                    patternIndex, start = patternIndex + 1, 0  # as a pattern that does not match
                    continue
                data, matched, start = apply(pattern, data, patternIndex, start)
                if matched:
                    present = None  # the text changed
                else:
                    patternIndex += 1
            return data

    return SkippingInlineProcessor


def get_date(string: str) -> datetime.datetime:
    """pelican.utils.get_date, without dateutil for a plain ISO date and time (the same SafeDatetime)."""
    match = _ISO_DATE.fullmatch(string) if isinstance(string, str) else None
    if match is not None:
        try:
            return utils.SafeDatetime(*(int(number or 0) for number in match.groups()))
        except ValueError:
            pass  # no such day or hour: dateutil's own answer, and its error
    return _original_get_date(string)


def install() -> None:
    """Once per process (at plugin registration); a second call changes nothing."""
    from markdown import treeprocessors
    from markdown.extensions import smarty

    from pelican import readers

    Content.get_relative_source_path = get_relative_source_path
    Content._expand_settings = expand_settings
    utils.get_date = readers.get_date = get_date  # readers' Date and Modified read it from its module
    if not getattr(treeprocessors.InlineProcessor, "skips_patterns", False):
        # The document's inline pass (built by treeprocessors.build_treeprocessors) and smarty's own.
        treeprocessors.InlineProcessor = smarty.InlineProcessor = skipping_processor_class()
