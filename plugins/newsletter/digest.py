"""One run of `invoke newsletter`: the items not sent yet, rendered as the next issue, previewed or sent."""

from __future__ import annotations

import datetime as dt
import logging
import os
import smtplib
from dataclasses import dataclass, field
from pathlib import Path

from babel.dates import format_date
from markupsafe import Markup

from core.settings import site_settings

from . import catalogue, feed, mail, render, state
from .settings import NewsletterSettings, SmtpSettings

logger = logging.getLogger(__name__)


class NewsletterError(RuntimeError):
    """The issue could not be sent; the state file is unchanged."""


@dataclass
class Result:
    number: int | None
    subject: str = ""
    items: list = field(default_factory=list)
    sent_to: int = 0
    preview: list = field(default_factory=list)
    message: str = ""


def run(root: Path, settings: dict, output: Path, *, send: bool = False, environ=os.environ,
        today: dt.date | None = None) -> Result:
    """Preview (default) or send the next issue; the state changes only after every message is sent."""
    site = site_settings(settings)
    config = NewsletterSettings.from_settings(settings, root)
    items = feed.read(output / config.feed)
    products = catalogue.read(output)
    recorded = state.load(config.state_file)
    new = [item for item in items if item.guid not in state.sent_guids(recorded)]
    number = len(recorded["issues"]) + 1
    if not new:
        last = f" since issue {number - 1}" if number > 1 else ""
        return Result(None, message=f"Nothing new{last}: every item of the newsletter feed has been sent. No issue.")
    today = today or dt.date.today()
    theme = Path(settings["THEME"])
    lang = settings["DEFAULT_LANG"]
    env = render.environment(theme, settings.get("SITE_LANGUAGES", (lang,)), lang)
    subject = Markup(env.get_template("email/subject.html").render(
        SITENAME=settings["SITENAME"], month=format_date(today, "LLLL yyyy", locale=lang))).unescape().strip()
    context = {
        **settings,
        "business": site.business,
        "issue": {"number": number, "date": today, "subject": subject},
        "posts": [item for item in new if item.link not in products],
        "products": [catalogue.Announcement(item, products[item.link]) for item in new if item.link in products],
        "unsubscribe_url": config.unsubscribe_url,
        "unsubscribe_email": config.unsubscribe_email,
    }
    utm = {"utm_source": config.utm_source, "utm_medium": config.utm_medium,
           "utm_campaign": f"newsletter-{number}"}
    html, text = render.issue(env, context, settings["SITEURL"], utm)
    result = Result(number, subject, new, preview=write_preview(config, number, subject, html, text, site))
    if not send:
        result.message = (f"Issue {number} ({len(new)} items) previewed in {config.preview_dir}; nothing sent. "
                          "Send it with --send.")
        return result
    smtp = SmtpSettings.from_environment(environ, root)
    recipients = smtp.recipients()
    messages = [mail.message(subject, smtp.sender, recipient, html, text, config.unsubscribe_email,
                             config.unsubscribe_url) for recipient in recipients]
    try:
        mail.send_all(smtp, messages)
    except (smtplib.SMTPException, OSError) as error:
        raise NewsletterError(f"issue {number} was not recorded as sent: the SMTP server at {smtp.host}:{smtp.port} "
                              f"failed ({error}). The state file is unchanged; fix the problem and run again.") from error
    state.save(config.state_file, state.with_issue(recorded, {
        "number": number, "date": today.isoformat(), "subject": subject,
        "recipients": len(recipients), "items": [item.guid for item in new],
    }))
    result.sent_to = len(recipients)
    result.message = f"Issue {number} ({len(new)} items) sent to {len(recipients)} recipients."
    return result


def write_preview(config, number: int, subject: str, html: str, text: str, site) -> list[Path]:
    folder = config.preview_dir
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / f"numero-{number}"
    preview = mail.message(subject, site.business.email or "newsletter@localhost",
                           "anteprima@localhost", html, text, config.unsubscribe_email, config.unsubscribe_url)
    paths = [base.with_suffix(".html"), base.with_suffix(".txt"), base.with_suffix(".eml")]
    paths[0].write_text(html, encoding="utf-8")
    paths[1].write_text(text, encoding="utf-8")
    paths[2].write_bytes(bytes(preview))
    return paths
