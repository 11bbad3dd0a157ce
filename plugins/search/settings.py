"""Settings of the search plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

DEFAULTS = {
    "SEARCH_ENABLED": True,
    # The search page of each language (its URL; saved as URL + index.html). Each of these languages gets
    # an index of its own; posts in a language without a page are not indexed.
    "SEARCH_PAGES": {"it": "cerca/", "en": "en/search/"},
    # The folder of the index and of Pagefind's script in the output.
    "SEARCH_OUTPUT": "pagefind",
    # The limits between the price bands of the price filter, in the shop's currency, from low to high:
    # "up to 50", "50-150", ..., "over 1,500".
    "SEARCH_PRICE_BANDS": ("50", "150", "500", "1500"),
    "SEARCH_PRODUCTS": True,
    "SEARCH_POSTS": True,
    # Results shown at once; a "more results" button shows the next as many.
    "SEARCH_PAGE_SIZE": 12,
}


class SearchConfigurationError(ValueError):
    """A search setting is wrong."""


@dataclass(frozen=True)
class SearchSettings:
    enabled: bool
    pages: tuple[tuple[str, str], ...]  # (language, URL) with the site's language first
    output: str
    price_bands: tuple[Decimal, ...]
    products: bool
    posts: bool
    page_size: int

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang, _ in self.pages)

    def page_url(self, lang: str) -> str:
        """The search page of a language, else the site's language's (the first)."""
        return dict(self.pages).get(lang, self.pages[0][1])

    @classmethod
    def from_settings(cls, settings: dict) -> "SearchSettings":
        def get(key):
            return settings.get(key, DEFAULTS[key])

        default_lang = settings.get("DEFAULT_LANG", "it")
        pages = get("SEARCH_PAGES")
        if not isinstance(pages, dict) or default_lang not in pages:
            raise SearchConfigurationError(
                f"SEARCH_PAGES must be a dict of language -> URL that names DEFAULT_LANG {default_lang!r}, "
                f'e.g. {{"{default_lang}": "cerca/"}}')
        for lang, url in pages.items():
            if not isinstance(url, str) or not url.endswith("/") or url.startswith("/") or "//" in url:
                raise SearchConfigurationError(
                    f"SEARCH_PAGES[{lang!r}] must be a relative URL ending in '/', like 'cerca/' (got {url!r})")
        # A search page only for the languages the site has (a shop in Italian alone gets no English one).
        languages = set(settings.get("SITE_LANGUAGES") or pages)
        ordered = ((default_lang, pages[default_lang]),
                   *((k, v) for k, v in pages.items() if k != default_lang and k in languages))
        output = str(get("SEARCH_OUTPUT")).strip("/")
        if not output or output.startswith(".") or "/" in output or "\\" in output:
            raise SearchConfigurationError(
                f"SEARCH_OUTPUT must be one folder name, like 'pagefind' (got {get('SEARCH_OUTPUT')!r})")
        page_size = get("SEARCH_PAGE_SIZE")
        if not isinstance(page_size, int) or isinstance(page_size, bool) or page_size < 1:
            raise SearchConfigurationError(f"SEARCH_PAGE_SIZE must be a whole number above 0 (got {page_size!r})")
        return cls(enabled=bool(get("SEARCH_ENABLED")), pages=ordered, output=output,
                   price_bands=price_bands(get("SEARCH_PRICE_BANDS")), products=bool(get("SEARCH_PRODUCTS")),
                   posts=bool(get("SEARCH_POSTS")), page_size=page_size)


def price_bands(values) -> tuple[Decimal, ...]:
    """The limits of SEARCH_PRICE_BANDS as amounts: above 0 and rising."""
    message = 'SEARCH_PRICE_BANDS must be amounts above 0 from low to high, like ("50", "150", "500")'
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise SearchConfigurationError(f"{message} (got {values!r})")
    try:
        limits = tuple(Decimal(str(value)) for value in values)
    except InvalidOperation:
        raise SearchConfigurationError(f"{message} (got {values!r})") from None
    if not all(limit.is_finite() and limit > 0 for limit in limits) or list(limits) != sorted(set(limits)):
        raise SearchConfigurationError(f"{message} (got {values!r})")
    return limits
