"""New content files for the writer: slugs, the post template, and writing a file that never overwrites."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path


class ScaffoldError(ValueError):
    """A new content file cannot be written; the message says why and what to do."""


def slugify(text: str) -> str:
    from pelican.utils import slugify as pelican_slugify

    return pelican_slugify(text, regex_subs=[(r"[^\w\s-]", ""), (r"[-\s]+", "-")])


def now_minute() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


def write_new(path: Path, text: str, root: Path) -> Path:
    """Write a new content file, refusing to overwrite one that exists; the path relative to root."""
    relative = path.relative_to(root)
    if path.exists():
        raise ScaffoldError(f"{relative} already exists: choose another title or edit that file.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return relative


POST_TEMPLATE = """\
Title: {title}
Slug: {slug}
Date: {date}
Category: {category}
Tags: bottega
Summary: Una o due frasi che dicono di cosa parla l'articolo: appaiono negli elenchi e nei motori di ricerca.
Lang: {lang}
Uid: {uid}
Status: draft
Image:
Image_alt:

Scrivi qui l'articolo in Markdown. Metti `Status: published` quando è pronto;
per un'immagine di apertura indica in `Image:` un file di content/images/ e descrivilo in `Image_alt:`.

## Un sottotitolo

Un paragrafo, un [link a un'altra pagina]({{filename}}/pages/chi-siamo.md).
"""


def required_slug(text: str, what: str = "title") -> str:
    """The slug of a new post's title or product's name; an error when it has nothing to make one from."""
    slug = slugify(text)
    if not slug:
        raise ScaffoldError(f"The {what} has no letters or digits to make a slug from.")
    return slug


def post_file(title: str, slug: str, category: str, lang: str) -> str:
    """A draft post with every field filled in."""
    return POST_TEMPLATE.format(title=title, slug=slug, date=now_minute(), category=category, lang=lang,
                                uid=uuid.uuid4())
