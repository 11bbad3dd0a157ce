"""Signal wiring of the forms plugin: FORMS_CONFIG for the templates (where each form posts) and the CSP."""

from __future__ import annotations

from pelican import signals

from core.rendering import apply_defaults

from .settings import DEFAULTS, FormsSettings


def configure(pelican):
    apply_defaults(pelican.settings, DEFAULTS)
    pelican.settings["FORMS_CONFIG"] = FormsSettings.from_settings(pelican.settings)


def register():
    signals.initialized.connect(configure)
