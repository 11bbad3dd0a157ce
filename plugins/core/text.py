"""Plain-text helpers: descriptions for meta tags and listings."""

from __future__ import annotations

from bs4 import BeautifulSoup

# Regular-expression pieces for the scans that read HTML without parsing it (images, product bodies):
# what holds no tags or words to read (comments, script and style elements with their raw text), and the
# rest of a tag after its name (its quoted values may hold ">").
NOT_MARKUP = r"<!--.*?-->|<(?P<raw>script|style)\b.*?</(?P=raw)\s*>"
TAG_REST = r"""(?:[^>"']|"[^"]*"|'[^']*')*>"""


def plain_text(html: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    text = BeautifulSoup(html or "", "html.parser").get_text(" ")
    return " ".join(text.split())


def trim(text: str, limit: int) -> str:
    """Cut text at the last word boundary before limit, marking the cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–—") + "…"


def describe(summary: str | None, body_html: str, limit: int) -> str:
    """A page's description: the author's summary as written, else the start of the body."""
    if summary:
        return trim(summary, limit)
    return trim(plain_text(body_html), limit)
