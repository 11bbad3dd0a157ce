"""Settings of the forms endpoint (FORMS_* in pelicanconf.py): defaults, and one frozen dataclass validated once.

The build reads only where each form posts (`action(name)`); the endpoint reads the rest (its database, the
site's origin for the origin check, the price list, the limits). Secrets never come from here: SMTP from the
VETRINA_SMTP_* variables, the unsubscribe key from VETRINA_NEWSLETTER_SECRET.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.settings import site_settings
from shop.settings import DEFAULTS as SHOP_DEFAULTS

DEFAULTS = {
    # Where browsers post: the endpoint's public URL (development: `./vetrina forms`, also started by serve).
    "FORMS_ENDPOINT": "http://127.0.0.1:8090",
    # SQLite database of every submission (relative: to the project folder); personal data, never committed.
    "FORMS_DATABASE": ".forms/moduli.db",
    # The shop's origin, the only one allowed to post (None: SITEURL's, else SITE_DEV_URL in development).
    "FORMS_SITE_ORIGIN": None,
    # A form sent to a third-party service instead, e.g. {"newsletter": "https://buttondown.com/api/emails/..."}.
    "FORMS_SERVICES": {},
    # The published cart.json that orders are priced with again: a path or an https URL (None: SITEURL +
    # "/cart.json" when SITEURL is absolute, else OUTPUT_PATH/cart.json).
    "FORMS_CART_JSON": None,
    # Addresses of the reverse proxies whose X-Forwarded-For is believed (production: the web server's).
    "FORMS_TRUSTED_PROXIES": (),
    "FORMS_RATE_LIMIT": 20,  # posts per visitor's IP ...
    "FORMS_RATE_WINDOW": 600,  # ... within this many seconds
    "FORMS_MAX_BYTES": 16384,  # a form's body; larger is refused with 413
    "FORMS_SHOP_EMAIL": None,  # who is told of orders and withdrawals (None: SHOP_ORDER_EMAIL, else BUSINESS_EMAIL)
    "FORMS_SIGNUP_EXPIRES_HOURS": 48,  # an unconfirmed newsletter sign-up is forgotten after this
    "FORMS_SIGNUP_QUIET_MINUTES": 15,  # a repeated sign-up within this sends no second confirmation mail
    "FORMS_DUPLICATE_MINUTES": 30,  # the same order posted again within this is the same order
    # Without VETRINA_SMTP_HOST (development) messages are written here as .eml files instead of sent.
    "FORMS_MAIL_DIR": ".forms/posta",
    # The withdrawal page of each language (the footer's "Withdraw from the contract here" link).
    "FORMS_WITHDRAWAL_PAGES": {"it": "recesso/", "en": "en/withdrawal/"},
    "FORMS_PRIVACY_PAGE": "privacy/",
}
FORMS = ("order", "withdrawal", "newsletter", "unsubscribe")
# What a service calls the address field of its sign-up form (Mailchimp's merge tag, MailerLite's fields[]);
# Buttondown, listmonk and the endpoint call it "email".
EMAIL_FIELDS = {"list-manage.com": "EMAIL", "mailerlite.com": "fields[email]"}
PATHS = {"order": "/order", "withdrawal": "/withdrawal", "newsletter": "/newsletter", "unsubscribe": "/unsubscribe"}


class FormsConfigurationError(ValueError):
    """A FORMS_* setting is missing or wrong."""


def origin_of(url: str) -> str:
    """scheme://host[:port] of an absolute URL, lower-cased as browsers send it in Origin."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    default = {"http": 80, "https": 443}[parts.scheme]
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{host}{port}"


def _absolute(name: str, url, https_only: bool = False) -> str:
    if not isinstance(url, str) or not origin_of(url):
        raise FormsConfigurationError(f"{name} must be an absolute http(s) URL, not {url!r}")
    if https_only and not url.startswith("https://") and not url.startswith("http://127.0.0.1"):
        raise FormsConfigurationError(f"{name} {url!r} must be an https URL: forms carry personal data")
    return url.rstrip("/")


