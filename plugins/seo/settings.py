"""Settings of the seo plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULTS = {
    "SEO_NOINDEX_TAGS": True,
    "SEO_NOINDEX_PAGINATED": True,
    "SEO_SITEMAP_MAX_URLS": 50000,
    "SEO_ROBOTS_DISALLOW": ["/bozze/"],
    "SEO_ROBOTS_EXTRA": "",
}


class SeoConfigurationError(ValueError):
    """An SEO setting is wrong."""


@dataclass(frozen=True)
class SeoSettings:
    noindex_tags: bool
    noindex_paginated: bool
    sitemap_max_urls: int
    robots_disallow: tuple[str, ...]
    robots_extra: str

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
        return cls(bool(get("SEO_NOINDEX_TAGS")), bool(get("SEO_NOINDEX_PAGINATED")), max_urls, disallow,
                   str(get("SEO_ROBOTS_EXTRA")))
