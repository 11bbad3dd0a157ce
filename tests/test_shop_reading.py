"""The shop's files read the fast way give the data and the errors of the careful way."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml
from bs4 import BeautifulSoup
from conftest import ROOT

from shop import frontmatter
from shop.reading import demoted

DEMO_FILES = sorted(path for folder in ("products", "reviews", "lists")
                    for path in (ROOT / "content" / folder).glob("*.md"))


def fields_text(path) -> str:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    end = next(i for i, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "..."))
    return "".join(lines[1:end])


def typed(value):
    """The data with each value's type spelled out, so that 1 == 1.0 == True and a date == a string never pass."""
    if isinstance(value, dict):
        return {typed(k): typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    return (type(value).__name__, value)


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml")
def test_libyaml_reads_the_demo_files_as_the_python_loader_does():
    assert len(DEMO_FILES) >= 12
    for path in DEMO_FILES:
        text = fields_text(path)
        fast = yaml.load(text, Loader=frontmatter._FastLoader)
        careful = yaml.load(text, Loader=frontmatter._Loader)
        assert typed(fast) == typed(careful), path.name


@pytest.mark.skipif(not hasattr(yaml, "CSafeLoader"), reason="PyYAML without libyaml")
def test_libyaml_reads_dates_numbers_and_strings_as_the_python_loader_does():
    text = ("date: 2026-06-12\nwhen: 2026-06-12 10:30:00+02:00\nprice: 12.50\nstock: 7\nsku: '0012'\n"
            "code: 0012\nyes: yes\nname: \"Caffè – tostato\"\nempty:\nlist: [1, 'due', 3.0]\n")
    fast = frontmatter.load(text)
    assert typed(fast) == typed(yaml.load(text, Loader=frontmatter._Loader))
    assert fast["date"] == dt.date(2026, 6, 12) and fast["name"] == "Caffè – tostato"


@pytest.mark.parametrize("text, line, words", [
    ("---\ntitle: Uno\ndate: 2026-02-30\n---\n", 3, "field 'date'"),
    ("---\ntitle: a: b\n---\n", 2, "needs quotes"),
    ("---\ntags: [uno, due\nprice: 3\n---\n", 2, "close the bracket"),
])
def test_a_bad_field_is_still_explained_at_its_line(text, line, words):
    with pytest.raises(frontmatter.FrontMatterError) as failure:
        frontmatter.split(text)
    assert failure.value.line == line and words in str(failure.value)


def test_demoting_headings_keeps_the_rest_of_the_markup_and_gives_the_text_a_parse_would():
    html = ("<h2>Uno</h2><p>Testo &amp; <em>altro</em></p><h3 id=\"x\">Due</h3><h5>Tre</h5><h6>Sei</h6>"
            "<p><img alt=\"a > b\" src=\"b.webp\"><br>fine</p><!-- <h2>nota</h2> --><H4 class='y'>Quattro</H4>"
            "<script>var h = '<h2>';</script>")
    body, text = demoted(html)
    soup = BeautifulSoup(body, "html.parser")
    assert [h.name for h in soup.find_all(True) if h.name.startswith("h")] == ["h3", "h4", "h6", "h6", "h5"]
    assert body == ("<h3>Uno</h3><p>Testo &amp; <em>altro</em></p><h4 id=\"x\">Due</h4><h6>Tre</h6><h6>Sei</h6>"
                    "<p><img alt=\"a > b\" src=\"b.webp\"><br>fine</p><!-- <h2>nota</h2> --><h5 class='y'>Quattro</h5>"
                    "<script>var h = '<h2>';</script>")
    assert "<!-- <h2>nota</h2> -->" in body and "<img alt=\"a > b\" src=\"b.webp\"><br>" in body
    assert text.split() == ["Uno", "Testo", "&", "altro", "Due", "Tre", "Sei", "fine", "Quattro"]
    original = BeautifulSoup(html, "html.parser")
    for hidden in original.find_all("script"):
        hidden.decompose()
    assert text.split() == original.get_text(" ").split()


def test_the_featured_products_are_sorted_once_per_catalogue(monkeypatch):
    from types import SimpleNamespace

    from shop import catalog

    def item(name, featured, day):
        return SimpleNamespace(name=name, featured=featured, available=True,
                               date=dt.datetime(2026, 1, day, tzinfo=dt.timezone.utc))

    sorts = []
    monkeypatch.setattr(catalog, "sorted", lambda *a, **k: sorts.append(1) or sorted(*a, **k), raising=False)
    shop = catalog.Catalog(settings=SimpleNamespace(home_featured=2),
                           products=[item("a", False, 3), item("b", True, 1), item("c", False, 5)])
    pages = [[p.name for p in shop.featured] for _ in range(50)]
    assert pages == [["b", "c"]] * 50 and len(sorts) == 1
    shop.products = [item("d", False, 9), *shop.products]
    assert [p.name for p in shop.featured] == ["b", "d"] and len(sorts) == 2
