"""What a template is rendering, read from its Jinja context: one answer for every plugin that asks."""

from __future__ import annotations

import re

ITEM_KEYS = ("article", "page", "product")


def rendered_item(context):
    """The post, page or product the page shows, or None on listings and other direct templates."""
    for key in ITEM_KEYS:
        item = context.get(key)
        if item is not None:
            return item
    return None


def listing_page(context):
    """The current page of a paginated listing (Pelican's articles_page, the shop's products_page...), or None."""
    for key, value in context.items():
        if key.endswith("_page") and hasattr(value, "object_list") and hasattr(value, "paginator"):
            return value
    return None


def clean_path(relative: str) -> str:
    """The URL path of an output file: "blog/x/index.html" is served as "blog/x/"."""
    if relative == "index.html" or relative.endswith("/index.html"):
        return relative[: -len("index.html")]
    return relative


def apply_defaults(settings: dict, defaults: dict) -> None:
    """Fill a plugin's settings the site does not set, before they are validated."""
    for key, value in defaults.items():
        settings.setdefault(key, value)


# A slot's place in a card rendered once: filled, on each page, with the value that page gives it.
SLOT = "\x00slot:{}\x00"
_SLOTS = re.compile(SLOT.format(r"(\w+)"))


def card_memo(default_lang: str):
    """A Jinja global, memo(macro, item, *args, **slots): the macro's HTML for item rendered once per build and language.

    A card (a product's or a post's) depends on its item, the macro's arguments, the site URL and the language
    of the page that shows it, never on the rest of the page: a listing, a related block or the home page
    reuse the HTML the first page rendered, instead of rendering it again on each of them. What differs from
    page to page within a card (its heading's level, how its image loads) is passed as slots: the card is
    rendered once with a mark in each slot's place, and each page's values are written in those places,
    escaped as the template would escape them. A slot is only ever written out by the card, never tested
    or filtered there; a card whose marks do not come out as written (a filter changed one) is rendered
    with the page's own values each time: slower, never different.
    """
    from jinja2 import pass_context
    from markupsafe import Markup, escape

    from .i18n import page_lang

    rendered: dict[tuple, tuple[object, list | None]] = {}  # key -> (item, its parts); the item kept for its id

    def parts_of(macro, item, args, names) -> list | None:
        """[text, slot name, text, ...] of the card rendered with marks, or None when the marks did not survive."""
        html = macro(item, *args, **{name: Markup(SLOT.format(name)) for name in names})
        parts = _SLOTS.split(str(html))
        if any("\x00" in text for text in parts[::2]) or not set(parts[1::2]) <= set(names):
            return None
        return parts

    @pass_context
    def memo(context, macro, item, *args, **slots):
        names = tuple(sorted(slots))
        key = (macro._func.__code__, id(item), args, names, context.get("SITEURL"), page_lang(context, default_lang))
        known = rendered.get(key)
        if known is None or known[0] is not item:
            known = rendered[key] = (item, parts_of(macro, item, args, names))
        parts = known[1]
        if parts is None:
            return macro(item, *args, **slots)
        autoescape = context.eval_ctx.autoescape
        if len(parts) == 1:
            html = parts[0]
        else:
            fill = escape if autoescape else str
            html = "".join(text if index % 2 == 0 else fill(slots[text]) for index, text in enumerate(parts))
        return Markup(html) if autoescape else html

    return memo
