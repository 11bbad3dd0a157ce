"""Signal wiring of the core plugin."""

from __future__ import annotations

import logging
from pathlib import Path

from pelican import signals
from pelican.contents import Article, Page

from . import contentcache, i18n, images, integrity, pagepool, parallel, rendercache, security, speedups, text, urls
from .rendering import apply_defaults, card_memo
from .responsive import ImageError, ResponsiveImages
from .settings import DEFAULTS, SiteSettings
from . import schedule

logger = logging.getLogger(__name__)
# The pages an Italian shop must publish (SITE_LEGAL_PAGES): a production build refuses while one is a draft.
LEGAL_PAGES = ("chi-siamo", "spedizioni-e-resi", "termini-e-condizioni", "privacy", "cookie", "contatti")

SETTINGS_KEY = "SITE_CONFIG"
IMAGES_KEY = "SITE_RESPONSIVE_IMAGES"


def validate_settings(pelican):
    """Check the site settings once, before anything is read; start this build's image register."""
    settings = pelican.settings
    apply_defaults(settings, DEFAULTS)
    settings[SETTINGS_KEY] = SiteSettings.from_settings(settings)
    workers = parallel.workers_of(settings)
    settings[IMAGES_KEY] = ResponsiveImages(Path(settings["PATH"]), Path(settings["CACHE_PATH"]) / "images", workers)


# --- both cores and the content cache -------------------------------------------------------------
def check_content_cache(pelican):
    """A cache made with other settings, plugins or package versions is not loaded (see core.contentcache)."""
    contentcache.check(pelican.settings)


def preread_posts(generator):
    parallel.preread(generator, "ARTICLE")


def preread_pages(generator):
    parallel.preread(generator, "PAGE")


def install_theme_support(generator):
    """Give the generator's Jinja environment translations and date filters."""
    config = generator.settings[SETTINGS_KEY]
    catalogs = i18n.load_catalogs(Path(generator.theme) / "translations", config.languages)
    i18n.install(generator.env, catalogs, config.default_lang)
    generator.env.filters.update(i18n.make_date_filters(config.default_lang))
    generator.env.filters["href"] = urls.href
    generator.env.globals["image_sources"] = generator.settings[IMAGES_KEY].sources
    generator.env.globals["memo"] = card_memo(config.default_lang)


def write_images(pelican):
    """Write the WebP copies the pages asked for (made once, then taken from the cache)."""
    try:
        made = pelican.settings[IMAGES_KEY].write(Path(pelican.output_path))
    except ImageError as error:
        logger.error("%s", error)
        return
    if made:
        logger.info("Made %s responsive image copies", made)


def prepare_content(instance):
    """Give posts and pages a plain-text description and checked lead-image facts."""
    if not isinstance(instance, (Article, Page)):
        return
    config = instance.settings[SETTINGS_KEY]
    # A `Description:` field (an imported SEO description) wins over the summary shown in listings.
    summary = instance.metadata.get("description") or instance.metadata.get("summary")
    instance.description = text.describe(summary, instance._content, config.description_length)
    image = instance.metadata.get("image")
    if image:
        check_image(instance, image)


def check_image(instance, image: str):
    """The lead image must exist in the content folder; remember its size for the theme."""
    path = Path(instance.settings["PATH"]) / image.lstrip("/")
    if not path.is_file():
        logger.error("%s: field 'image': no file %s in the content folder", instance.source_path, image)
        instance.image = None
        return
    if not instance.metadata.get("image_alt"):
        logger.error("%s: field 'image_alt': the lead image needs alternative text", instance.source_path)
    instance.image = image.lstrip("/")
    instance.image_size = images.image_size(path)


def write_headers(pelican):
    """Write _headers (Netlify, Cloudflare Pages): the security policy of this build's settings."""
    if not pelican.settings[SETTINGS_KEY].security.enabled:
        return
    try:
        policy = security.policy(pelican.settings)
    except security.SecurityPolicyError as error:
        logger.error("Security headers: %s", error)
        return
    path = Path(pelican.output_path) / security.HEADERS_FILE
    path.write_text(security.headers_file(policy.rules()), encoding="utf-8")
    logger.info("Wrote %s (%s)", security.HEADERS_FILE, ", ".join(policy.features) or "own files only")


