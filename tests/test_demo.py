"""The demo shop: it builds, every page is valid and linked, heads are unique, the theme is accessible."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, html_pages, parse, require_validator

from core import checks

POST_FILES = sorted((ROOT / "content" / "posts").glob("*.md"))


def test_demo_has_the_content_of_a_real_shop(demo_output):
    italian_posts = [p for p in POST_FILES if "Lang: en" not in p.read_text(encoding="utf-8")]
    assert len(italian_posts) >= 8
    for slug in ("chi-siamo", "spedizioni-e-resi", "privacy", "cookie", "termini-e-condizioni", "contatti"):
        page = parse(demo_output / slug / "index.html")
        assert page.h1.get_text(strip=True), slug
    home = parse(demo_output / "index.html")
    assert len(home.select("main .card")) >= 3
    blog_pages = sorted(demo_output.glob("blog/pagina/*/index.html"))
    assert blog_pages, "the blog listing is paginated"
    assert (demo_output / "404.html").is_file()


def test_every_post_is_written_with_category_tags_and_image(demo_output):
    for path in POST_FILES:
        slug = re.search(r"^Slug: (.+)$", path.read_text(encoding="utf-8"), re.M).group(1)
        lang = re.search(r"^Lang: (.+)$", path.read_text(encoding="utf-8"), re.M).group(1)
        page = demo_output / ("" if lang == "it" else f"{lang}/") / "blog" / slug / "index.html"
        soup = parse(page)
        assert soup.select_one(".post-meta a[href*='/blog/categoria/']"), path.name
        assert soup.select(".tags a[rel=tag]"), path.name
        lead = soup.select_one("img.lead-image")
        assert lead and lead["alt"].strip() and lead.get("width") and lead.get("height"), path.name


def test_no_broken_internal_links_or_assets(demo_output, demo_production):
    assert checks.broken_links(demo_output) == []
    assert checks.broken_links(demo_production, "https://www.cordeelegni.example") == []


def test_titles_and_descriptions_are_unique(demo_output):
    assert checks.duplicate_heads(demo_output) == []


@pytest.mark.slow
def test_every_page_passes_the_w3c_validator(demo_production):
    require_validator()
    assert checks.invalid_html(demo_production) == []


def test_pages_are_accessible_by_structure(demo_output):
    for path in html_pages(demo_output):
        soup = parse(path)
        name = path.relative_to(demo_output)
        assert soup.html.get("lang") in ("it", "en"), name
        assert len(soup.find_all("h1")) == 1, name
        assert soup.find("main", id="main"), name
        skip = soup.find("a", class_="skip-link")
        assert skip and skip["href"] == "#main", name
        assert soup.find("header") and soup.find("footer"), name
        for nav in soup.find_all("nav"):
            assert nav.get("aria-label"), f"{name}: unlabelled nav"
        for img in soup.find_all("img"):
            # the logo beside the shop's name; the cart's row pattern, whose photo sits beside the product's link
            decorative = "brand" in (img.parent.get("class") or []) or img.find_parent("template") is not None
            label = img.find_parent("label")  # a gallery's thumbnail: its label's text names it ("Foto 2 di 3")
            decorative = decorative or bool(label and label.get_text(strip=True))
            assert img.has_attr("alt") and (decorative or img["alt"].strip()), f"{name}: {img}"
        assert soup.find("meta", attrs={"name": "viewport"}), name


def test_footer_shows_business_name_address_and_vat(demo_output):
    footer = parse(demo_output / "index.html").find("footer", class_="site-footer")
    text = " ".join(footer.get_text(" ").split())
    assert "Corde & Legni S.r.l." in text
    assert "Via del Pratello 41" in text and "40122 Bologna" in text
    assert "Partita IVA IT03947120378" in text
    linked = {a["href"] for a in footer.find_all("a")}
    for slug in ("privacy", "cookie", "termini-e-condizioni", "spedizioni-e-resi"):
        assert f"/{slug}/" in linked


def test_production_pages_have_absolute_canonical_urls(demo_production):
    for path in html_pages(demo_production):
        soup = parse(path)
        canonical = soup.find("link", rel="canonical")
        expected = "https://www.cordeelegni.example" + checks.page_url(demo_production, path)
        assert canonical and canonical["href"] == expected, path


def test_development_build_has_no_canonical_and_root_relative_links(demo_output):
    soup = parse(demo_output / "index.html")
    assert soup.find("link", rel="canonical") is None
    assert soup.find("link", rel="stylesheet")["href"] == "/theme/css/main.css"


def test_paginated_listings_are_noindex_and_linked(demo_output):
    first = parse(demo_output / "blog" / "index.html")
    second = parse(demo_output / "blog" / "pagina" / "2" / "index.html")
    assert first.find("a", rel="next")["href"] == "/blog/pagina/2/"
    assert second.find("a", rel="prev")["href"] == "/blog/"
    assert second.find("meta", attrs={"name": "robots"})["content"] == "noindex,follow"
    assert first.find("meta", attrs={"name": "robots"}) is None
    assert "Pagina 2 di" in second.title.get_text()


def test_italian_dates_and_ui(demo_output):
    soup = parse(demo_output / "blog" / "comprare-chitarra-usata" / "index.html")
    assert soup.find("a", class_="skip-link").get_text() == "Vai al contenuto"
    published = soup.select_one(".post-meta time")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", published["datetime"])
    assert re.fullmatch(r"\d{1,2} (gennaio|febbraio|marzo|aprile|maggio|giugno|luglio|agosto|settembre|"
                        r"ottobre|novembre|dicembre) \d{4}", published.get_text())


def test_translations_link_to_each_other(demo_output):
    italian = parse(demo_output / "blog" / "comprare-chitarra-usata" / "index.html")
    english = parse(demo_output / "en" / "blog" / "comprare-chitarra-usata" / "index.html")
    assert english.html["lang"] == "en"
    assert italian.find("link", rel="alternate", hreflang="en")["href"] == "/en/blog/comprare-chitarra-usata/"
    assert english.find("link", rel="alternate", hreflang="it")["href"] == "/blog/comprare-chitarra-usata/"
    assert italian.select_one(".translations a[hreflang=en]").get_text() == "English"
    # An English post gets the English UI even on an Italian site.
    assert english.find("a", class_="skip-link").get_text() == "Skip to content"


def test_only_what_the_page_opens_on_loads_first_and_related_cards_load_lazily(demo_output):
    """A post's or a product's related cards sit far below its first view: none competes with its own image."""
    pages = sorted((demo_output / "blog").glob("*/index.html")) + sorted((demo_output / "prodotti").glob("*/index.html"))
    related_seen = 0
    for path in pages:
        soup = parse(path)
        for section in soup.select("section[aria-labelledby^=related-]"):
            images = section.select("img")
            related_seen += len(images)
            assert images and all(img.get("loading") == "lazy" and not img.get("fetchpriority") for img in images), path
        assert len(soup.select("img[fetchpriority=high]")) <= 1, path
    assert related_seen > 20
    catalogue = parse(demo_output / "prodotti" / "index.html").select(".cards img")
    assert [img.get("fetchpriority") for img in catalogue[:3]] == ["high", "high", None]  # a listing's first row
