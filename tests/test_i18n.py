"""Date and price formatting: Babel's work done once per value, format and language; the results unchanged."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from core import i18n
from jinja2 import Environment
from shop.catalog import format_money


def render(env, source, **context):
    return env.from_string(source).render(**context)


def date_env():
    env = Environment()
    env.filters.update(i18n.make_date_filters("it"))
    return env


def test_dates_are_formatted_by_babel_once_per_value_format_and_language(monkeypatch):
    calls = []
    original = i18n.format_date
    monkeypatch.setattr(i18n, "format_date", lambda *a, **k: calls.append(a) or original(*a, **k))
    env = date_env()
    day = dt.date(2026, 3, 1)
    for _ in range(5):
        assert render(env, "{{ d|localdate }}", d=day) == "1 marzo 2026"
        assert render(env, "{{ d|localdate('short') }}", d=day) == "01/03/26"
    assert len(calls) == 2


def test_equal_instants_in_two_zones_keep_their_own_local_date():
    env = date_env()
    rome = dt.datetime(2026, 3, 2, 0, 30, tzinfo=ZoneInfo("Europe/Rome"))
    utc = rome.astimezone(dt.timezone.utc)
    assert rome == utc  # the same instant: a cache keyed on equality alone would mix them up
    assert render(env, "{{ d|localdate }}", d=rome) == "2 marzo 2026"
    assert render(env, "{{ d|localdate }}", d=utc) == "1 marzo 2026"


def test_money_is_the_same_text_from_the_memo_and_types_are_kept_apart():
    first = format_money(Decimal("1299.00"), "EUR", "it")
    assert format_money(Decimal("1299.00"), "EUR", "it") is first  # memoised
    assert format_money(Decimal("1299"), "EUR", "it") == first == "1.299,00\xa0€"
    assert format_money(Decimal("1299.00"), "EUR", "en") == "€1,299.00"
    assert format_money("5.5", "EUR", "it") == "5,50\xa0€"
    assert format_money(Decimal("5.5"), "USD", "it") == "5,50\xa0USD"


TRANSLATED = """{{ _("Products") }}|{{ _("from") }}|{{ _("Lowest price in the 30 days before the discount: %(price)s.",
price=price) }}|{{ _("100%% natural") }}|{{ _("Not in the catalogue <b>") }}|{% trans %}Products{% endtrans %}|
{% trans count=n %}One review{% pluralize %}{{ count }} reviews{% endtrans %}|{{ ngettext("%(num)s item", "%(num)s items", n) }}"""


def _theme_env(fast: bool, autoescape: bool) -> Environment:
    from conftest import ROOT

    env = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    catalogs = i18n.load_catalogs(ROOT / "theme" / "translations", ["it", "en"])
    if fast:
        i18n.install(env, catalogs, "it")
    else:
        env.install_gettext_callables(*i18n.make_callables(catalogs, "it"), newstyle=True)
    return env


def test_messages_translated_once_per_language_are_jinjas_newstyle_gettext():
    from types import SimpleNamespace

    for autoescape in (True, False):
        fast, stock = _theme_env(True, autoescape), _theme_env(False, autoescape)
        for lang in ("it", "en", None):
            for n in (1, 3):
                values = {"price": "<b>9,90 €</b>", "n": n, "article": SimpleNamespace(lang=lang) if lang else None}
                for _ in range(2):  # the second time from what the first left
                    assert render(fast, TRANSLATED, **values) == render(stock, TRANSLATED, **values)
    env = _theme_env(True, True)
    assert render(env, "{{ _('Products') }}") == "Prodotti"  # the site's language first, then the page's own
    assert render(env, "{{ _('Products') }}", article=SimpleNamespace(lang="en")) == "Products"
    assert render(env, "{{ _('Products') }}") == "Prodotti"


def test_extracting_the_strings_again_keeps_every_translation_and_leaves_no_italian_one_empty(tmp_path):
    """What `./vetrina i18n` does, in a copy: a string the code uses but babel.cfg does not scan would be marked
    obsolete by the update (and its translation dropped from the compiled catalogue)."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[1]
    pybabel = Path(sys.executable).parent / "pybabel"
    copy = tmp_path / "translations"
    shutil.copytree(root / "theme" / "translations", copy)
    subprocess.run([str(pybabel), "-q", "extract", "-F", "babel.cfg", "-k", "translate:2", "-k", "problem:3",
                    "-o", str(tmp_path / "messages.pot"), "--no-location", "."], cwd=root, check=True)
    subprocess.run([str(pybabel), "-q", "update", "-i", str(tmp_path / "messages.pot"), "-d", str(copy),
                    "--no-fuzzy-matching"], check=True)
    for lang in ("it", "en"):
        with open(copy / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
            catalog = read_po(handle)
        assert sorted(catalog.obsolete) == [], lang
    with open(copy / "it" / "LC_MESSAGES" / "messages.po", "rb") as handle:
        italian = read_po(handle)
    assert [message.id for message in italian if message.id and not message.string] == []
