"""What a template is rendering, read from its Jinja context: one answer for every plugin that asks."""

from __future__ import annotations

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


def card_memo(default_lang: str):
    """A Jinja global, memo(macro, item, *args): the macro's HTML for item rendered once per build and language.

    A card (a product's or a post's) depends on its item, the macro's arguments, the site URL and the language
    of the page that shows it, never on the rest of the page: a listing, a related block or the home page
    reuse the HTML the first page rendered, instead of rendering it again on each of them.
    """
    from jinja2 import pass_context

    from .i18n import page_lang

    rendered: dict[tuple, tuple[object, str]] = {}  # key -> (item, HTML); the item kept so its id stays its own

    @pass_context
    def memo(context, macro, item, *args):
        key = (macro._func.__code__, id(item), args, context.get("SITEURL"), page_lang(context, default_lang))
        known = rendered.get(key)
        if known is None or known[0] is not item:
            known = rendered[key] = (item, macro(item, *args))
        return known[1]

    return memo