# --- scheduled content: one clock per build; items dated after it wait for a later build ---------
def start_clock(pelican):
    """Resolve the build's clock once (SITE_NOW, $VETRINA_NOW, SHOP_TODAY or the real time) into SITE_NOW."""
    import datetime as dt
    import os

    settings = pelican.settings
    settings[schedule.NOW_SETTING] = schedule.site_now(
        settings.get(schedule.NOW_SETTING), os.environ.get(schedule.NOW_VARIABLE), settings.get("SHOP_TODAY"),
        schedule.zone_of(settings), dt.datetime.now(dt.timezone.utc))


def start_schedule(generator):
    generator.context.setdefault(schedule.CONTEXT_KEY, {})


def hold_back_scheduled(generator):
    """Leave posts and pages dated after the clock out of this build, and say when each goes live."""
    kind = "ARTICLE" if hasattr(generator, "articles") else "PAGE"
    groups = schedule.ARTICLE_GROUPS if kind == "ARTICLE" else schedule.PAGE_GROUPS
    held = schedule.hold_back(generator, schedule.clock(generator.settings), groups,
                              generator.settings[f"{kind}_TRANSLATION_ID"], generator.settings[f"{kind}_ORDER_BY"])
    scheduled = generator.context.setdefault(schedule.CONTEXT_KEY, {})
    for item in held:
        scheduled[item.source_path] = item.date
        logger.info("Scheduled: %s goes live on %s", schedule.shown_path(item.source_path, generator.path),
                    item.date.isoformat())


# --- problems that name their file: links, images and slugs after reading; one file per output ---------
def check_content(generators):
    """After reading: every item's links, images and tag/category/author slugs, each problem with its file."""
    integrity.check_content(generators[0].context)


def encode_item_images(generators):
    """After reading: the items' own images (lead images, product photos) start encoding on the side worker."""
    context = generators[0].context
    items = [item for key in ("articles", "pages", "hidden_articles", "hidden_pages") for item in context.get(key, [])]
    items += getattr(context.get("shop"), "products", [])
    srcs = []
    for item in items:
        srcs.append(getattr(item, "image", None))
        srcs += [image.src for image in getattr(item, "images", None) or [] if getattr(image, "src", None)]
    context[IMAGES_KEY].prefetch(src for src in srcs if isinstance(src, str))


def guarded_writer(pelican):
    """The writer that reports two things written to one file (with both sources) instead of crashing."""
    return integrity.OutputGuard


def refuse_draft_legal_pages(generator):
    """A production build (absolute SITEURL) of a shop whose legal pages are still drafts fails, naming each one."""
    settings = generator.settings
    if not str(settings.get("SITEURL", "")).startswith(("http://", "https://")):
        return
    legal = set(settings.get("SITE_LEGAL_PAGES", LEGAL_PAGES))
    for page in getattr(generator, "draft_pages", []):
        if page.slug in legal:
            logger.error("%s: field 'status': the page %r is still a draft; review it and delete the line "
                         "`Status: draft`: a shop is not published while a legal page is a draft",
                         page.source_path, page.slug)


def register():
    contentcache.pelican_caches_survive_interruption()
    speedups.install()
    from pelican.generators import ArticlesGenerator, PagesGenerator

    for generator_class in (ArticlesGenerator, PagesGenerator):
        pagepool.on_both_cores(generator_class)
    pagepool.images_register(IMAGES_KEY)
    rendercache.register()
    signals.article_writer_finalized.connect(pagepool.render_before_finalized)
    signals.page_writer_finalized.connect(pagepool.render_before_finalized)
    signals.initialized.connect(validate_settings)
    signals.initialized.connect(start_clock)
    signals.initialized.connect(check_content_cache)
    signals.readers_init.connect(parallel.use_prepared_reader)
    signals.article_generator_preread.connect(preread_posts)
    signals.page_generator_preread.connect(preread_pages)
    signals.generator_init.connect(start_schedule)
    signals.article_generator_pretaxonomy.connect(hold_back_scheduled)
    signals.page_generator_finalized.connect(hold_back_scheduled)
    signals.page_generator_finalized.connect(refuse_draft_legal_pages)
    signals.generator_init.connect(install_theme_support)
    signals.content_object_init.connect(prepare_content)
    signals.all_generators_finalized.connect(check_content)
    signals.all_generators_finalized.connect(encode_item_images)
    signals.get_writer.connect(guarded_writer)
    signals.finalized.connect(write_images)
    signals.finalized.connect(write_headers)
