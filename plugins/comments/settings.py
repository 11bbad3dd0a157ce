"""Settings of the comments plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULTS = {
    "COMMENTS_PROVIDER": "isso",
    "COMMENTS_ON_PRODUCTS": True,
    "COMMENTS_ISSO_URL": "http://127.0.0.1:8080",
    "COMMENTS_ISSO_BUILD_URL": None,  # None: the public URL; "": do not fetch at build time
    "COMMENTS_ISSO_TIMEOUT": 5,
    "COMMENTS_CACHE_FILE": "comments-cache.json",  # under CACHE_PATH
    "COMMENTS_GISCUS": {},
    "COMMENTS_DISQUS_SHORTNAME": "",
    "COMMENTS_PRIVACY_PAGE": "privacy",
}
PROVIDERS = ("isso", "giscus", "disqus", "none")
GISCUS_KEYS = ("repo", "repo_id", "category", "category_id")
THIRD_PARTY = {"giscus": ("giscus", "https://giscus.app"), "disqus": ("Disqus", "https://disqus.com")}


class CommentsConfigurationError(ValueError):
    """A comments setting is missing or wrong."""


@dataclass(frozen=True)
class CommentsSettings:
    provider: str
    on_products: bool
    isso_url: str
    isso_build_url: str
    isso_timeout: float
    cache_file: str
    giscus: dict = field(default_factory=dict)
    disqus_shortname: str = ""
    privacy_page: str = "privacy"

    @property
    def third_party(self) -> tuple[str, str] | None:
        """(name, origin) of a third-party provider that needs the visitor's consent, else None."""
        return THIRD_PARTY.get(self.provider)

    @classmethod
    def from_settings(cls, settings: dict) -> "CommentsSettings":
        def get(key):
            return settings.get(key, DEFAULTS[key])

        provider = get("COMMENTS_PROVIDER")
        if provider not in PROVIDERS:
            raise CommentsConfigurationError(f"COMMENTS_PROVIDER {provider!r}: use one of {', '.join(PROVIDERS)}")
        isso_url = str(get("COMMENTS_ISSO_URL") or "").rstrip("/")
        if provider == "isso" and not isso_url.startswith(("http://", "https://")):
            raise CommentsConfigurationError("COMMENTS_ISSO_URL must be the absolute URL where Isso answers")
        build_url = os.environ.get("VETRINA_ISSO_BUILD_URL", get("COMMENTS_ISSO_BUILD_URL"))
        build_url = isso_url if build_url is None else str(build_url).rstrip("/")
        giscus = dict(get("COMMENTS_GISCUS"))
        if provider == "giscus":
            missing = [key for key in GISCUS_KEYS if not giscus.get(key)]
            if missing:
                raise CommentsConfigurationError(f"COMMENTS_GISCUS needs {', '.join(missing)} (from giscus.app)")
        shortname = get("COMMENTS_DISQUS_SHORTNAME")
        if provider == "disqus" and not shortname:
            raise CommentsConfigurationError("COMMENTS_PROVIDER 'disqus' needs COMMENTS_DISQUS_SHORTNAME")
        return cls(provider, bool(get("COMMENTS_ON_PRODUCTS")), isso_url, build_url,
                   float(get("COMMENTS_ISSO_TIMEOUT")), get("COMMENTS_CACHE_FILE"), giscus, shortname,
                   get("COMMENTS_PRIVACY_PAGE"))
