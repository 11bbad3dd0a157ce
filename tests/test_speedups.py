"""The shortcuts of core.speedups give exactly the results of the code they shorten."""

from __future__ import annotations

import os
import random
import re
from types import SimpleNamespace

import markdown
from conftest import ROOT
from markdown import treeprocessors
from markdown.extensions import smarty
from pelican.settings import read_settings

from core import speedups

PIECES = list("ab '\"-.<>*_`[]()!&;:/@#^{}\\\n 12s") + [
    "--", "---", "....", "&nbsp;", "&amp;", "'80s", "**", "__", "\u2013", "<<", ">>", "  \n", "[^1]", "![", "](",
    "<https://esempio.it>", "<a@b.it>", "<em>", "</em>", "{: .x}", "`codice`", "\n\n", "\n    ", "*[HTML]: "]


def _texts() -> list[str]:
    texts = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "content").rglob("*.md"))]
    texts += ["L'ordine dell'anno '90: \"l'ho detto\" -- e poi... 'fine'. Un 'esempio' \"doppio\".",
              "Vedi [la guida](/guida/ \"Titolo\") e ![foto](a.jpg), `x*y`, **forte** _corsivo_ a\\*b &copy; <b>ok</b>."]
    chance = random.Random(11)
    texts += ["".join(chance.choice(PIECES) for _ in range(chance.randint(1, 60))) for _ in range(2500)]
    return texts


def _converted(processor_class, texts: list[str], angled: bool) -> list[str]:
    settings = read_settings(str(ROOT / "pelicanconf.py"))["MARKDOWN"]
    configs = {**settings["extension_configs"], "markdown.extensions.smarty": {"smart_angled_quotes": angled}}
    installed = treeprocessors.InlineProcessor, smarty.InlineProcessor
    treeprocessors.InlineProcessor = smarty.InlineProcessor = processor_class
    try:
        converter = markdown.Markdown(extensions=list(configs), extension_configs=configs, output_format="html")
    finally:
        treeprocessors.InlineProcessor, smarty.InlineProcessor = installed
    assert type(converter.treeprocessors["inline"]) is processor_class
    assert type(converter.treeprocessors["smarty"]) is processor_class
    out = []
    for text in texts:
        converter.reset()
        out.append(converter.convert(text))
    return out


def test_inline_patterns_skipped_give_python_markdowns_html():
    texts = _texts()
    fast, stock = speedups.skipping_processor_class(), speedups.stock_inline_processor()
    assert stock.__module__ == "markdown.treeprocessors" and not hasattr(stock, "skips_patterns")
    for angled in (False, True):
        assert _converted(fast, texts, angled) == _converted(stock, texts, angled)


def test_most_inline_patterns_are_skipped_by_a_character_they_need():
    converter = markdown.Markdown(extensions=["markdown.extensions.extra", "markdown.extensions.smarty"],
                                  extension_configs={"markdown.extensions.smarty": {"smart_angled_quotes": True}})
    patterns = [*converter.inlinePatterns, *converter.treeprocessors["smarty"].inlinePatterns]
    unknown = [p.compiled_re.pattern for p in patterns if not speedups.needs_of(p.compiled_re)]
    assert unknown == []
    smarty_patterns = converter.treeprocessors["smarty"].inlinePatterns
    literals = speedups._smarty_literals()
    assert [p.compiled_re.pattern for p in smarty_patterns if p.compiled_re.pattern not in literals] == []


def test_what_a_match_needs_is_read_from_the_expression():
    needs = speedups.needs_of
    assert needs(re.compile(r"\*|_")) == (frozenset("*_"),)
    assert needs(re.compile(r"(?<!\!)\[")) == (frozenset("["),)  # a lookbehind consumes nothing
    assert needs(re.compile(r"(?:a|\s)b!")) == (frozenset("!"),)  # a letter and a class give nothing
    assert needs(re.compile(r"x+-(?:\.|,)")) == (frozenset("-"), frozenset(".,"))
    assert needs(re.compile(r"(?:-)?`")) == (frozenset("`"),)  # what may be absent counts for nothing
    assert needs(re.compile(r"[^*]")) == ()
    assert needs(re.compile(r"(?i)[ab]")) == ()


def test_relative_source_paths_are_pelicans(tmp_path):
    settings = {**read_settings(None), "PATH": str(tmp_path / "content")}
    cases = [str(tmp_path / "content/posts/a.md"), "posts/b.md", str(tmp_path / "altrove/c.md")]
    for source in cases:
        article = SimpleNamespace(settings=settings, source_path=source)  # what the method reads of a content
        assert speedups.get_relative_source_path(article) == speedups._original(article)
        assert speedups.get_relative_source_path(article, "pages/d.md") == speedups._original(article, "pages/d.md")
    assert os.getcwd()


