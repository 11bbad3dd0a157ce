"""Newsletter settings (NEWSLETTER_* in pelicanconf.py) and the SMTP configuration (environment only)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path

from core.settings import site_settings

from . import oneclick

DEFAULTS = {
    "NEWSLETTER_FEED": "feeds/newsletter.xml",
    "NEWSLETTER_STATE_FILE": "newsletter/sent.json",
    "NEWSLETTER_PREVIEW_DIR": "newsletter/anteprima",
    "NEWSLETTER_UTM_SOURCE": "newsletter",
    "NEWSLETTER_UTM_MEDIUM": "email",
    "NEWSLETTER_UNSUBSCRIBE_EMAIL": "",
    "NEWSLETTER_UNSUBSCRIBE_URL": "",
    # True only when NEWSLETTER_UNSUBSCRIBE_URL is an endpoint that unsubscribes on a POST (RFC 8058):
    # then messages carry List-Unsubscribe-Post and mail clients show a one-click unsubscribe button.
    "NEWSLETTER_UNSUBSCRIBE_POST": False,
    # Local files with personal data (never committed): each campaign's frozen issue and journal, the lock,
    # and the addresses that unsubscribed.
    "NEWSLETTER_CAMPAIGN_DIR": "newsletter/campagne",
    "NEWSLETTER_SUPPRESSION_FILE": "newsletter/disiscritti.txt",
}
DEFAULT_RECIPIENTS = "newsletter/iscritti.txt"
SECRET_VARIABLE = "VETRINA_NEWSLETTER_SECRET"
SECRET_MIN_LENGTH = 32


class NewsletterConfigurationError(ValueError):
    """A newsletter setting or an SMTP variable is missing or wrong."""


@dataclass(frozen=True)
class NewsletterSettings:
    feed: str
    state_file: Path
    preview_dir: Path
    utm_source: str
    utm_medium: str
    unsubscribe_email: str
    unsubscribe_url: str
    unsubscribe_post: bool
    campaign_dir: Path
    suppression_file: Path

    @property
    def lock_file(self) -> Path:
        return self.campaign_dir / "invio.lock"

    def unsubscribe_target(self, address: str, secret: str) -> str:
        """The List-Unsubscribe URL of the message to `address`: for a one-click endpoint it names the
        recipient with a token (oneclick.py), since the POST it receives carries nothing else."""
        return oneclick.url(self.unsubscribe_url, address, secret) if self.unsubscribe_post else self.unsubscribe_url

    @classmethod
    def from_settings(cls, settings: dict, root: Path) -> "NewsletterSettings":
        def get(key):
            return settings.get(key, DEFAULTS[key])

        email = get("NEWSLETTER_UNSUBSCRIBE_EMAIL") or site_settings(settings).business.email
        url = get("NEWSLETTER_UNSUBSCRIBE_URL") or f"{settings['SITEURL']}/newsletter/"
        if not url.startswith("https://") and not url.startswith("http://"):
            raise NewsletterConfigurationError(f"NEWSLETTER_UNSUBSCRIBE_URL must be an absolute URL, not {url!r}: "
                                               "set it (or SITEURL) in the settings file")
        post = get("NEWSLETTER_UNSUBSCRIBE_POST")
        if not isinstance(post, bool):
            raise NewsletterConfigurationError(f"NEWSLETTER_UNSUBSCRIBE_POST must be True or False, not {post!r}")
        if post and not url.startswith("https://"):
            raise NewsletterConfigurationError(
                f"NEWSLETTER_UNSUBSCRIBE_POST = True needs an https NEWSLETTER_UNSUBSCRIBE_URL that accepts the "
                f"one-click POST (RFC 8058), not {url!r}: set the endpoint's https URL, or the setting to False")
        paths = {key: root / get(key) for key in ("NEWSLETTER_STATE_FILE", "NEWSLETTER_PREVIEW_DIR",
                                                   "NEWSLETTER_CAMPAIGN_DIR", "NEWSLETTER_SUPPRESSION_FILE")}
        return cls(get("NEWSLETTER_FEED"), paths["NEWSLETTER_STATE_FILE"], paths["NEWSLETTER_PREVIEW_DIR"],
                   get("NEWSLETTER_UTM_SOURCE"), get("NEWSLETTER_UTM_MEDIUM"), email, url, post,
                   paths["NEWSLETTER_CAMPAIGN_DIR"], paths["NEWSLETTER_SUPPRESSION_FILE"])


@dataclass(frozen=True)
class SmtpSettings:
    """From VETRINA_SMTP_* variables, never from a committed file."""

    host: str
    port: int
    starttls: bool
    user: str
    password: str
    sender: str

    @classmethod
    def from_environment(cls, environ=os.environ) -> "SmtpSettings":
        host = environ.get("VETRINA_SMTP_HOST", "")
        sender = environ.get("VETRINA_SMTP_FROM", "")
        if not host or not sender:
            raise NewsletterConfigurationError("to send, set VETRINA_SMTP_HOST and VETRINA_SMTP_FROM "
                                               "(and VETRINA_SMTP_PORT, _STARTTLS, _USER, _PASSWORD as needed)")
        try:
            port = int(environ.get("VETRINA_SMTP_PORT", "587"))
        except ValueError:
            raise NewsletterConfigurationError("VETRINA_SMTP_PORT must be a number") from None
        starttls = environ.get("VETRINA_SMTP_STARTTLS", "true").lower() in ("1", "true", "yes")
        if "@" not in parseaddr(sender)[1]:
            raise NewsletterConfigurationError(f"VETRINA_SMTP_FROM must hold an e-mail address, not {sender!r} "
                                               '(for example "Corde & Legni <lettera@example.it>")')
        return cls(host, port, starttls, environ.get("VETRINA_SMTP_USER", ""),
                   environ.get("VETRINA_SMTP_PASSWORD", ""), sender)

    @property
    def envelope_from(self) -> str:
        return parseaddr(self.sender)[1]


def unsubscribe_secret(config: NewsletterSettings, environ=os.environ) -> str:
    """The key of the one-click unsubscribe tokens (oneclick.py); "" when the URL is not a one-click endpoint."""
    if not config.unsubscribe_post:
        return ""
    secret = environ.get(SECRET_VARIABLE, "").strip()
    if len(secret) < SECRET_MIN_LENGTH:
        problem = "is not set" if not secret else f"is shorter than {SECRET_MIN_LENGTH} characters"
        raise NewsletterConfigurationError(
            f"NEWSLETTER_UNSUBSCRIBE_POST = True: {SECRET_VARIABLE} {problem}; each message's unsubscribe link "
            "carries a token made with it, and the unsubscribe endpoint checks it with the same value: set it to a "
            "random string (python3 -c 'import secrets; print(secrets.token_urlsafe(32))') in the environment, "
            "never in a committed file")
    return secret


def recipients_file(environ=os.environ, root: Path = Path(".")) -> Path:
    """The subscribers' file: VETRINA_NEWSLETTER_RECIPIENTS, or newsletter/iscritti.txt in the site folder."""
    return Path(environ.get("VETRINA_NEWSLETTER_RECIPIENTS") or root / DEFAULT_RECIPIENTS)