def _positive(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise FormsConfigurationError(f"{name} must be a whole number above 0, not {value!r}")
    return value


@dataclass(frozen=True)
class FormsSettings:
    endpoint: str
    database: Path
    site_origin: str
    site_url: str  # where the endpoint's pages link back and load the stylesheet from (absolute)
    services: dict = field(default_factory=dict)
    cart_json: str = ""
    trusted_proxies: tuple = ()
    rate_limit: int = 20
    rate_window: int = 600
    max_bytes: int = 16384
    shop_email: str = ""
    signup_expires_hours: int = 48
    signup_quiet_minutes: int = 15
    duplicate_minutes: int = 30
    mail_dir: Path = Path(".forms/posta")
    withdrawal_pages: dict = field(default_factory=dict)
    cart_pages: dict = field(default_factory=dict)  # lang -> the cart page's path, where an order's receipt leads
    privacy_page: str = "privacy/"
    site_name: str = ""
    default_lang: str = "it"
    languages: tuple = ("it", "en")
    suppression_file: Path = Path("newsletter/disiscritti.txt")

    def action(self, name: str) -> str:
        """The URL the form `name` posts to: its third-party service if one is set, else the endpoint's path."""
        if name not in FORMS:
            raise KeyError(f"no form {name!r}: the forms are {', '.join(FORMS)}")
        return self.services.get(name) or self.endpoint + PATHS[name]

    def email_field(self, name: str) -> str:
        """The name of the address field of form `name`, as whoever receives it expects it."""
        host = (urlsplit(self.services.get(name, "")).hostname or "").lower()
        return next((field for domain, field in EMAIL_FIELDS.items()
                     if host == domain or host.endswith("." + domain)), "email")

    def external(self, name: str) -> bool:
        """Whether the form posts to a third-party service (then the endpoint does not handle it)."""
        return name in self.services

    def withdrawal_page(self, lang: str) -> str:
        """The withdrawal page of a language, relative to the site (the site's language when it has none)."""
        return self.withdrawal_pages.get(lang) or self.withdrawal_pages.get(self.default_lang, "recesso/")

    @property
    def origins(self) -> tuple[str, ...]:
        """Every origin a form posts to: the endpoint's and those of the services (the CSP's form-action)."""
        found = [origin_of(self.endpoint)]
        found += [origin_of(url) for url in self.services.values()]
        return tuple(dict.fromkeys(found))

    @classmethod
    def from_settings(cls, settings: dict, root: Path | None = None) -> "FormsSettings":
        def get(key):
            value = settings.get(key)
            return DEFAULTS[key] if value is None else value

        root = Path(root) if root is not None else Path.cwd()
        siteurl = settings.get("SITEURL") or ""
        dev_url = settings.get("SITE_DEV_URL", "http://127.0.0.1:8000")
        endpoint = _absolute("FORMS_ENDPOINT", get("FORMS_ENDPOINT"), https_only=siteurl.startswith("https://"))
        site_origin = get("FORMS_SITE_ORIGIN") or origin_of(siteurl) or origin_of(dev_url)
        if origin_of(site_origin) != site_origin.rstrip("/"):
            raise FormsConfigurationError(f"FORMS_SITE_ORIGIN must be scheme://host[:port] exactly as visitors see "
                                          f"the shop (no path), not {site_origin!r}")
        services = get("FORMS_SERVICES")
        if not isinstance(services, dict):
            raise FormsConfigurationError(f"FORMS_SERVICES must be a dict of form name to URL, not {services!r}")
        for name, url in services.items():
            if name not in FORMS:
                raise FormsConfigurationError(f"FORMS_SERVICES: no form {name!r}; the forms are {', '.join(FORMS)}")
            _absolute(f"FORMS_SERVICES[{name!r}]", url, https_only=True)
        cart = get("FORMS_CART_JSON") or (f"{siteurl.rstrip('/')}/cart.json" if origin_of(siteurl) else
                                         str(Path(settings.get("OUTPUT_PATH") or "output") / "cart.json"))
        if not cart.startswith(("http://", "https://")) and not Path(cart).is_absolute():
            cart = str(root / cart)
        proxies = get("FORMS_TRUSTED_PROXIES")
        if isinstance(proxies, str) or not all(isinstance(proxy, str) for proxy in proxies):
            raise FormsConfigurationError(f"FORMS_TRUSTED_PROXIES must be a list of IP addresses, not {proxies!r}")
        pages = get("FORMS_WITHDRAWAL_PAGES")
        if not isinstance(pages, dict) or not pages:
            raise FormsConfigurationError(f"FORMS_WITHDRAWAL_PAGES must map languages to pages, not {pages!r}")
        shop_email = get("FORMS_SHOP_EMAIL") or settings.get("SHOP_ORDER_EMAIL") or site_settings(settings).business.email
        suppression = settings.get("NEWSLETTER_SUPPRESSION_FILE") or "newsletter/disiscritti.txt"

        def under_root(value) -> Path:
            path = Path(value)
            return path if path.is_absolute() else root / path

        default_lang = settings.get("DEFAULT_LANG", "it")
        languages = tuple(settings.get("SITE_LANGUAGES", ("it", "en")))
        cart_url = settings.get("SHOP_CART_URL", SHOP_DEFAULTS["SHOP_CART_URL"])
        cart_lang_url = settings.get("SHOP_CART_LANG_URL", SHOP_DEFAULTS["SHOP_CART_LANG_URL"])
        cart_pages = {lang: cart_url if lang == default_lang else cart_lang_url.format(lang=lang) for lang in languages}
        return cls(
            endpoint=endpoint, database=under_root(get("FORMS_DATABASE")), site_origin=site_origin.rstrip("/"),
            site_url=(siteurl if origin_of(siteurl) else origin_of(dev_url)).rstrip("/"),
            services=dict(services), cart_json=cart, trusted_proxies=tuple(proxies),
            rate_limit=_positive("FORMS_RATE_LIMIT", get("FORMS_RATE_LIMIT")),
            rate_window=_positive("FORMS_RATE_WINDOW", get("FORMS_RATE_WINDOW")),
            max_bytes=_positive("FORMS_MAX_BYTES", get("FORMS_MAX_BYTES")), shop_email=shop_email,
            signup_expires_hours=_positive("FORMS_SIGNUP_EXPIRES_HOURS", get("FORMS_SIGNUP_EXPIRES_HOURS")),
            signup_quiet_minutes=_positive("FORMS_SIGNUP_QUIET_MINUTES", get("FORMS_SIGNUP_QUIET_MINUTES")),
            duplicate_minutes=_positive("FORMS_DUPLICATE_MINUTES", get("FORMS_DUPLICATE_MINUTES")),
            mail_dir=under_root(get("FORMS_MAIL_DIR")), withdrawal_pages=dict(pages),
            cart_pages=cart_pages, privacy_page=get("FORMS_PRIVACY_PAGE"), site_name=settings.get("SITENAME", ""),
            default_lang=default_lang, languages=languages,
            suppression_file=under_root(suppression),
        )
