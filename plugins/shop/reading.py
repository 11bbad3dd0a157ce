"""Read the shop's front-matter files (products, reviews, keyword lists) into records, reporting each bad file."""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from html import escape, unescape

import markdown
from bs4 import BeautifulSoup
from pelican import utils

from core import problems
from core.contentcache import FileCache, stamp
from core.parallel import map_chunks, reset_converter, workers_of, worth_a_pool
from core.sanitise import clean
from core.text import NOT_MARKUP, TAG_REST

from . import frontmatter, parse
from .catalog import MENTIONS_KEY
from .model import ProductError

logger = logging.getLogger(__name__)


CACHE_NAME = "ShopFiles"


class FrontMatterFiles:
    """Front-matter files of some folders of the content: fields, HTML body, mentions and text of each.

    Product bodies (`demote=True`) have their headings demoted below the page's own and their text taken,
    from one parse done with the conversion (in the pool when there is one); other files' text is None.

    With the build's settings it keeps Pelican's content-cache discipline (a file is read again only when its
    stamp, the settings or the plugins changed: core.contentcache) and converts the files its cache lacks in
    SITE_WORKERS processes; without them it reads every file itself.
    """

    def __init__(self, content_path: str, markdown_settings: dict, settings: dict | None = None):
        self.content_path = content_path
        self.markdown_config = markdown_config(markdown_settings)
        self._converter = None  # one converter for every file, reset in between
        self.cache = FileCache.for_settings(settings, CACHE_NAME) if settings is not None else None
        self.workers = workers_of(settings) if settings is not None else 1
        self.prepared: dict[str, tuple] = {}  # path -> (fields, html, mentions, text) converted by the pool

    def markdown(self, text: str) -> tuple[str, str]:
        """(HTML, product references) of a Markdown body."""
        if self._converter is None:
            self._converter = markdown.Markdown(**self.markdown_config)
        return convert_body(self._converter, text)

    def read(self, path: str, demote: bool = False):
        """(fields, html body, mentions, text, source path) of a front-matter file, or None after logging why."""
        source = os.path.join(self.content_path, path)
        file_stamp = _stamp(source, demote) if self.cache is not None else None
        if self.cache is not None:
            cached = self.cache.get(path, file_stamp)
            if cached is not None:
                return (*cached, source)
        read = self.prepared.pop(path, None) or self._read_here(source, demote)
        if read is None:
            return None
        if self.cache is not None:
            self.cache.put(path, file_stamp, read)
        return (*read, source)

    def _read_here(self, source: str, demote: bool):
        with open(source, "rb") as handle:
            data = handle.read()
        try:
            fields, body = frontmatter.split(data.decode("utf-8"))
        except UnicodeDecodeError as error:
            logger.error("%s:%s: %s", source, *problems.not_utf8(data, error))
            return None
        except frontmatter.FrontMatterError as error:
            logger.error("%s: %s", f"{source}:{error.line}" if error.line else source, error)
            return None
        html, mentions = self.markdown(body)
        return (fields, *_finished(html, mentions, demote))

    def _prepare(self, paths: list, demote: bool) -> None:
        """Convert in the pool the files of paths that the cache lacks (each failure is read again, here)."""
        stale = [path for path in paths
                 if self.cache is None or not self.cache.has(path, _stamp(os.path.join(self.content_path, path), demote))]
        sources = [os.path.join(self.content_path, path) for path in stale]
        if not worth_a_pool(sources, self.workers):
            return
        for path, read in zip(stale, map_chunks(read_files, (self.markdown_config, demote), sources, self.workers)):
            if read is not None:
                self.prepared[path] = read

    def published(self, paths, failures: list | None = None, demote: bool = False):
        """Every readable file of paths that is not a draft; the unreadable ones are added to failures."""
        paths = list(paths)
        self._prepare(paths, demote)
        yield from self._published(paths, failures, demote)
        self.prepared.clear()

    def save_cache(self) -> None:
        """Write the cache once, after every folder was read (entries of deleted files are dropped)."""
        if self.cache is not None:
            self.cache.save(lambda path: os.path.exists(os.path.join(self.content_path, path)))

    def _published(self, paths, failures, demote):
        for path in paths:
            read = self.read(path, demote)
            if read is None:
                if failures is not None:
                    failures.append(path)
                continue
            if str(read[0].get("status", "published")).lower() == "draft":
                continue
            yield read


