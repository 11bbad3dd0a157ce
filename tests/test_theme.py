"""The theme on tiny fixture sites: escaping, languages, content errors."""

from __future__ import annotations

import pytest
from conftest import ROOT, BuildFailed, html_pages, jsonld, nodes, parse, post, require_validator, scripts

from shop_fixtures import tiny_png

from core import checks
from core.settings import SiteConfigurationError, SiteSettings, vat_id_is_valid

HOSTILE_TITLE = 'Chitarra "vintage" <b>bold</b> & </script><script>alert(1)</script> 🎸'
HOSTILE_SUMMARY = 'Prezzo < 200 € & "quasi nuova" </script><!-- 🎸 -->'
HOSTILE_CATEGORY = 'Guide "&" <prove>'


@pytest.fixture
def hostile_site(build_site):
    return build_site({
        "posts/ostile.md": post(title=HOSTILE_TITLE, slug="ostile", summary=HOSTILE_SUMMARY,
                                category=HOSTILE_CATEGORY, tags='ciao </script>, "virgolette"'),
    }, settings_file="publishconf.py")


def test_hostile_title_and_summary_render_as_text(hostile_site):
    for path in html_pages(hostile_site):
        soup = parse(path)
        # The theme runs no script at all: any <script> but the JSON-LD data block came from the content.
        assert scripts(soup) == [], path
        for block in soup.find_all("script", type="application/ld+json"):
            assert "</" not in block.string and "<!--" not in block.string
        assert soup.find("b") is None, path
    page = parse(hostile_site / "blog" / "ostile" / "index.html")
    assert page.h1.get_text() == HOSTILE_TITLE
    assert page.title.get_text() == f"{HOSTILE_TITLE} · Corde & Legni"
    assert page.find("meta", attrs={"name": "description"})["content"] == HOSTILE_SUMMARY
    assert page.find("meta", property="og:title")["content"] == HOSTILE_TITLE
    assert page.find("meta", property="og:description")["content"] == HOSTILE_SUMMARY
    posting = nodes(jsonld(page), "BlogPosting")[0]
    assert posting["headline"] == HOSTILE_TITLE and posting["description"] == HOSTILE_SUMMARY
    assert posting["articleSection"] == HOSTILE_CATEGORY
    listing = parse(hostile_site / "blog" / "index.html")
    assert listing.select_one(".card-title a").get_text() == HOSTILE_TITLE
    assert listing.select_one(".card-text").get_text() == HOSTILE_SUMMARY
    category_links = page.select(".post-meta a[href*='/categoria/']")
    assert category_links[0].get_text() == HOSTILE_CATEGORY


@pytest.mark.slow
def test_hostile_text_gives_valid_html(hostile_site):
    require_validator()
    assert checks.invalid_html(hostile_site) == []


def test_english_ui_switch(build_site):
    output = build_site({"posts/a.md": post(lang="en")}, DEFAULT_LANG="en")
    soup = parse(output / "blog" / "una-prova" / "index.html")
    assert soup.html["lang"] == "en"
    assert soup.find("a", class_="skip-link").get_text() == "Skip to content"
    assert soup.select_one(".post-meta time").get_text() == "March 1, 2026"
    assert "VAT number" in soup.find("footer", class_="site-footer").get_text()
    blog = parse(output / "blog" / "index.html")
    assert blog.h1.get_text() == "Blog" and blog.find("nav", attrs={"aria-label": "Main"})


def test_italian_is_the_default_ui(build_site):
    output = build_site({"posts/a.md": post()})
    soup = parse(output / "blog" / "una-prova" / "index.html")
    assert soup.html["lang"] == "it"
    assert soup.select_one(".post-meta time").get_text() == "1 marzo 2026"
    assert soup.find("nav", attrs={"aria-label": "Principale"})


