"""UI translations: gettext catalogs compiled with Babel, picked per page by its language."""

from __future__ import annotations

import gettext
import io
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from jinja2 import pass_context

from .rendering import rendered_item


def load_catalogs(translations_dir: Path, languages) -> dict[str, gettext.NullTranslations]:
    """Compile each language's messages.po in memory; a language without one falls back to the msgids."""
    catalogs = {}
    for lang in languages:
        po_path = translations_dir / lang / "LC_MESSAGES" / "messages.po"
        if not po_path.exists():
            catalogs[lang] = gettext.NullTranslations()
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=lang)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        catalogs[lang] = gettext.GNUTranslations(buffer)
    return catalogs


def page_lang(context, default_lang: str) -> str:
    """The language of the page being rendered: its article's, page's or product's, else the site's."""
    return getattr(rendered_item(context), "lang", None) or default_lang


def catalog_of(catalogs: dict, lang: str, default_lang: str):
    """The catalogue of a language, else the site's."""
    return catalogs.get(lang) or catalogs[default_lang]


def make_callables(catalogs: dict, default_lang: str):
    """gettext/ngettext that translate into the language of the page being rendered."""

    def catalog_for(context):
        return catalog_of(catalogs, page_lang(context, default_lang), default_lang)

    @pass_context
    def ugettext(context, message):
        return catalog_for(context).gettext(message)

    @pass_context
    def ungettext(context, singular, plural, count):
        return catalog_for(context).ngettext(singular, plural, count)

    return ugettext, ungettext


def install(env, catalogs: dict, default_lang: str) -> None:
    """Translations for an environment: Jinja's newstyle gettext (placeholders, escaping), with each message
    without placeholders translated and formatted once per language, not on each of its calls.

    Jinja's own `_` looks `gettext` up in the context, calls it, which calls the catalogs, marks the result
    safe and formats it (`%%` becomes `%`) on every call: a page calls it about sixty times.
    """
    from markupsafe import Markup

    gettext_, ngettext_ = make_callables(catalogs, default_lang)
    env.install_gettext_callables(gettext_, ngettext_, newstyle=True)
    done: dict[tuple, str] = {}

    def translated(lang: str, message: str, autoescape: bool, variables: dict) -> str:
        text = catalog_of(catalogs, lang, default_lang).gettext(message)
        return (Markup(text) if autoescape else text) % variables

    @pass_context
    def gettext(context, message, **variables):
        lang, autoescape = page_lang(context, default_lang), context.eval_ctx.autoescape
        if variables:
            return translated(lang, message, autoescape, variables)
        key = (lang, message, autoescape)
        known = done.get(key)
        if known is None:
            known = done[key] = translated(lang, message, autoescape, {})
        return known

    env.globals.update(gettext=gettext, _=gettext)


def make_date_filters(default_lang: str):
    """Jinja filters that format dates for the page's language with Babel."""

    # Babel parses the locale and the pattern on every call; the same dates recur on every listing page.
    # Formatted once per (date, format, language) for as long as the filters live (one build's environment).
    formatted: dict[tuple, str] = {}

    def cached(formatter, value, fmt, lang):
        key = (formatter, type(value), repr(value), fmt, lang)  # repr: equal instants in two zones differ
        if key not in formatted:
            formatted[key] = formatter(value, format=fmt, locale=lang)
        return formatted[key]

    @pass_context
    def localdate(context, value, fmt="long"):
        return cached(format_date, value, fmt, page_lang(context, default_lang))

    @pass_context
    def localdatetime(context, value, fmt="long"):
        return cached(format_datetime, value, fmt, page_lang(context, default_lang))

    return {"localdate": localdate, "localdatetime": localdatetime, "language_name": language_name}


def language_name(code: str) -> str:
    """A language's name in that language, capitalised: "English", "Italiano"."""
    name = Locale.parse(code).get_display_name(code) or code
    return name[:1].upper() + name[1:]


def drop_placeholder_headers(path: Path) -> None:
    """Babel writes placeholder names and addresses into catalogue headers; the project keeps none."""
    placeholders = ("FIRST AUTHOR", "EMAIL@ADDRESS", "FULL NAME", "LL@li.org")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not any(p in line for p in placeholders)), encoding="utf-8")
