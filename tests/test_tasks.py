"""The invoke tasks a writer uses: new-post, new-product, and a build that never loses the last good site."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest
from conftest import ROOT, parse, post, run_build, write_content
from shop_fixtures import PNG
from invoke import Context
from invoke.exceptions import Exit

import tasks
from core.build import build_site, remove_stale_staging
from core.scaffold import ScaffoldError
from shop import frontmatter, parse as shop_parse
from shop import scaffold as shop_scaffold


@pytest.fixture
def content_dir(tmp_path, monkeypatch):
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.setattr(tasks, "CONTENT", content)
    monkeypatch.setattr(tasks, "ROOT", tmp_path)
    return content


def test_new_post_writes_a_complete_draft_that_builds(content_dir, tmp_path):
    tasks.new_post(Context(), "Accordare un violino & altre storie")
    written = content_dir / "posts" / "accordare-un-violino-altre-storie.md"
    text = written.read_text(encoding="utf-8")
    for field in ("Title:", "Slug:", "Date:", "Category:", "Tags:", "Summary:", "Lang: it", "Uid:", "Status: draft"):
        assert field in text
    (content_dir / "pages").mkdir()
    (content_dir / "pages" / "chi-siamo.md").write_text("Title: Chi siamo\nSlug: chi-siamo\n\nNoi.\n")
    output = run_build(content_dir, tmp_path / "output")
    draft = parse(output / "bozze" / "accordare-un-violino-altre-storie" / "index.html")
    assert draft.h1.get_text() == "Accordare un violino & altre storie"
    assert not (output / "blog" / "accordare-un-violino-altre-storie").exists()


def test_new_post_refuses_to_overwrite(content_dir):
    tasks.new_post(Context(), "Doppio")
    before = (content_dir / "posts" / "doppio.md").read_text(encoding="utf-8")
    with pytest.raises(Exit, match="already exists"):
        tasks.new_post(Context(), "Doppio")
    assert (content_dir / "posts" / "doppio.md").read_text(encoding="utf-8") == before


def test_new_product_writes_a_complete_file_that_builds_once_published(content_dir, tmp_path):
    tasks.new_product(Context(), "Chitarra acustica Yamaha FG", price="249.00")
    path = content_dir / "products" / "chitarra-acustica-yamaha-fg.md"
    text = path.read_text(encoding="utf-8")
    for field in ("title:", "sku:", "price: \"249.00\"", "currency: EUR", "availability:", "condition:",
                  "images:", "alt:", "uid:", "# sale:", "# variants:"):
        assert field in text
    write_content(content_dir, {"images/products/chitarra-acustica-yamaha-fg.jpg": PNG})
    path.write_text(text.replace("status: draft\n", ""), encoding="utf-8")
    output = run_build(content_dir, tmp_path / "output")
    page = parse(output / "prodotti" / "chitarra-acustica-yamaha-fg" / "index.html")
    assert page.h1.get_text() == "Chitarra acustica Yamaha FG"
    assert page.select_one(".amount")["data-price"] == "249.00"
    with pytest.raises(Exit, match="Price"):
        tasks.new_product(Context(), "Altro", price="12,50")


def test_failed_build_keeps_the_last_good_output(tmp_path):
    content = tmp_path / "content"
    write_content(content, {"posts/a.md": post(title="Versione buona")})
    output = tmp_path / "site"
    (tmp_path / ".site-building-left-by-a-killed-build").mkdir()
    assert build_site(ROOT, ROOT / "pelicanconf.py", output, content)
    write_content(content, {"posts/a.md": post(title="Versione rotta", image="images/manca.jpg", image_alt="x")})
    assert not build_site(ROOT, ROOT / "pelicanconf.py", output, content)
    assert parse(output / "blog" / "una-prova" / "index.html").h1.get_text() == "Versione buona"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site-")] == []


def test_only_staging_folders_of_builds_that_stopped_are_removed(tmp_path):
    output = tmp_path / "site"
    stale = [tmp_path / ".site-building-abc123", tmp_path / ".site-building-999999999-abc123"]
    running = tmp_path / f".site-building-{os.getpid()}-abc123"
    other = tmp_path / ".other-building-abc123"
    for folder in (*stale, running, other):
        folder.mkdir()
    assert sorted(remove_stale_staging(output)) == sorted(stale)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, other.name])


SWISS_SHOP = {"SHOP_CURRENCY": "CHF", "SHOP_SHIPPING_CLASSES": {"standard": {"rate": "8.50", "transit_days": [1, 2]}},
              "BUSINESS_EMAIL": "ciao@negozio.example"}


def parsed(text: str, settings: dict, **fields):
    shop = shop_scaffold.shop_settings(settings)
    values, _ = frontmatter.split(text)
    values.update(fields)
    return shop_parse.product(values, default_currency=shop.currency, today=dt.date(2026, 11, 1),
                              image_exists=lambda src: True, shipping_classes=shop.shipping_classes,
                              default_shipping_class=shop.default_shipping_class)


def test_scaffolded_product_fits_the_shop_it_is_written_for():
    text = shop_scaffold.product_file("Metronomo: \"Wittner\" 1", "35.00", SWISS_SHOP)
    product = parsed(text, SWISS_SHOP)
    assert product.title == 'Metronomo: "Wittner" 1'
    assert (product.offer.price, product.offer.currency) == (Decimal("35.00"), "CHF")
    assert product.shipping_class == "standard"
    assert "currency: CHF\n" in text and "strumenti" not in text
    assert "# one of SHOP_SHIPPING_CLASSES: standard\n" in text


def test_scaffolded_product_at_zero_is_a_placeholder_the_build_refuses_once_published():
    text = shop_scaffold.product_file("Leggio", "0.00", SWISS_SHOP, categories=["Accessori", "Corde"])
    assert 'price: "0.00"' in text and "write the price before publishing" in text
    assert "category: Prodotti" in text and "Accessori, Corde" in text
    assert frontmatter.split(text)[0]["category"] == "Prodotti"
    assert parsed(text, SWISS_SHOP, price="12.00").offer.currency == "CHF"
    with pytest.raises(ValueError, match="price"):
        parsed(text, SWISS_SHOP)


def test_scaffolded_product_names_yaml_would_misread_stay_text():
    text = shop_scaffold.product_file("Null", "10.00", SWISS_SHOP)
    product = parsed(text, SWISS_SHOP)
    assert (product.slug, product.sku) == ("null", "NULL")
    with pytest.raises(ScaffoldError, match="SHOP_DEFAULT_SHIPPING_CLASS"):
        shop_scaffold.product_file("Leggio", "10.00", {**SWISS_SHOP, "SHOP_DEFAULT_SHIPPING_CLASS": "strumenti"})


def test_the_categories_offered_are_those_of_published_products(tmp_path):
    write_content(tmp_path, {
        "products/a.md": "---\ncategory: Violini\n---\n",
        "products/b.md": "---\ncategory: Bozze\nstatus: draft\n---\n",
        "products/c.md": "---\ncategory: accessori\n---\n",
        "products/rotto.md": "---\ncategory: [\n---\n",
    })
    assert shop_scaffold.existing_categories(tmp_path, ["products"]) == ["accessori", "Violini"]
