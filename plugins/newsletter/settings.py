"""Newsletter settings (NEWSLETTER_* in pelicanconf.py) and the SMTP configuration (environment only)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from core.settings import site_settings

DEFAULTS = {
    "NEWSLETTER_FEED": "feeds/newsletter.xml",
    "NEWSLETTER_STATE_FILE": "newsletter/sent.json",
    "NEWSLETTER_PREVIEW_DIR": "newsletter/anteprima",
    "NEWSLETTER_UTM_SOURCE": "newsletter",
    "NEWSLETTER_UTM_MEDIUM": "email",
    "NEWSLETTER_UNSUBSCRIBE_EMAIL": "",
    "NEWSLETTER_UNSUBSCRIBE_URL": "",
}


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

    @classmethod
    def from_settings(cls, settings: dict, root: Path) -> "NewsletterSettings":
        def get(key):
            return settings.get(key, DEFAULTS[key])

        email = get("NEWSLETTER_UNSUBSCRIBE_EMAIL") or site_settings(settings).business.email
        url = get("NEWSLETTER_UNSUBSCRIBE_URL") or f"{settings['SITEURL']}/newsletter/"
        if not url.startswith("https://") and not url.startswith("http://"):
            raise NewsletterConfigurationError("NEWSLETTER_UNSUBSCRIBE_URL must be an absolute URL")
        return cls(get("NEWSLETTER_FEED"), root / get("NEWSLETTER_STATE_FILE"), root / get("NEWSLETTER_PREVIEW_DIR"),
                   get("NEWSLETTER_UTM_SOURCE"), get("NEWSLETTER_UTM_MEDIUM"), email, url)


@dataclass(frozen=True)
class SmtpSettings:
    """From VETRINA_SMTP_* variables, never from a committed file."""

    host: str
    port: int
    starttls: bool
    user: str
    password: str
    sender: str
    recipients_file: Path

    @classmethod
    def from_environment(cls, environ=os.environ, root: Path = Path(".")) -> "SmtpSettings":
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
        recipients = Path(environ.get("VETRINA_NEWSLETTER_RECIPIENTS", root / "newsletter" / "iscritti.txt"))
        return cls(host, port, starttls, environ.get("VETRINA_SMTP_USER", ""),
                   environ.get("VETRINA_SMTP_PASSWORD", ""), sender, recipients)

    def recipients(self) -> list[str]:
        if not self.recipients_file.is_file():
            raise NewsletterConfigurationError(f"no recipients file at {self.recipients_file} "
                                               "(one address a line; set VETRINA_NEWSLETTER_RECIPIENTS)")
        lines = self.recipients_file.read_text(encoding="utf-8").splitlines()
        addresses = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
        bad = [address for address in addresses if "@" not in address]
        if bad:
            raise NewsletterConfigurationError(f"{self.recipients_file}: not e-mail addresses: {', '.join(bad)}")
        if not addresses:
            raise NewsletterConfigurationError(f"{self.recipients_file} lists no recipient")
        return addresses
