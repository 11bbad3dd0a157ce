"""Which pages search engines should index: one decision, used by the <meta name=robots> tag and the sitemap."""

from __future__ import annotations

from core.rendering import listing_page, rendered_item
from shop.catalog import DEFAULT_SORT

NOINDEX_FOLLOW = "noindex,follow"
NOINDEX = "noindex"


def listing_number(context) -> int:
    """The page number of a paginated listing (1 when the page is not one)."""
    listing = listing_page(context)
    return listing.number if listing is not None else 1


def directive(context, config) -> str | None:
    """The robots directive for the page being rendered, or None when it may be indexed."""
    if context.get("output_file") == "404.html":
        return NOINDEX
    item = rendered_item(context)
    if item is not None and getattr(item, "status", "published") != "published":
        return NOINDEX
    if getattr(item, "robots", None):  # a page that states its own (the search page: for visitors only)
        return item.robots
    if config.noindex_tags and context.get("tag") is not None:
        return NOINDEX_FOLLOW
    if context.get("sort_slug") not in (None, DEFAULT_SORT):
        return NOINDEX_FOLLOW
    if config.noindex_paginated and listing_number(context) > 1:
        return NOINDEX_FOLLOW
    return None
