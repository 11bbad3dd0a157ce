"""Signal wiring of the seo plugin."""

from __future__ import annotations

import logging
from pathlib import Path

from collections import Counter

from jinja2 import pass_context
from pelican import signals

from core import pagepool, rendercache, schedule
from core.images import image_size
from core.urls import join
from shop.catalog import ProductPage
from core.rendering import apply_defaults, listing_page, rendered_item

from . import graph, robots, schema, sitemap, validate
from .settings import DEFAULTS, SeoSettings

logger = logging.getLogger(__name__)

SITEMAP_KEY = "SEO_SITEMAP_ENTRIES"
RECOMMENDED_KEY = "SEO_MISSING_RECOMMENDED"
LASTMOD_KEY = "SEO_COMMIT_TIMES"
# Paths other plugins keep crawlers out of, by plugin: {"search": ("/cerca/?", ...)} (set again by each build).
DISALLOWED_KEY = "SEO_ROBOTS_DISALLOWED"


def configure(pelican):
    settings = pelican.settings
    apply_defaults(settings, DEFAULTS)
    config = SeoSettings.from_settings(settings)
    settings["SEO_CONFIG"] = config
    settings["SEO_SITE"] = site_identity(settings, config)
    # Per build, shared by every page's context (context is a copy of the settings).
    settings[SITEMAP_KEY] = []
    settings[RECOMMENDED_KEY] = Counter()
    # When each content file last changed in Git: one `git log` pass per build (None: no full history).
    settings[LASTMOD_KEY] = sitemap.git_commit_times(settings["PATH"], schedule.zone_of(settings))


def site_identity(settings, config) -> schema.Site:
    site = settings["SITE_CONFIG"]
    logo_file = Path(settings["THEME"]) / "static" / site.logo.removeprefix("theme/")
    size = image_size(logo_file) if logo_file.is_file() else None
    return schema.Site(url=site.site_url, lang=site.default_lang, logo=join(site.site_url, site.logo),
                       logo_size=size or (512, 512), business=site.business, same_as=config.same_as,
                       languages=site.languages)


def add_globals(generator):
    config = generator.settings["SEO_CONFIG"]
    # The Organization and WebSite nodes are the same on every page: built once per build (per catalogue,
    # site URL and page list they are made from) and shared by every page's graph.
    shared: dict = {}

    def common_nodes(context) -> graph.SiteNodes:
        sources = (context.get("shop"), context.get("SITEURL"), context.get("pages"))
        cached = shared.get("sources")
        if cached is None or any(a is not b for a, b in zip(cached, sources)):
            shared["sources"], shared["nodes"] = sources, graph.site_nodes(context["SEO_SITE"], context)
        return shared["nodes"]

    @pass_context
    def robots_directive(context):
        return robots.directive(context, config)

    @pass_context
    def jsonld_graph(context, trail=None, name="", description=""):
        """The page's JSON-LD graph, checked against Google's rules before it is written.

        trail, name and description are what the template states about a page that is not a post,
        page or product (a listing): they are never read back from the rendered <title>.
        """
        facts = graph.PageFacts(tuple(trail or ()), name, description)
        page_graph = graph.build(context, facts, context["SEO_SITE"], config, common_nodes(context))
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


def _images(item, site_url) -> tuple[str, ...]:
    sources = []
    if isinstance(item, ProductPage):
        sources = [image.src for image in item.images]
        sources += [v.image.src for v in item.variants if v.image and v.image.src not in sources]
    elif getattr(item, "image", None):
        sources = [item.image]
    return tuple(join(site_url, src) for src in sources)


def record_page(path, context):
    """Remember every indexable HTML page as it is written."""
    entries = context.get(SITEMAP_KEY)
    if entries is None or not path.endswith(".html"):
        return
    if robots.directive(context, context["SEO_CONFIG"]) is not None:
        return
    if getattr(rendered_item(context), "in_sitemap", True) is False:
        return  # indexable, but a page for visitors on their way (the cart, the search page), not one to list
    site_url = context["SITEURL"]
    loc = graph.page_url(context)
    if getattr(rendered_item(context), "canonical", None) not in (None, "", loc):
        return  # a page whose `Canonical:` names another address: the sitemap lists canonical URLs only
    item = rendered_item(context)
    commits = context.get(LASTMOD_KEY)
    if item is not None:
        entries.append(sitemap.Entry(loc, sitemap.item_lastmod(item, commits), _images(item, site_url)))
        return
    listing = listing_page(context)
    listed = listing.object_list if listing else sitemap.listed_items(context)
    listed = [i for i in listed if getattr(i, "source_path", None)]
    entries.append(sitemap.Entry(loc, sitemap.listing_lastmod(listed, commits)))


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
    added = tuple(path for paths in settings.get(DISALLOWED_KEY, {}).values() for path in paths)
    (output / "robots.txt").write_text(
        sitemap.robots_txt(site_url, config.robots_disallow + added, config.robots_extra), encoding="utf-8")


def register():
    signals.initialized.connect(configure)
    signals.generator_init.connect(add_globals)
    signals.content_written.connect(record_page)
    # Pages rendered by a fork (core.pagepool) send back the sitemap entries and missing properties they added;
    # a page kept from the last build (core.rendercache) adds again what its render added.
    for register_with in (pagepool.accumulates, rendercache.leaves_behind):
        register_with("sitemap entries", lambda context: len(context[SITEMAP_KEY]),
                      lambda context, mark: context[SITEMAP_KEY][mark:],
                      lambda context, entries: context[SITEMAP_KEY].extend(entries))
        register_with("recommended properties", lambda context: Counter(context[RECOMMENDED_KEY]),
                      lambda context, mark: context[RECOMMENDED_KEY] - mark,
                      lambda context, missing: context[RECOMMENDED_KEY].update(missing))
    signals.finalized.connect(write_files)
    signals.finalized.connect(summarise_recommended)
