"""Signal wiring of the core plugin."""

from __future__ import annotations

import logging
from pathlib import Path

from pelican import signals
from pelican.contents import Article, Page

from . import i18n, images, text, urls
from .rendering import apply_defaults
from .responsive import ImageError, ResponsiveImages
from .settings import DEFAULTS, SiteSettings

logger = logging.getLogger(__name__)

SETTINGS_KEY = "SITE_CONFIG"
IMAGES_KEY = "SITE_RESPONSIVE_IMAGES"


def validate_settings(pelican):
    """Check the site settings once, before anything is read; start this build's image register."""
    settings = pelican.settings
    apply_defaults(settings, DEFAULTS)
    settings[SETTINGS_KEY] = SiteSettings.from_settings(settings)
    settings[IMAGES_KEY] = ResponsiveImages(Path(settings["PATH"]), Path(settings["CACHE_PATH"]) / "images")


def install_theme_support(generator):
    """Give the generator's Jinja environment translations and date filters."""
    config = generator.settings[SETTINGS_KEY]
    catalogs = i18n.load_catalogs(Path(generator.theme) / "translations", config.languages)
    gettext_, ngettext_ = i18n.make_callables(catalogs, config.default_lang)
    generator.env.install_gettext_callables(gettext_, ngettext_, newstyle=True)
    generator.env.filters.update(i18n.make_date_filters(config.default_lang))
    generator.env.filters["href"] = urls.href
    generator.env.globals["image_sources"] = generator.settings[IMAGES_KEY].sources


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
    summary = instance.metadata.get("summary")
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


def register():
    signals.initialized.connect(validate_settings)
    signals.generator_init.connect(install_theme_support)
    signals.content_object_init.connect(prepare_content)
    signals.finalized.connect(write_images)
