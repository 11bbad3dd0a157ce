"""Signal wiring of the seo plugin."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from jinja2 import pass_context
from pelican import signals

from . import robots, sitemap
from .settings import DEFAULTS, SeoSettings

logger = logging.getLogger(__name__)

SITEMAP_KEY = "SEO_SITEMAP_ENTRIES"


def configure(pelican):
    for key, value in DEFAULTS.items():
        pelican.settings.setdefault(key, value)
    pelican.settings["SEO_CONFIG"] = SeoSettings.from_settings(pelican.settings)
    # One list per build, shared by every page's context (context is a copy of the settings).
    pelican.settings[SITEMAP_KEY] = []


def add_globals(generator):
    config = generator.settings["SEO_CONFIG"]

    @pass_context
    def robots_directive(context):
        return robots.directive(context, config)

    generator.env.globals["robots_directive"] = robots_directive


def _item(context):
    return context.get("article") or context.get("page") or context.get("product")


def _changed(item) -> dt.datetime:
    """When an item last changed: its Modified field, else its source file's last change."""
    modified = getattr(item, "modified", None)
    if modified:
        return modified
    changed = dt.datetime.fromtimestamp(os.path.getmtime(item.source_path), dt.timezone.utc)
    date = getattr(item, "date", None)
    return changed.astimezone(date.tzinfo) if date and date.tzinfo else changed


def _images(item, site_url) -> tuple[str, ...]:
    sources = []
    if getattr(item, "model", None) is not None:
        sources = [image.src for image in item.images]
        sources += [v.image.src for v in item.variants if v.image and v.image.src not in sources]
    elif getattr(item, "image", None):
        sources = [item.image]
    return tuple(f"{site_url}/{src}" for src in sources)


def _listed_items(context) -> list:
    for key, value in context.items():
        if key.endswith("_page") and hasattr(value, "object_list"):
            return list(value.object_list)
    return []


def record_page(path, context):
    """Remember every indexable HTML page as it is written."""
    entries = context.get(SITEMAP_KEY)
    if entries is None or not path.endswith(".html"):
        return
    if robots.directive(context, context["SEO_CONFIG"]) is not None:
        return
    site_url = context["SITEURL"]
    relative = Path(path).relative_to(context["OUTPUT_PATH"]).as_posix()
    loc = f"{site_url}/{relative[: -len('index.html')] if relative.endswith('index.html') else relative}"
    item = _item(context)
    if item is not None:
        entries.append(sitemap.Entry(loc, _changed(item), _images(item, site_url)))
        return
    listed = [_changed(i) for i in _listed_items(context) if getattr(i, "source_path", None)]
    entries.append(sitemap.Entry(loc, max(listed) if listed else None))


def write_files(pelican):
    """sitemap.xml (production: absolute URLs only) and robots.txt, once every page is written."""
    settings = pelican.settings
    config, site_url = settings["SEO_CONFIG"], settings["SITEURL"]
    output = Path(pelican.output_path)
    if site_url.startswith("http"):
        for name, data in sitemap.files(settings[SITEMAP_KEY], site_url, config.sitemap_max_urls).items():
            (output / name).write_bytes(data)
    else:
        logger.info("sitemap.xml is written only when SITEURL is absolute (production)")
    (output / "robots.txt").write_text(
        sitemap.robots_txt(site_url, config.robots_disallow, config.robots_extra), encoding="utf-8")


def register():
    signals.initialized.connect(configure)
    signals.generator_init.connect(add_globals)
    signals.content_written.connect(record_page)
    signals.finalized.connect(write_files)
