"""Signal wiring of the search plugin."""

from __future__ import annotations

from pelican import signals

from core.rendering import apply_defaults

from .generator import SearchGenerator
from .settings import DEFAULTS, SearchSettings


def configure(pelican):
    """Validate the search settings once, before anything is read."""
    settings = pelican.settings
    apply_defaults(settings, DEFAULTS)
    settings["SEARCH_CONFIG"] = SearchSettings.from_settings(settings)


def get_generators(pelican):
    return SearchGenerator


def start_index(generators):
    """Everything is read: hand the catalogue and the posts to Pagefind, which indexes them while pages render."""
    for generator in generators:
        if isinstance(generator, SearchGenerator):
            generator.start_index(generators)


def register():
    signals.initialized.connect(configure)
    signals.get_generators.connect(get_generators)
    signals.all_generators_finalized.connect(start_index)
