"""HTML (a WooCommerce description, cleaned first) as Markdown, with html2text (already the newsletter's)."""

from __future__ import annotations

import html2text

from . import wpmarkup


def to_markdown(html: str, resolve_image=lambda url: None) -> str:
    """Markdown for the clean version of html: paragraphs, lists, links, emphasis; images only when local."""
    cleaned = wpmarkup.clean(html, resolve_image).html
    converter = html2text.HTML2Text()
    converter.body_width = 0  # one line per paragraph: diffs of a later import stay readable
    converter.unicode_snob = True
    converter.protect_links = True
    converter.wrap_links = False
    converter.ul_item_mark = "-"
    return converter.handle(cleaned).strip()
