"""Order links: text for a mailto: URL, from what the templates composed."""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup


def mailto_text(value) -> str:
    """Percent-encode text for a mailto: subject or body.

    Text composed in an autoescaping template is Markup with its quotes and ampersands escaped;
    an e-mail wants the characters themselves, so the escaping is undone before encoding.
    """
    plain = value.unescape() if isinstance(value, Markup) else str(value)
    return quote(plain, safe="")
