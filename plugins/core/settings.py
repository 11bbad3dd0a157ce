"""Settings of the core plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .security import source_problem

DEFAULTS = {
    "SITE_LANGUAGES": ("it", "en"),
    "SITE_DESCRIPTION": "",
    "SITE_DESCRIPTION_LENGTH": 155,
    "BUSINESS_NAME": "",
    "BUSINESS_LEGAL_NAME": "",
    "BUSINESS_STREET": "",
    "BUSINESS_POSTAL_CODE": "",
    "BUSINESS_CITY": "",
    "BUSINESS_REGION": "",
    "BUSINESS_COUNTRY": "IT",
    "BUSINESS_VAT_ID": "",
    "BUSINESS_EMAIL": "",
    "BUSINESS_PHONE": "",
    "SITE_DEV_URL": "http://127.0.0.1:8000",
    "SITE_LOGO": "theme/img/logo.png",
    # Security headers (core/security.py): False writes no _headers file.
    "SITE_HEADERS": True,
    "SITE_CSP_EXTRA": {},  # {"img-src": ["https://images.example.com"]}: sources added to the policy
    # Theme and image files keep their names when they change: cached for a while, never "immutable".
    "SITE_CACHE_CONTROL": {"/theme/*": "public, max-age=86400", "/images/*": "public, max-age=604800"},
    "SITE_HSTS_MAX_AGE": 31536000,  # Strict-Transport-Security on an https site; 0: not sent
    "SITE_INTEGRITY": {},  # {"https://cdn.example.com/x.js": "sha384-..."}: Subresource Integrity of pinned files
}


class SiteConfigurationError(ValueError):
    """A site setting is missing or malformed."""


@dataclass(frozen=True)
class Business:
    """Who runs the shop (BUSINESS_* settings): footer, legal pages, structured data, e-mails."""

    name: str
    legal_name: str
    street: str
    postal_code: str
    city: str
    region: str
    country: str
    vat_id: str
    email: str
    phone: str


_INTEGRITY = re.compile(r"^sha(?:256|384|512)-[A-Za-z0-9+/]+={0,2}$")


@dataclass(frozen=True)
class SecuritySettings:
    """What the build writes to _headers (SITE_HEADERS, SITE_CSP_EXTRA...) and the pinned SRI hashes."""

    enabled: bool
    csp_extra: dict  # CSP directive -> extra sources
    cache_control: dict  # path pattern ("/theme/*") -> Cache-Control value
    hsts_max_age: int
    integrity: dict  # absolute https URL -> "sha384-..." (Subresource Integrity)

    @classmethod
    def from_settings(cls, get) -> "SecuritySettings":
        extra = get("SITE_CSP_EXTRA") or {}
        if not isinstance(extra, dict):
            raise SiteConfigurationError('SITE_CSP_EXTRA must map a directive to sources: {"img-src": ["https://..."]}')
        csp_extra = {}
        for directive, sources in extra.items():
            sources = (sources,) if isinstance(sources, str) else tuple(sources)
            for source in sources:
                problem = source_problem(directive, source)
                if problem:
                    raise SiteConfigurationError(f"SITE_CSP_EXTRA[{directive!r}]: {problem}")
            csp_extra[directive] = sources
        cache = get("SITE_CACHE_CONTROL") or {}
        if not isinstance(cache, dict) or not all(
                isinstance(p, str) and p.startswith("/") and isinstance(v, str) and v and "\n" not in v
                for p, v in cache.items()):
            raise SiteConfigurationError('SITE_CACHE_CONTROL must map a path pattern to a value: '
                                         '{"/theme/*": "public, max-age=86400"}')
        max_age = get("SITE_HSTS_MAX_AGE")
        if not isinstance(max_age, int) or isinstance(max_age, bool) or max_age < 0:
            raise SiteConfigurationError("SITE_HSTS_MAX_AGE must be a whole number of seconds (0: no HSTS header)")
        integrity = get("SITE_INTEGRITY") or {}
        for url, digest in (integrity.items() if isinstance(integrity, dict) else [("", "")]):
            if not (isinstance(url, str) and url.startswith("https://") and isinstance(digest, str)
                    and _INTEGRITY.match(digest)):
                raise SiteConfigurationError(
                    f"SITE_INTEGRITY[{url!r}]: map an https URL to its hash, such as \"sha384-…\" "
                    "(openssl dgst -sha384 -binary FILE | openssl base64 -A)")
        return cls(bool(get("SITE_HEADERS")), csp_extra, dict(cache), max_age, dict(integrity))


@dataclass(frozen=True)
class SiteSettings:
    """The validated settings the theme relies on; the only reader of BUSINESS_*."""

    languages: tuple[str, ...]
    default_lang: str
    description_length: int
    business: Business
    site_url: str  # SITEURL: "" in development, absolute in production
    dev_url: str  # where the development server answers, for URLs that must be absolute (feeds, shop.json)
    logo: str  # the logo search engines and feed readers show, relative to the site
    security: SecuritySettings  # the security headers written to _headers

    @property
    def public_url(self) -> str:
        """The base of absolute URLs: SITEURL in production, the development server otherwise."""
        return self.site_url if self.site_url.startswith("http") else self.dev_url

    @classmethod
    def from_settings(cls, settings: dict) -> "SiteSettings":
        def get(key):
            return settings.get(key, DEFAULTS.get(key))

        languages = tuple(get("SITE_LANGUAGES"))
        default_lang = settings.get("DEFAULT_LANG", "it")
        if default_lang not in languages:
            raise SiteConfigurationError(
                f"DEFAULT_LANG {default_lang!r} has no UI catalogue; SITE_LANGUAGES is {languages!r}"
            )
        length = get("SITE_DESCRIPTION_LENGTH")
        if not isinstance(length, int) or not 50 <= length <= 300:
            raise SiteConfigurationError("SITE_DESCRIPTION_LENGTH must be an integer between 50 and 300")
        vat_id = get("BUSINESS_VAT_ID")
        if vat_id and not vat_id_is_valid(vat_id):
            raise SiteConfigurationError(f"BUSINESS_VAT_ID {vat_id!r} is not a valid VAT number")
        business = Business(**{name: str(get(f"BUSINESS_{name.upper()}") or "") for name in Business.__annotations__})
        business = Business(**{**business.__dict__, "name": business.name or str(settings.get("SITENAME", ""))})
        dev_url = str(get("SITE_DEV_URL")).rstrip("/")
        if not dev_url.startswith(("http://", "https://")):
            raise SiteConfigurationError("SITE_DEV_URL must be an absolute http(s) URL")
        return cls(languages=languages, default_lang=default_lang, description_length=length, business=business,
                   site_url=str(settings.get("SITEURL", "")).rstrip("/"), dev_url=dev_url, logo=str(get("SITE_LOGO")),
                   security=SecuritySettings.from_settings(get))


def vat_id_is_valid(vat_id: str) -> bool:
    """Check the form of a VAT number; Italian ones (IT + 11 digits) also by their check digit."""
    vat_id = vat_id.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,13}", vat_id):
        return False
    if not vat_id.startswith("IT"):
        return True
    digits = vat_id[2:]
    if not re.fullmatch(r"\d{11}", digits):
        return False
    total = 0
    for position, char in enumerate(digits[:10]):
        value = int(char)
        if position % 2:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return (10 - total % 10) % 10 == int(digits[10])


def site_settings(settings: dict) -> SiteSettings:
    """The validated site settings of a build (SITE_CONFIG), or made from a settings dict outside one."""
    if isinstance(settings.get("SITE_CONFIG"), SiteSettings):
        return settings["SITE_CONFIG"]
    return SiteSettings.from_settings({**DEFAULTS, **settings})
