"""Slugs from WordPress: percent-decoded to readable Unicode, made safe for a file name and a URL."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import unquote

MAX_LENGTH = 80
_UNSAFE = re.compile(r"[^\w-]+")
_DASHES = re.compile(r"[-_]{2,}|-+")


def safe_slug(text: str, max_length: int = MAX_LENGTH) -> str:
    """Lower-case letters (any script), digits and single dashes, at most max_length characters, cut at a dash."""
    text = unicodedata.normalize("NFC", str(text)).lower()
    text = _DASHES.sub("-", _UNSAFE.sub("-", text)).strip("-_")
    if len(text) > max_length:
        cut = text[:max_length]
        text = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return text.strip("-_")


def decode_slug(raw: str, max_length: int = MAX_LENGTH) -> str:
    """WordPress's post_name (`%ce%ba%ce%b1...` for non-Latin slugs) as a readable, safe slug."""
    return safe_slug(unquote(str(raw or "")), max_length)


def slug_for(post_name: str, title: str, fallback: str) -> str:
    """The slug WordPress gave, else one from the title, else the fallback (an item with neither)."""
    return decode_slug(post_name) or safe_slug(title) or fallback
