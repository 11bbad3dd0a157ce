"""Signal wiring of the comments plugin."""

from __future__ import annotations

import logging
from pathlib import Path

from pelican import signals

from core import commentable as registry
from core.rendering import apply_defaults

from . import isso
from .settings import DEFAULTS, CommentsSettings

logger = logging.getLogger(__name__)


class _Notice(logging.Logger):
    """A plain logger: Isso being down is worth a warning, never a failed build (even with --fatal warnings)."""


notice = _Notice(__name__ + ".offline")
notice.parent = logging.getLogger()


def configure(pelican):
    apply_defaults(pelican.settings, DEFAULTS)
    pelican.settings["COMMENTS_CONFIG"] = CommentsSettings.from_settings(pelican.settings)


def commentable(item, config) -> bool:
    if getattr(item, "status", "published") != "published":
        return False
    flag = str(item.metadata.get("comments", "yes")).strip().lower()
    return flag not in ("no", "false", "off", "0")


def items_of(generators, config):
    """Pelican's posts and their translations, then what other plugins registered (the shop's products)."""
    for generator in generators:
        for key in ("articles", "translations"):
            yield from getattr(generator, key, []) if hasattr(generator, key) else []
    for kind, items in registry.registered(generators[0].context).items():
        if kind != "product" or config.on_products:
            yield from items


def fetch_comments(generators):
    """Give every commentable post and product its approved comments, from Isso or, if it is down, the cache."""
    settings = generators[0].settings
    config = settings["COMMENTS_CONFIG"]
    items = []
    for item in items_of(generators, config):
        item.comments_enabled = config.provider != "none" and commentable(item, config)
        item.comments = []
        item.isso_id = "/" + item.url
        if item.comments_enabled:
            items.append(item)
    if config.provider != "isso" or not config.isso_build_url or not items:
        return
    cache_path = Path(settings["CACHE_PATH"]) / config.cache_file
    cached = isso.load_cache(cache_path)
    fetched = {}
    try:
        for item in items:
            fetched[item.isso_id] = isso.fetch(config.isso_build_url, item.isso_id, config.isso_timeout)
    except isso.IssoUnreachable as error:
        kept = sum(len(comments) for comments in cached.values())
        notice.warning("Isso is unreachable (%s): the pages keep the %s comments fetched last time", error, kept)
        fetched = cached
    else:
        isso.save_cache(cache_path, {**cached, **fetched})
    for item in items:
        item.comments = fetched.get(item.isso_id, [])


def register():
    signals.initialized.connect(configure)
    signals.all_generators_finalized.connect(fetch_comments)
