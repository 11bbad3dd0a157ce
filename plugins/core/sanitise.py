"""Text written by visitors and customers (comments, reviews) is cleaned with one allow-list before it is embedded."""

from __future__ import annotations

import nh3

ALLOWED_TAGS = {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "del", "sup", "sub"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}


def clean(html: str) -> str:
    """HTML with only the allowed tags, links marked nofollow ugc, no scripts, styles or event handlers."""
    return nh3.clean(html or "", tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES, link_rel="nofollow ugc noopener",
                     url_schemes={"http", "https", "mailto"})