def test_a_pattern_is_ruled_out_by_its_rarest_need():
    assert speedups._test_of((frozenset("!"), frozenset("["))) == (frozenset("["), None)
    assert speedups._test_of((frozenset({"---"}),)) == (None, "---")
    assert speedups._test_of((frozenset("*_"),)) == (frozenset("*_"), None)
    assert speedups._test_of(()) == (None, None)


URL_PATTERNS = ["blog/{slug}/", "{lang}/blog/{slug}/index.html", "{date:%Y}/{date:%m}/{slug}.html", "{category}/{slug}/",
                "{author}/{slug}", "{path}", "{date.year}/{slug}", "{uid}/{slug}", "{missing}/", "{}/x", "{0}", "{slug",
                "{date:{fmt}}", "plain.html", "{slug!r}/{title!s}", "{slug}/{slug}"]


def _expanded(function, item, key, klass):
    try:
        return "value", function(item, key, klass)
    except Exception as error:  # noqa: BLE001 - the same failure is part of the same result
        return type(error).__name__, str(error)


def test_urls_formatted_from_the_named_fields_are_pelicans(tmp_path):
    import datetime

    from pelican.contents import Article, Page
    from pelican.urlwrappers import Author, Category

    settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(tmp_path)})
    def item(kind, source, **fields):
        """A post or page as the readers leave it, made without Pelican's signals (the plugins may be connected)."""
        made, metadata = kind.__new__(kind), dict(fields)
        status = fields.pop("status", "published")
        vars(made).update(fields, metadata=metadata, settings=settings, source_path=source, _status=status,
                          in_default_lang=fields.get("lang", "it") == "it")
        return made

    items = [
        item(Article, str(tmp_path / "posts/uno.md"), title="Uno", slug="uno", date=datetime.datetime(2026, 3, 1),
             category=Category("Guide pratiche", settings), author=Author("La Bottega", settings), uid="abc", lang="en"),
        item(Page, str(tmp_path / "pages/due.md"), title="Due", slug="due", path="pages/due.md"),
        item(Article, str(tmp_path / "tre.md"), title="Tre", date=datetime.datetime(2026, 5, 2), status="draft"),
    ]
    for pattern in URL_PATTERNS:
        patched = {**settings, "ARTICLE_URL": pattern, "PAGE_URL": pattern, "DRAFT_URL": pattern,
                   "ARTICLE_LANG_URL": pattern}
        for item in items:
            item.settings = patched
            for key, klass in (("url", None), ("lang_url", "article"), ("url", "draft")):
                assert _expanded(speedups.expand_settings, item, key, klass) == \
                    _expanded(speedups._original_expand, item, key, klass), (pattern, item.title, key)
    assert speedups._url_fields("{date:%Y}/{slug}/{date.month}") == ("date", "slug")
    assert speedups._url_fields("{}/x") is None and speedups._url_fields("{slug") is None


def _date_texts() -> list[str]:
    chance = random.Random(5)
    texts = ["2026-03-05", "2026-03-05 10:00", "2026-03-05T10:00:07", "2024-02-29", "2023-02-29", "2026-13-01",
             "2026-00-10", "2026-04-31", "2026-03-05 24:00", "2026-03-05 23:59:60", "2026-03-05 9:00", "0000-01-01",
             "2026-03-05  10:00", "2026-03-05 10:00+01:00", "2026-03-05T10:00:07Z", "2026-03-05 10:00:00.5",
             "5 marzo 2026", "2026/03/05", "20260305", "ieri", "", " 2026-03-05", "2026-03-05 10", "2026-3-5"]
    for _ in range(400):
        year, month, day = chance.choice(["1999", "2026", "2400", "0001"]), chance.randint(0, 13), chance.randint(0, 32)
        text = f"{year}-{month:02d}-{day:02d}"
        if chance.random() < 0.6:
            text += chance.choice([" ", "T"]) + f"{chance.randint(0, 25):02d}:{chance.randint(0, 61):02d}"
            if chance.random() < 0.5:
                text += f":{chance.randint(0, 61):02d}"
        texts.append(text)
    return texts


def test_an_iso_date_read_without_dateutil_is_the_date_pelican_reads():
    for text in _date_texts():
        try:
            expected = speedups._original_get_date(text)
        except ValueError as error:
            expected = error
        try:
            found = speedups.get_date(text)
        except ValueError as error:
            found = error
        assert type(found) is type(expected), text
        if isinstance(expected, ValueError):
            assert str(found) == str(expected), text
        else:
            assert found == expected and found.tzinfo == expected.tzinfo, text
