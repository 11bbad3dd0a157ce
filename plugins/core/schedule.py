"""When content goes live: the build's one clock, the publishing rule and the changes still to come.

Pure: no I/O and no signals. The clock's sources (the SITE_NOW setting, $VETRINA_NOW, SHOP_TODAY and the
real time) are passed in; hold_back() only rearranges a Pelican generator's lists in memory.

A post, page, product or list dated after the clock is scheduled: it is left out of every output of the
build (pages, listings, taxonomies, feeds, sitemap, catalogue) and recorded in context[CONTEXT_KEY] as
{absolute source path: aware publish time}, until a build whose clock has passed its date.
"""

from __future__ import annotations

import datetime as dt
import json
import os.path
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pelican.utils import get_original_items, order_content

CONTEXT_KEY = "scheduled_items"
NOW_SETTING = "SITE_NOW"
NOW_VARIABLE = "VETRINA_NOW"
# A bare day read as an end (a sale's last day) lasts to its last minute, as Merchant Center writes it.
LAST_MINUTE = dt.time(23, 59)
# A bare day given as the clock (SHOP_TODAY) is the whole day: what is dated that day is out.
END_OF_DAY = dt.time(23, 59, 59)
# Pelican's lists of published items a generator keeps, each with its translations.
ARTICLE_GROUPS = (("articles", "translations"), ("hidden_articles", "hidden_translations"))
PAGE_GROUPS = (("pages", "translations"), ("hidden_pages", "hidden_translations"))


class ClockError(ValueError):
    """The clock's setting (SITE_NOW, $VETRINA_NOW, SHOP_TODAY or TIMEZONE) cannot be read."""


def zone_of(settings: dict) -> ZoneInfo:
    """The site's time zone (TIMEZONE), whose rules give each instant its own offset (summer time included)."""
    name = settings.get("TIMEZONE") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ClockError(f"TIMEZONE {name!r} is not a time zone such as Europe/Rome") from None


def aware(value: dt.datetime, zone: dt.tzinfo) -> dt.datetime:
    """A naive wall time read in zone (the offset of that very instant); an aware one kept as the same instant."""
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def moment(value, zone: dt.tzinfo, *, day_time: dt.time = dt.time(0)) -> dt.datetime:
    """A date or date-time as written in content or settings (text, date or datetime), as an aware instant.

    A bare day is taken at day_time; a time without an offset is wall time in zone. Raises ValueError.
    """
    if isinstance(value, dt.datetime):
        return aware(value, zone)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, day_time, tzinfo=zone)
    text = str(value).strip()
    if len(text) == 10:
        return dt.datetime.combine(dt.date.fromisoformat(text), day_time, tzinfo=zone)
    return aware(dt.datetime.fromisoformat(text), zone)


def site_now(setting, variable, shop_today, zone: dt.tzinfo, real_now: dt.datetime) -> dt.datetime:
    """The build's one clock: SITE_NOW, else $VETRINA_NOW, else the end of SHOP_TODAY, else the real time."""
    today = _day(shop_today)
    for name, value in ((NOW_SETTING, setting), (NOW_VARIABLE, variable)):
        if value in (None, ""):
            continue
        try:
            now = moment(value, zone, day_time=END_OF_DAY)
        except (ValueError, TypeError):
            raise ClockError(f"{name} {value!r} is not a time such as 2027-03-01 09:00 "
                             "(or 2027-03-01T09:00+01:00)") from None
        if today is not None and today != now.date():
            raise ClockError(f"{name} {now.isoformat()} and SHOP_TODAY {today} name two different days: "
                             f"set only {name}, the shop's day follows it")
        return now
    if today is not None:
        return dt.datetime.combine(today, END_OF_DAY, tzinfo=zone)
    return real_now.astimezone(zone)


def _day(value) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ClockError(f"SHOP_TODAY {value!r} is not a day such as 2026-11-22") from None


def clock(settings: dict) -> dt.datetime:
    """The clock of a build, as core resolved it at start; outside a build, resolved now from the settings."""
    value = settings.get(NOW_SETTING)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value
    zone = zone_of(settings)
    return site_now(value, None, settings.get("SHOP_TODAY"), zone, dt.datetime.now(dt.timezone.utc))


