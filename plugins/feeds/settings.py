"""Settings of the feeds plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULTS = {
    "FEEDS_PATH": "feeds",
    "FEEDS_MAX_ITEMS": 20,
    "FEEDS_NEWSLETTER_DAYS": 45,
    "FEEDS_NEWSLETTER_MIN_ITEMS": 10,
    "FEEDS_NEW_PRODUCT_DAYS": 60,
    # Categories and tags written per entry in a category's or tag's feed (a post with hundreds of tags
    # appears in hundreds of segment feeds: all its terms in each would grow as the square of its tags).
    "FEEDS_SEGMENT_MAX_TERMS": 10,
}


class FeedsConfigurationError(ValueError):
    """A feeds setting is wrong."""


@dataclass(frozen=True)
class FeedsSettings:
    path: str
    max_items: int
    newsletter_days: int
    newsletter_min_items: int
    new_product_days: int
    segment_max_terms: int

    @classmethod
    def from_settings(cls, settings: dict) -> "FeedsSettings":
        def get(key):
            return settings.get(key, DEFAULTS[key])

        for key in ("FEEDS_MAX_ITEMS", "FEEDS_NEWSLETTER_DAYS", "FEEDS_NEWSLETTER_MIN_ITEMS", "FEEDS_NEW_PRODUCT_DAYS",
                    "FEEDS_SEGMENT_MAX_TERMS"):
            if not isinstance(get(key), int) or get(key) < 1:
                raise FeedsConfigurationError(f"{key} must be a whole number above 0")
        return cls(str(get("FEEDS_PATH")).strip("/"), get("FEEDS_MAX_ITEMS"), get("FEEDS_NEWSLETTER_DAYS"),
                   get("FEEDS_NEWSLETTER_MIN_ITEMS"), get("FEEDS_NEW_PRODUCT_DAYS"),
                   get("FEEDS_SEGMENT_MAX_TERMS"))
