"""Variants at their own URLs with a picker, and the product gallery: the demo's built pages, read as data and as a
visitor's browser shows them (with and without JavaScript)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import etree

from conftest import jsonld, nodes, parse
from servers import chromium, serving

GUITAR = "prodotti/chitarra-elettrica-squier-stratocaster/"
GUITAR_SKUS = ["CL-SQS-RED", "CL-SQS-BLK"]
G = "{http://base.google.com/ns/1.0}"


def variant_of(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query).get("variante", [])


def test_each_variant_offer_has_its_own_url_in_json_ld_feed_and_catalogue_file(demo_production):
    page = parse(demo_production / GUITAR / "index.html")
    canonical = page.select_one("link[rel=canonical]")["href"]
    assert "?" not in canonical and canonical.endswith("/" + GUITAR)
    group = nodes(jsonld(page), "ProductGroup")[0]
    offers = {variant["sku"]: variant["offers"]["url"] for variant in group["hasVariant"]}
    assert list(offers) == GUITAR_SKUS
    for sku, url in offers.items():
        assert url.split("?")[0] == canonical and variant_of(url) == [sku]
    feed = etree.parse(str(demo_production / "feeds" / "merchant.xml"))
    links = {item.findtext(f"{G}id"): item.findtext("link") for item in feed.iter("item")}
    assert {sku: links[sku] for sku in GUITAR_SKUS} == offers
    simple = [item for item in feed.iter("item") if item.findtext(f"{G}item_group_id") is None]
    assert simple and all("?" not in item.findtext("link") for item in simple)
    catalogue = json.loads((demo_production / "shop.json").read_text(encoding="utf-8"))
    record = next(p for p in catalogue["products"] if p["url"] == canonical)
    assert {offer["sku"]: offer["url"] for offer in record["offers"]} == offers


def test_the_sitemap_lists_canonical_urls_only(demo_production):
    sitemap = etree.parse(str(demo_production / "sitemap.xml"))
    locs = [loc.text for loc in sitemap.iter("{http://www.sitemaps.org/schemas/sitemap/0.9}loc")]
    assert any(loc.endswith("/" + GUITAR) for loc in locs)
    assert not [loc for loc in locs if "?" in loc]


def test_the_picker_is_one_radio_per_variant_with_the_first_purchasable_checked(demo_output):
    page = parse(demo_output / GUITAR / "index.html")
    picker = page.select_one("fieldset.variant-picker")
    assert picker.legend.get_text(strip=True) == "Scegli la versione"
    radios = picker.select("input[type=radio]")
    assert [r["value"] for r in radios] == GUITAR_SKUS
    assert {r["name"] for r in radios} == {"variante"}
    assert [r.has_attr("checked") for r in radios] == [True, False]
    for radio in radios:
        label = picker.select_one(f"label[for={radio['id']}]")
        details = radio.find_next_sibling(class_="variant-details")
        assert label and details and details.find_parent(class_="variant")["data-sku"] == radio["value"]
        assert details.select_one(".price .amount")["data-sku"] == radio["value"]
        assert details.select_one(".buy-button")["data-sku"] == radio["value"]
    # the script that reads ?variante= loads only where there is a choice to make
    assert page.select_one("script[src$='/theme/js/variant.js']")
    assert not parse(demo_output / "prodotti/violino-4-4-ricondizionato/index.html").select_one(
        "script[src$='/theme/js/variant.js']")


def test_a_variant_url_preselects_it_and_choosing_another_writes_its_url(demo_output):
    page = parse(demo_output / GUITAR / "index.html")
    prices = {div["data-sku"]: div.select_one(".price .amount").get_text(strip=True)
              for div in page.select(".variant[data-sku]")}
    with serving(demo_output) as origin, chromium() as browser:
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.goto(f"{origin}/{GUITAR}?variante=CL-SQS-BLK")
        assert tab.locator("#variant-CL-SQS-BLK").is_checked()
        shown = tab.locator(".variant-details:visible")
        assert shown.count() == 1
        assert shown.locator(".amount").inner_text() == prices["CL-SQS-BLK"]
        assert shown.locator(".buy-button").get_attribute("data-sku") == "CL-SQS-BLK"
        tab.locator("label[for=variant-CL-SQS-RED]").click()
        assert tab.locator(".variant-details:visible .amount").inner_text() == prices["CL-SQS-RED"]
        assert variant_of(tab.url) == ["CL-SQS-RED"]


def test_without_javascript_the_default_variant_and_the_first_photo_show_and_the_others_follow_clicks(demo_output):
    with serving(demo_output) as origin, chromium() as browser:
        context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
        tab = context.new_page()
        tab.goto(f"{origin}/{GUITAR}?variante=CL-SQS-BLK")
        # no script: the page's own default (the first that can be bought), whatever the URL says
        assert tab.locator(".variant-details:visible .buy-button").get_attribute("data-sku") == "CL-SQS-RED"
        tab.locator("label[for=variant-CL-SQS-BLK]").click()
        assert tab.locator(".variant-details:visible .buy-button").get_attribute("data-sku") == "CL-SQS-BLK"
        photos = tab.locator(".gallery-item")
        assert photos.count() == 2
        assert [photos.nth(i).is_visible() for i in range(2)] == [True, False]
        tab.locator("label[for=foto-2]").click()
        assert [photos.nth(i).is_visible() for i in range(2)] == [False, True]
        assert "dettaglio" in photos.nth(1).locator("img").get_attribute("src")
        context.close()


@pytest.mark.parametrize("slug", ["chitarra-elettrica-squier-stratocaster", "violino-4-4-ricondizionato",
                                  "pianoforte-digitale-yamaha-p45", "chitarra-acustica-yamaha-fg820"])
def test_products_with_several_photos_have_a_labelled_thumbnail_each(demo_output, slug):
    page = parse(demo_output / "prodotti" / slug / "index.html")
    gallery = page.select_one(".product-gallery.has-thumbs")
    items, thumbs = gallery.select(".gallery-item img"), gallery.select("label.gallery-thumb")
    assert len(items) == len(thumbs) >= 2
    assert all(img["alt"].strip() for img in items)
    assert len({img["alt"] for img in items}) == len(items)
    assert [t.select_one(".visually-hidden").get_text() for t in thumbs] == [
        f"Foto {n} di {len(items)}" for n in range(1, len(items) + 1)]
    assert all(t.img["alt"] == "" for t in thumbs)  # named by its text, the photo itself is described once
    assert sum(1 for img in items if img.get("fetchpriority") == "high") == 1
    assert all(img.get("loading") == "lazy" for img in items[1:])
