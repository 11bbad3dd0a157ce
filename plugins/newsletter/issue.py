"""The next issue: the newsletter feed's items never sent, rendered once (subject, HTML, text)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from babel.dates import format_date
from markupsafe import Markup

from core.settings import site_settings

from . import campaign as campaigns
from . import catalogue, feed, render, state
from .settings import NewsletterSettings


@dataclass
class Issue:
    number: int
    subject: str
    items: list[str]  # GUIDs
    html: str
    text: str


def compose(config: NewsletterSettings, settings: dict, output: Path, recorded: dict, number: int,
            today: dt.date) -> Issue | None:
    """Issue `number` from the feed items never sent; None when there are none."""
    items = feed.read(output / config.feed)
    products = catalogue.read(output)
    sent = state.sent_guids(recorded)
    new = [item for item in items if item.guid not in sent]
    if not new:
        return None
    theme = Path(settings["THEME"])
    lang = settings["DEFAULT_LANG"]
    env = render.environment(theme, settings.get("SITE_LANGUAGES", (lang,)), lang)
    subject = Markup(env.get_template("email/subject.html").render(
        SITENAME=settings["SITENAME"], month=format_date(today, "LLLL yyyy", locale=lang))).unescape().strip()
    context = {
        **settings,
        "business": site_settings(settings).business,
        "issue": {"number": number, "date": today, "subject": subject},
        "posts": [item for item in new if item.link not in products],
        "products": [catalogue.Announcement(item, products[item.link]) for item in new if item.link in products],
        "unsubscribe_url": config.unsubscribe_url,
        "unsubscribe_email": config.unsubscribe_email,
    }
    utm = {"utm_source": config.utm_source, "utm_medium": config.utm_medium, "utm_campaign": f"newsletter-{number}"}
    html, text = render.issue(env, context, settings["SITEURL"], utm)
    return Issue(number, subject, [item.guid for item in new], html, text)


def next_number(config: NewsletterSettings, recorded: dict) -> int:
    latest = campaigns.latest(config.campaign_dir)
    return max(state.last_number(recorded), latest.number if latest else 0) + 1


def nothing_new(recorded: dict) -> str:
    last = state.last_number(recorded)
    since = f" since issue {last}" if last else ""
    return f"Nothing new{since}: every item of the newsletter feed has been sent. No issue."
