"""Signal wiring of the forms plugin: FORMS_CONFIG for the templates (where each form posts) and the CSP."""

from __future__ import annotations

from pelican import signals

from core.rendering import apply_defaults

from .settings import DEFAULTS, FormsSettings


def configure(pelican):
    apply_defaults(pelican.settings, DEFAULTS)
    pelican.settings["FORMS_CONFIG"] = FormsSettings.from_settings(pelican.settings)


def find_withdrawal_pages(generator):
    """FORMS_WITHDRAWAL for the footer: the withdrawal page of each language that this build has, so a site
    without one links nothing rather than a missing page."""
    config = generator.settings["FORMS_CONFIG"]
    built = {page.url for page in [*generator.pages, *generator.translations]}
    generator.context["FORMS_WITHDRAWAL"] = {lang: url for lang, url in config.withdrawal_pages.items()
                                             if url in built}


def register():
    signals.initialized.connect(configure)
    signals.page_generator_finalized.connect(find_withdrawal_pages)