def test_description_falls_back_to_the_body_trimmed_on_a_word(build_site):
    body = "Parola " * 60
    text = post(body=body).replace("Summary: Un riassunto di prova.\n", "")
    output = build_site({"posts/a.md": text})
    description = parse(output / "blog" / "una-prova" / "index.html").find("meta", attrs={"name": "description"})
    assert description["content"].endswith("Parola…")
    assert 140 <= len(description["content"]) <= 155


def test_missing_lead_image_names_the_file_and_the_field(build_site):
    with pytest.raises(BuildFailed) as failure:
        build_site({"posts/a.md": post(image="images/manca.jpg", image_alt="Una foto")})
    message = "\n".join(failure.value.messages)
    assert "a.md" in message and "'image'" in message and "images/manca.jpg" in message


def test_lead_image_without_alt_text_is_an_error(build_site, tmp_path):
    png = tiny_png(16, 8)
    with pytest.raises(BuildFailed) as failure:
        build_site({"posts/a.md": post(image="images/foto.png"), "images/foto.png": png})
    assert "'image_alt'" in "\n".join(failure.value.messages)


def test_lead_image_gets_its_size(build_site):
    png = tiny_png(16, 8)
    output = build_site({"posts/a.md": post(image="images/foto.png", image_alt="Una foto"),
                         "images/foto.png": png})
    image = parse(output / "blog" / "una-prova" / "index.html").select_one("img.lead-image")
    assert (image["width"], image["height"], image["alt"]) == ("16", "8", "Una foto")
    assert image["src"] == "/images/foto.png" and (output / "images" / "foto.png").is_file()


def test_vat_numbers_are_checked():
    assert vat_id_is_valid("IT03947120378")
    assert not vat_id_is_valid("IT03947120373")
    assert not vat_id_is_valid("03947120378")
    settings = {"DEFAULT_LANG": "it", "SITE_LANGUAGES": ("it", "en"), "BUSINESS_VAT_ID": "IT12345678901"}
    with pytest.raises(SiteConfigurationError, match="BUSINESS_VAT_ID"):
        SiteSettings.from_settings(settings)


def test_a_language_without_catalogue_is_a_configuration_error():
    with pytest.raises(SiteConfigurationError, match="DEFAULT_LANG"):
        SiteSettings.from_settings({"DEFAULT_LANG": "fr", "SITE_LANGUAGES": ("it", "en")})


def test_checks_find_broken_links_and_duplicates(tmp_path):
    page = ('<!doctype html><html lang="it"><head><title>Uguale</title>'
            '<meta name="description" content="Uguale"></head><body>{}</body></html>')
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text(page.format('<a href="/b/">b</a><a href="/a/#manca">x</a>'))
    (tmp_path / "index.html").write_text(page.format('<img src="/img/no.png" alt="">'))
    problems = checks.broken_links(tmp_path)
    assert any("/b/" in p and "no such file" in p for p in problems)
    assert any("manca" in p for p in problems)
    assert any("/img/no.png" in p for p in problems)
    duplicates = checks.duplicate_heads(tmp_path)
    assert any("title 'Uguale'" in p for p in duplicates)


def test_content_images_get_webp_copies_at_several_widths(build_site):
    from PIL import Image

    photo = (ROOT / "content" / "images" / "posts" / "violino-ritrovato.jpg").read_bytes()
    output = build_site({"posts/a.md": post(image="images/foto.jpg", image_alt="Un violino"),
                         "images/foto.jpg": photo})
    source = parse(output / "blog" / "una-prova" / "index.html").select_one("picture source[type='image/webp']")
    candidates = [c.split() for c in source["srcset"].split(", ")]
    assert [int(w.rstrip("w")) for _, w in candidates] == [240, 480, 800, 1200]
    for url, width in candidates:
        with Image.open(output / url.lstrip("/")) as image:
            assert image.format == "WEBP" and image.width == int(width.rstrip("w"))
    assert checks.broken_links(output) == []