def is_scheduled(date, now: dt.datetime) -> bool:
    """Whether an item dated `date` is not live yet at `now` (an item without a date is live)."""
    if not isinstance(date, dt.datetime):
        return False
    return aware(date, now.tzinfo) > now


def hold_back(generator, now: dt.datetime, groups, translation_id, order_by) -> list:
    """Take the items dated after now out of a Pelican generator's published and hidden lists; return them.

    Translations are paired again among the items that stay, so no page links to a held-back one; the
    held-back sources stay known to Pelican (no static copy) but resolve to nothing, so a {filename}
    link to one is reported instead of pointing to a page that does not exist yet (a draft's link is
    previewed without its address: core.integrity).
    """
    held = []
    for originals, translations in groups:
        items = [*getattr(generator, originals), *getattr(generator, translations)]
        late = {item for item in items if is_scheduled(getattr(item, "date", None), now)}
        if not late:
            continue
        held += [item for item in items if item in late]
        index, others = pair_translations([item for item in items if item not in late], translation_id)
        setattr(generator, originals, order_content(index, order_by))
        setattr(generator, translations, others)
        if originals in generator.context:
            generator.context[originals] = getattr(generator, originals)
    for item in held:
        generator.context["generated_content"][item.get_relative_source_path()] = None
    return held


def pair_translations(items: list, translation_id) -> tuple[list, list]:
    """(originals, translations) of items, as Pelican's process_translations pairs them, in linear time.

    Pelican's own function tests membership in a list, which grows as the square of the items (10,000
    posts). Here membership is a set's: the same groups, the same originals (a translation whose original
    is held back stands as an original), the same order and the same `translations` of each item.
    """
    if not translation_id:
        return items, []
    names = (translation_id,) if isinstance(translation_id, str) else tuple(translation_id)
    key = attrgetter(*names)
    items = sorted(items, key=key)
    index = []
    for values, group in groupby(items, key):
        group = list(group)
        values = (values,) if len(names) == 1 else values
        index += get_original_items(group, "with " + ", ".join(f'{name} "{value}"'
                                                               for name, value in zip(names, values)))
        for item in group:
            item.translations = [other for other in group if other is not item]
    originals = set(index)
    return index, [item for item in items if item not in originals]


@dataclass(frozen=True, order=True)
class Change:
    """A moment when the published site goes stale, and why ("post content/posts/x.md goes live")."""

    when: dt.datetime
    what: str
    source: str = ""


def upcoming(changes, now: dt.datetime) -> list[Change]:
    """The changes after now, soonest first."""
    return sorted(change for change in changes if change.when > now)


def next_changes(changes, now: dt.datetime) -> list[Change]:
    """The changes that happen at the first moment after now (several items may share it)."""
    ahead = upcoming(changes, now)
    return [change for change in ahead if change.when == ahead[0].when] if ahead else []


def shown_path(source: str, content_path: str) -> str:
    """A source path as a writer reads it: relative to the folder that holds the content (content/posts/x.md)."""
    return os.path.relpath(source, os.path.dirname(os.path.abspath(content_path)))


def utc_text(when: dt.datetime) -> str:
    """An instant in UTC, written with Z: 2027-06-30T21:59:00Z."""
    return when.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat() + "Z"


def report(changes, now: dt.datetime, form: str = "text") -> str:
    """What `next-build` prints: text for people, "iso" (the instant only, or nothing) or "json" for scripts."""
    ahead = upcoming(changes, now)
    first = next_changes(ahead, now)
    if form == "iso":
        return first[0].when.isoformat() if first else ""
    if form == "json":
        entries = [{"when": change.when.isoformat(), "utc": utc_text(change.when), "what": change.what,
                    "source": change.source} for change in ahead]
        return json.dumps({"now": now.isoformat(timespec="seconds"), "next": first[0].when.isoformat() if first else None,
                           "next_utc": utc_text(first[0].when) if first else None, "changes": entries},
                          ensure_ascii=False, indent=1)
    if form != "text":
        raise ValueError(f"unknown format {form!r}: use text, iso or json")
    if not first:
        return "nothing scheduled"
    lines = [f"{change.when.isoformat()} (UTC {utc_text(change.when)}): {change.what}" for change in first]
    later = len(ahead) - len(first)
    if later:
        lines.append(f"then {later} later change(s): --format=json lists them all")
    return "\n".join(lines)
