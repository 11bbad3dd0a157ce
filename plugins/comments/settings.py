"""Settings of the comments plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

DEFAULTS = {
    "COMMENTS_PROVIDER": "isso",
    "COMMENTS_ON_PRODUCTS": True,
    "COMMENTS_ISSO_URL": "http://127.0.0.1:8080",
    "COMMENTS_ISSO_BUILD_URL": None,  # None: the public URL; "": do not fetch at build time
    "COMMENTS_ISSO_TIMEOUT": 5,
    # The record of published comments (a relative path is under CACHE_PATH), the copy each build publishes
    # in the output, and where a build without a local record downloads the last published copy
    # (None: SITEURL + "/" + COMMENTS_RECORD_PUBLISH when SITEURL is absolute; "": never).
    "COMMENTS_RECORD_PATH": "comments.json",
    "COMMENTS_RECORD_PUBLISH": "comments.json",
    "COMMENTS_RECORD_URL": None,
    # An apparent mass loss: more than this share of the published comments missing from Isso at once, and at
    # least COMMENTS_MIN_LOSS of them (an answer with every thread empty: a record of at least that many).
    "COMMENTS_MAX_LOSS": 0.5,
    "COMMENTS_MIN_LOSS": 10,
    "COMMENTS_ACCEPT_LOSS": False,  # True (or $VETRINA_COMMENTS_ACCEPT_LOSS=1): apply a mass loss deliberately
    "COMMENTS_GISCUS": {},
    "COMMENTS_DISQUS_SHORTNAME": "",
    "COMMENTS_PRIVACY_PAGE": "privacy",
}
PROVIDERS = ("isso", "giscus", "disqus", "none")
GISCUS_KEYS = ("repo", "repo_id", "category", "category_id")
ACCEPT_LOSS_ENV = "VETRINA_COMMENTS_ACCEPT_LOSS"
RECORD_URL_ENV = "VETRINA_COMMENTS_RECORD_URL"
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")
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
    record_path: Path
    giscus: dict = field(default_factory=dict)
    disqus_shortname: str = ""
    privacy_page: str = "privacy"
    record_publish: str = "comments.json"
    record_url: str = ""
    max_loss: float = 0.5
    accept_loss: bool = False
    min_loss: int = 10
    instance: str = ""  # which Isso the record belongs to: a short hash of the build URL (record_path has it too)

    @property
    def third_party(self) -> tuple[str, str] | None:
        """(name, origin) of a third-party provider that needs the visitor's consent, else None."""
        return THIRD_PARTY.get(self.provider)

    @property
    def earlier_records(self) -> tuple[Path, ...]:
        """Where earlier versions kept one record for every Isso: comments.json, and the older comments-cache.json."""
        path = self.record_path
        shared = path.with_name(path.name.replace(f"-{self.instance}", "", 1)) if self.instance else path
        return shared, shared.with_name("comments-cache.json")

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
        if "COMMENTS_CACHE_FILE" in settings:
            raise CommentsConfigurationError("COMMENTS_CACHE_FILE is now COMMENTS_RECORD_PATH (a relative path is "
                                             "under CACHE_PATH): rename the setting")
        publish = record_publish(get("COMMENTS_RECORD_PUBLISH"))
        instance = instance_of(build_url)
        return cls(provider, bool(get("COMMENTS_ON_PRODUCTS")), isso_url, build_url,
                   float(get("COMMENTS_ISSO_TIMEOUT")),
                   record_path(settings, get("COMMENTS_RECORD_PATH"), instance), giscus,
                   shortname, get("COMMENTS_PRIVACY_PAGE"), publish,
                   record_url(settings, get("COMMENTS_RECORD_URL"), publish), max_loss(get("COMMENTS_MAX_LOSS")),
                   accept_loss(get("COMMENTS_ACCEPT_LOSS")), min_loss(get("COMMENTS_MIN_LOSS")), instance)


def instance_of(build_url: str) -> str:
    """A short name for the Isso a build reads (its build URL hashed: the published record names no address)."""
    return hashlib.sha256(build_url.encode("utf-8")).hexdigest()[:12] if build_url else ""


def record_path(settings: dict, value, instance: str = "") -> Path:
    """The record of one Isso: comments.json becomes comments-<instance>.json (a relative path is under CACHE_PATH).

    One file per Isso, so that a development build against a local Isso never compares with, overwrites or leaks
    into the production record (and the other way round).
    """
    if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
        raise CommentsConfigurationError("COMMENTS_RECORD_PATH must be a file path (relative: under CACHE_PATH)")
    path = Path(value)
    path = path if path.is_absolute() else Path(settings.get("CACHE_PATH") or "cache") / path
    return path.with_name(f"{path.stem}-{instance}{path.suffix}") if instance else path


def record_publish(value) -> str:
    """A file path inside the output ("comments.json"), or "" to publish no copy."""
    if value in (None, ""):
        return ""
    path = PurePosixPath(str(value))
    if path.is_absolute() or ".." in path.parts or not path.name.endswith(".json"):
        raise CommentsConfigurationError(f"COMMENTS_RECORD_PUBLISH {value!r}: use a .json path inside the output "
                                         "such as 'comments.json', or '' to publish no copy")
    return str(path)


def record_url(settings: dict, value, publish: str) -> str:
    value = os.environ.get(RECORD_URL_ENV, value)
    if value is None:
        site = str(settings.get("SITEURL") or "").rstrip("/")
        return f"{site}/{publish}" if publish and site.startswith(("http://", "https://")) else ""
    value = str(value).strip()
    if value and not value.startswith(("http://", "https://")):
        raise CommentsConfigurationError(f"COMMENTS_RECORD_URL {value!r} (or ${RECORD_URL_ENV}): use the absolute "
                                         "URL of the published comments.json, or '' to never download it")
    return value


def max_loss(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise CommentsConfigurationError(f"COMMENTS_MAX_LOSS {value!r}: use a share between 0 and 1, such as 0.5 "
                                         "(more than half of the published comments missing at once is a mass loss)")
    return float(value)


def min_loss(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CommentsConfigurationError(f"COMMENTS_MIN_LOSS {value!r}: use a whole number of comments, such as 10 "
                                         "(fewer comments missing at once are applied as moderation)")
    return value


def accept_loss(value) -> bool:
    """The setting, unless $VETRINA_COMMENTS_ACCEPT_LOSS says otherwise for this build."""
    word = os.environ.get(ACCEPT_LOSS_ENV)
    if word is None:
        return bool(value)
    if word.strip().lower() not in TRUE_WORDS + FALSE_WORDS:
        raise CommentsConfigurationError(f"${ACCEPT_LOSS_ENV} {word!r}: use 1 to accept a mass loss of comments "
                                         "in this build, or 0")
    return word.strip().lower() in TRUE_WORDS