def markdown_config(markdown_settings: dict) -> dict:
    """The site's Markdown settings without the meta extension (the fields are YAML, above the body)."""
    config = dict(markdown_settings)
    config["extensions"] = [e for e in config.get("extensions", []) if e != "markdown.extensions.meta"]
    return config


def convert_body(converter, text: str) -> tuple[str, str]:
    """(HTML, product references) of a body, with a converter reused from file to file."""
    reset_converter(converter)
    html = converter.convert(text)
    return html, (converter.Meta.get(MENTIONS_KEY) or [""])[0]


def _stamp(path: str, demote: bool):
    """A file's stamp, and whether its body was demoted: one file read both ways is cached both ways."""
    file_stamp = stamp(path)
    return None if file_stamp is None else (*file_stamp, demote)


def _finished(html: str, mentions: str, demote: bool) -> tuple[str, str, str | None]:
    """(html, mentions, text) of a converted body: a product's demoted, with its text, from one parse."""
    if not demote:
        return html, mentions, None
    body, text = demoted(html)
    return body, mentions, text


# Comments and script or style elements (kept as they are: no words to rank), or any other tag (its quoted
# values may hold ">"); what lies between is text. A heading tag h2-h5, opening or closing.
_TOKEN = re.compile(rf"(?P<kept>{NOT_MARKUP})|(?P<tag><{TAG_REST})", re.IGNORECASE | re.DOTALL)
_HEADING = re.compile(r"<(/?)h([2-5])(?=[\s/>])", re.IGNORECASE)


def demoted(html: str) -> tuple[str, str]:
    """(the body with its headings demoted, the body's text as keyword lists read it), in one pass.

    A product's body sits under the page's "Description" h2: its headings start at h3. Tags stay as
    Markdown wrote them; text is written with characters for entities (&rsquo; becomes ’) and only &, < and
    > escaped, as a parse and re-serialisation would; the text is every run of it, joined by spaces.
    """
    body, text = [], []

    def add_text(run: str) -> None:
        if run:
            plain = unescape(run)
            text.append(plain)
            body.append(escape(plain, quote=False))

    position = 0
    for match in _TOKEN.finditer(html):
        add_text(html[position:match.start()])
        kept, tag = match.group("kept", "tag")
        body.append(kept or _HEADING.sub(lambda h: f"<{h.group(1)}h{int(h.group(2)) + 1}", tag, count=1))
        position = match.end()
    add_text(html[position:])
    return "".join(body), " ".join(text)


def read_files(shared: tuple, sources: list) -> list:
    """In a worker: (fields, html, mentions, text) of each file, or None for one the build must read (and report)."""
    config, demote = shared
    converter = markdown.Markdown(**config)
    results = []
    for source in sources:
        try:
            with open(source, "rb") as handle:
                fields, body = frontmatter.split(handle.read().decode("utf-8"))
            results.append((fields, *_finished(*convert_body(converter, body), demote)))
        except Exception:  # noqa: BLE001 - read again by the build, which logs why
            results.append(None)
    return results


def date_field(fields: dict, source: str, name: str = "date", required: bool = True) -> dt.datetime | None:
    value = fields.get(name)
    if value is None:
        if required:
            logger.error("%s: field '%s': is required", source, name)
        return None
    try:
        return value if isinstance(value, dt.datetime) else utils.get_date(str(value))
    except (ValueError, TypeError):
        logger.error("%s: field '%s': %s", source, name, problems.not_a_date(str(value)))
        return None


def review(fields: dict, html: str, source: str):
    """A Review whose text is cleaned like a comment (customers wrote it), or None after logging why."""
    html = clean(html)
    try:
        return parse.review(fields, html, BeautifulSoup(html, "html.parser").get_text(" ").strip(), source)
    except ProductError as error:
        logger.error("%s: %s", source, error)
        return None
