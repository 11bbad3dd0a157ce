"""Signal wiring of the feeds plugin."""

from __future__ import annotations

from pelican import signals

from core.rendering import apply_defaults

from .generator import FeedsGenerator
from .settings import DEFAULTS, FeedsSettings


def configure(pelican):
    apply_defaults(pelican.settings, DEFAULTS)
    pelican.settings["FEEDS_CONFIG"] = FeedsSettings.from_settings(pelican.settings)


def get_generators(pelican):
    return FeedsGenerator


def register():
    signals.initialized.connect(configure)
    signals.get_generators.connect(get_generators)
