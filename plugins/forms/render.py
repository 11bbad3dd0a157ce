"""The endpoint's pages and e-mails: Jinja templates in the theme (templates/forms/), in the visitor's language
with the theme's own catalogues, on the site's stylesheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.i18n import load_catalogs
from shop.catalog import format_money


def N_(text: str) -> str:
    """Marks a message for the catalogues (pybabel's default keyword); it is translated where it is shown."""
    return text


class Renderer:
    def __init__(self, theme: Path, languages, default_lang: str, site: dict, timezone: str = "Europe/Rome"):
        self.catalogs = load_catalogs(Path(theme) / "translations", languages)
        self.default_lang = default_lang
        self.zone = ZoneInfo(timezone)
        self.environments = {}
        for lang, catalog in self.catalogs.items():
            env = Environment(loader=FileSystemLoader(str(Path(theme) / "templates" / "forms")),
                              autoescape=select_autoescape(["html"], default_for_string=False),
                              extensions=["jinja2.ext.i18n"], undefined=StrictUndefined,
                              trim_blocks=True, lstrip_blocks=True)
            env.install_gettext_translations(catalog, newstyle=True)
            env.globals.update(site=site, lang=lang)
            env.filters["money"] = lambda amount, currency, _lang=lang: format_money(amount, currency, _lang)
            env.filters["when"] = lambda moment, _lang=lang: self.when(moment, _lang)
            self.environments[lang] = env

    def language(self, lang: str) -> str:
        return lang if lang in self.environments else self.default_lang

    def render(self, lang: str, template: str, **values) -> str:
        return self.environments[self.language(lang)].get_template(template).render(**values)

    def translate(self, lang: str, message: str, **values) -> str:
        text = self.catalogs[self.language(lang)].gettext(message)
        return text % values if values else text

    def when(self, moment: dt.datetime, lang: str) -> str:
        """A date and time as the shop's clock shows it, with its zone (a receipt must say when)."""
        return format_datetime(moment, "long", tzinfo=self.zone, locale=self.language(lang))
