"""Read the shop's front-matter files (products, reviews, keyword lists) into records, reporting each bad file."""

from __future__ import annotations

import datetime as dt
import logging
import os

import markdown
from bs4 import BeautifulSoup
from pelican.utils import get_date

from core import problems
from core.sanitise import clean

from . import frontmatter, parse
from .catalog import MENTIONS_KEY
from .model import ProductError

logger = logging.getLogger(__name__)


class FrontMatterFiles:
    """Front-matter files of some folders of the content: fields, HTML body and mentions of each."""

    def __init__(self, content_path: str, markdown_settings: dict):
        self.content_path = content_path
        config = dict(markdown_settings)
        config["extensions"] = [e for e in config.get("extensions", []) if e != "markdown.extensions.meta"]
        self.markdown_config = config

    def markdown(self, text: str) -> tuple[str, str]:
        """(HTML, product references) of a Markdown body."""
        converter = markdown.Markdown(**self.markdown_config)
        html = converter.convert(text)
        return html, (getattr(converter, "Meta", {}).get(MENTIONS_KEY) or [""])[0]

    def read(self, path: str):
        """(fields, html body, mentions, source path) of a front-matter file, or None after logging why."""
        source = os.path.join(self.content_path, path)
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
        return fields, html, mentions, source

    def published(self, paths, failures: list | None = None):
        """Every readable file of paths that is not a draft; the unreadable ones are added to failures."""
        for path in paths:
            read = self.read(path)
            if read is None:
                if failures is not None:
                    failures.append(path)
                continue
            if str(read[0].get("status", "published")).lower() == "draft":
                continue
            yield read


def date_field(fields: dict, source: str, name: str = "date", required: bool = True) -> dt.datetime | None:
    value = fields.get(name)
    if value is None:
        if required:
            logger.error("%s: field '%s': is required", source, name)
        return None
    try:
        return value if isinstance(value, dt.datetime) else get_date(str(value))
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
