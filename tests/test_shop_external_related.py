"""Two optional product fields an import writes: `external` (sold elsewhere) and `related` (chosen first)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import BuildFailed, jsonld, nodes, parse
from lxml import etree
from shop_fixtures import catalogue, product_fields, product_file

from shop import parse as shop_parse
from shop.model import ProductError

MIXER = {"url": "https://www.example.com/mixer-16", "button": "Compra dal produttore"}


def parsed(**fields):
    return shop_parse.product(product_fields(**fields), default_currency="EUR", today=dt.date(2026, 11, 22),
                              image_exists=lambda src: True)


@pytest.mark.parametrize("external, field", [
    ("https://x.example/", "external"),
    ({"url": "ftp://x.example/", "button": "Compra"}, "external.url"),
    ({"url": "https://x.example/"}, "external.button"),
])
def test_a_bad_external_field_is_named(external, field):
    with pytest.raises(ProductError) as error:
        parsed(external=external)
    assert error.value.field == field


def test_related_is_a_list_of_references_each_once():
    assert parsed(related=["cavo-jack", "EB-1", "cavo-jack"]).related == ("cavo-jack", "EB-1")
    assert parsed().related == () and parsed().external is None
    with pytest.raises(ProductError):
        parsed(related=[{"slug": "x"}])


def test_an_external_product_links_to_its_seller_and_is_sold_nowhere_here(build_site):
    content = {**catalogue(), "products/mixer.md": product_file(
        title="Mixer digitale", slug="mixer", sku="MIX-1", price="1249.00", category="Audio", tags=["audio"],
        summary="Un mixer venduto dal produttore.", external=MIXER)}
    output = build_site(content, SHOP_TODAY="2026-11-22", SHOP_CART=True)
    page = parse(output / "prodotti" / "mixer" / "index.html")
    buttons = page.select(".product-info .buy-button")
    assert len(buttons) == 1 and buttons[0]["href"] == MIXER["url"]
    assert set(buttons[0]["rel"]) == {"nofollow", "noopener"}
    assert buttons[0].get_text().startswith("Compra dal produttore")
    assert not page.select("[data-cart-add]") and "mailto:" not in str(buttons[0])
    product = nodes(jsonld(page), "Product")
    assert product and product[0]["sku"] == "MIX-1" and product[0]["offers"]["price"] == "1249.00"
    merchant = next(output.rglob("merchant.xml"))
    ids = [item.text for item in etree.parse(str(merchant)).iter("{http://base.google.com/ns/1.0}id")]
    assert "MIX-1" not in ids and "T-1" in ids
    cart = json.loads((output / "cart.json").read_text(encoding="utf-8"))
    assert "MIX-1" not in cart["offers"] and "T-1" in cart["offers"]


def test_related_products_named_by_the_file_come_first(build_site):
    content = catalogue()
    content["products/piano.md"] = product_file(
        title="Pianoforte esaurito", slug="piano", sku="P-1", price="299.00", category="Pianoforti",
        availability="out_of_stock", tags=["pianoforte"], summary="Un pianoforte digitale esaurito.",
        related=["basso", "EB-1"])
    output = build_site(content, SHOP_TODAY="2026-11-22")
    page = parse(output / "prodotti" / "piano" / "index.html")
    shown = [a.get_text() for a in page.select("#related-products ~ .products .card-title a")]
    assert shown[:2] == ["Basso in offerta", "Guida in e-book"]


def test_a_related_reference_to_no_product_is_an_error_naming_the_file(build_site):
    content = catalogue()
    ebook = content["products/ebook.md"]
    content["products/ebook.md"] = ebook.replace("digital: true", "digital: true\nrelated: [nessuno]")
    with pytest.raises(BuildFailed) as failed:
        build_site(content, SHOP_TODAY="2026-11-22")
    assert any("ebook.md" in message and "field 'related'" in message for message in failed.value.messages)
