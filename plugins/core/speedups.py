"""Work Pelican and Python-Markdown repeat for a fixed answer, done once or skipped: the same results.

Relative source paths. Every `url` and `save_as` of a post, page or product formats its URL setting anew, and each of those
calls `get_relative_source_path`, two `abspath`s and a `relpath` of strings that do not change during a
build: on a 4,000-page shop that is 180,000 calls, a tenth of the build. The answer depends only on the
content folder, the source path and the working folder, so it is kept per those three.
"""

from __future__ import annotations

import os
from functools import lru_cache

from pelican.contents import Content

_original = Content.get_relative_source_path


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


def smarty_processor_class():
    """Python-Markdown's InlineProcessor, skipping the smarty patterns a text cannot match."""
    from markdown import util
    from markdown.treeprocessors import InlineProcessor

    literals_by_source = _smarty_literals()

    class SmartyInlineProcessor(InlineProcessor):
        def _needed(self) -> list:
            patterns = self.inlinePatterns
            key = (id(patterns), len(patterns))
            if getattr(self, "_needed_key", None) != key:
                self._needed_key = key
                # None: a pattern this table does not know is always tried.
                self._needed_list = [literals_by_source.get(pattern.compiled_re.pattern) for pattern in patterns]
            return self._needed_list

        def _InlineProcessor__handleInline(self, data, patternIndex=0):
            if isinstance(data, util.AtomicString):
                return data
            needed = self._needed()
            apply = self._InlineProcessor__applyPattern
            start, count = 0, len(self.inlinePatterns)
            while patternIndex < count:
                literal = needed[patternIndex]
                if literal is not None and literal not in data:
                    patternIndex, start = patternIndex + 1, 0  # as a pattern that does not match
                    continue
                data, matched, start = apply(self.inlinePatterns[patternIndex], data, patternIndex, start)
                if not matched:
                    patternIndex += 1
            return data

    return SmartyInlineProcessor


def install() -> None:
    """Once per process (at plugin registration); a second call changes nothing."""
    from markdown.extensions import smarty

    Content.get_relative_source_path = get_relative_source_path
    if not getattr(smarty.InlineProcessor, "skips_patterns", False):
        smarty.InlineProcessor = smarty_processor_class()
        smarty.InlineProcessor.skips_patterns = True
