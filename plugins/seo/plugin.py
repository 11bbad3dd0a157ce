"""Signal wiring of the seo plugin."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

from collections import Counter

from jinja2 import pass_context
from markupsafe import Markup
from pelican import signals

from core.images import image_size
from core.rendering import apply_defaults, listing_page, rendered_item

from . import graph, robots, schema, sitemap, validate
from .settings import DEFAULTS, SeoSettings

logger = logging.getLogger(__name__)

SITEMAP_KEY = "SEO_SITEMAP_ENTRIES"
RECOMMENDED_KEY = "SEO_MISSING_RECOMMENDED"


def configure(pelican):
    settings = pelican.settings
    apply_defaults(settings, DEFAULTS)
    config = SeoSettings.from_settings(settings)
    settings["SEO_CONFIG"] = config
    settings["SEO_SITE"] = site_identity(settings, config)
    # Per build, shared by every page's context (context is a copy of the settings).
    settings[SITEMAP_KEY] = []
    settings[RECOMMENDED_KEY] = Counter()


def site_identity(settings, config) -> schema.Site:
    site_url = settings["SITEURL"]
    logo_file = Path(settings["THEME"]) / "static" / config.logo.removeprefix("theme/")
    size = image_size(logo_file) if logo_file.is_file() else None
    return schema.Site(
        url=site_url, name=settings.get("BUSINESS_NAME") or settings["SITENAME"],
        legal_name=settings.get("BUSINESS_LEGAL_NAME", ""), lang=settings["DEFAULT_LANG"],
        logo=f"{site_url}/{config.logo}", logo_size=size or (512, 512),
        email=settings.get("BUSINESS_EMAIL", ""), phone=settings.get("BUSINESS_PHONE", ""),
        street=settings.get("BUSINESS_STREET", ""), postal_code=settings.get("BUSINESS_POSTAL_CODE", ""),
        city=settings.get("BUSINESS_CITY", ""), region=settings.get("BUSINESS_REGION", ""),
        country=settings.get("BUSINESS_COUNTRY", ""), vat_id=settings.get("BUSINESS_VAT_ID", ""),
        same_as=config.same_as, languages=tuple(settings.get("SITE_LANGUAGES", (settings["DEFAULT_LANG"],))),
    )


def _plain(value) -> str:
    return value.unescape() if isinstance(value, Markup) else str(value or "")


def add_globals(generator):
    config = generator.settings["SEO_CONFIG"]

    @pass_context
    def robots_directive(context):
        return robots.directive(context, config)

    @pass_context
    def jsonld_graph(context, trail=None, title="", description=""):
        """The page's JSON-LD graph, checked against Google's rules before it is written."""
        page_graph = graph.build(context, trail or [], context["SEO_SITE"], config,
                                 _plain(title).split(" · ")[0], _plain(description))
        report(context, validate.check_graph(page_graph))
        return page_graph

    generator.env.globals["robots_directive"] = robots_directive
    generator.env.globals["jsonld_graph"] = jsonld_graph


def report(context, findings: validate.Findings):
    item = rendered_item(context)
    source = getattr(item, "source_path", None) or context.get("output_file")
    for error in findings.errors:
        logger.error("%s: structured data: %s", source, error)
    context[RECOMMENDED_KEY].update(findings.recommended)


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


def record_page(path, context):
    """Remember every indexable HTML page as it is written."""
    entries = context.get(SITEMAP_KEY)
    if entries is None or not path.endswith(".html"):
        return
    if robots.directive(context, context["SEO_CONFIG"]) is not None:
        return
    site_url = context["SITEURL"]
    loc = graph.page_url(context)
    item = rendered_item(context)
    if item is not None:
        entries.append(sitemap.Entry(loc, _changed(item), _images(item, site_url)))
        return
    listing = listing_page(context)
    listed = [_changed(i) for i in (listing.object_list if listing else []) if getattr(i, "source_path", None)]
    entries.append(sitemap.Entry(loc, max(listed) if listed else None))


def summarise_recommended(pelican):
    """Recommended properties the pages lack, once per build, per kind (not an error)."""
    missing = pelican.settings[RECOMMENDED_KEY]
    kinds = sorted({kind for kind, _ in missing})
    for kind in kinds:
        props = ", ".join(f"{prop} ({count}×)" for (k, prop), count in sorted(missing.items()) if k == kind)
        logger.info("Structured data: %s lacks recommended %s", kind, props)


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
    signals.finalized.connect(summarise_recommended)
