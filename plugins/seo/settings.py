"""Settings of the seo plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULTS = {
    "SEO_NOINDEX_TAGS": True,
    "SEO_NOINDEX_PAGINATED": True,
    "SEO_SITEMAP_MAX_URLS": 50000,
    "SEO_ROBOTS_DISALLOW": [],
    "SEO_ROBOTS_EXTRA": "",
    "SEO_SAME_AS": [],
    "SEO_ORGANIZATION_AUTHORS": [],
    "SEO_PAGE_TYPES": {},
}
PAGE_TYPES = ("WebPage", "AboutPage", "ContactPage", "FAQPage", "CheckoutPage", "CollectionPage")


class SeoConfigurationError(ValueError):
    """An SEO setting is wrong."""


@dataclass(frozen=True)
class SeoSettings:
    noindex_tags: bool
    noindex_paginated: bool
    sitemap_max_urls: int
    robots_disallow: tuple[str, ...]
    robots_extra: str
    same_as: tuple[str, ...]
    organization_authors: frozenset[str]
    page_types: dict

    @classmethod
    def from_settings(cls, settings: dict) -> "SeoSettings":
        def get(key):
            return settings.get(key, DEFAULTS[key])

        max_urls = get("SEO_SITEMAP_MAX_URLS")
        if not isinstance(max_urls, int) or not 1 <= max_urls <= 50000:
            raise SeoConfigurationError("SEO_SITEMAP_MAX_URLS must be between 1 and 50000 (the sitemap protocol's limit)")
        disallow = tuple(get("SEO_ROBOTS_DISALLOW"))
        for path in disallow:
            if not path.startswith("/"):
                raise SeoConfigurationError(f"SEO_ROBOTS_DISALLOW: {path!r} must start with /")
        same_as = tuple(get("SEO_SAME_AS"))
        for url in same_as:
            if not str(url).startswith("https://"):
                raise SeoConfigurationError(f"SEO_SAME_AS: {url!r} must be an https:// profile URL")
        page_types = dict(get("SEO_PAGE_TYPES"))
        for slug, kind in page_types.items():
            if kind not in PAGE_TYPES:
                raise SeoConfigurationError(f"SEO_PAGE_TYPES[{slug!r}]: {kind!r} is not one of {', '.join(PAGE_TYPES)}")
        return cls(bool(get("SEO_NOINDEX_TAGS")), bool(get("SEO_NOINDEX_PAGINATED")), max_urls, disallow,
                   str(get("SEO_ROBOTS_EXTRA")), same_as, frozenset(get("SEO_ORGANIZATION_AUTHORS")), page_types)
