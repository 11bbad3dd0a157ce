"""Checkout providers, and the proof that every place a price appears carries the same amount."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from babel.numbers import parse_decimal
from conftest import BuildFailed, html_pages, parse, scripts
from shop_fixtures import catalogue, product_file

from shop.settings import ShopConfigurationError

TODAY = "2026-11-22"
EXPECTED = {  # sku: the amount a shopper pays on TODAY
    "T-1": Decimal("249.00"), "CAB-3": Decimal("12.00"), "CAB-6": Decimal("16.50"),
    "B-1": Decimal("1189.00"), "P-1": Decimal("299.00"), "EB-1": Decimal("9.00"),
}


def visible_prices(output) -> dict:
    """sku -> amount as shown to the visitor on its product page (parsed from the Italian text)."""
    shown = {}
    for path in (output / "prodotti").glob("*/index.html"):
        page = parse(path)
        for amount in page.select(".product-info .amount"):
            text = amount.get_text().replace("€", "").replace("\xa0", "").strip()
            shown[amount["data-sku"]] = parse_decimal(text, locale="it")
            assert Decimal(amount["data-price"]) == shown[amount["data-sku"]]
    return shown


def button_prices(output) -> dict:
    prices = {}
    for path in (output / "prodotti").glob("*/index.html"):
        for button in parse(path).select(".buy-button"):
            prices[button["data-sku"]] = Decimal(button["data-price"])
            assert button["data-currency"] == "EUR"
            if "snipcart-add-item" in button["class"]:
                assert button["data-item-price"] == button["data-price"]
                assert button["data-item-id"] == button["data-sku"]
    return prices


def test_one_price_source_page_button_and_snipcart_json_agree(build_site):
    output = build_site(catalogue(), SHOP_TODAY=TODAY, SHOP_CHECKOUT="snipcart", SHOP_SNIPCART_API_KEY="pk_test")
    assert visible_prices(output) == EXPECTED
    buttons = button_prices(output)
    assert buttons == {sku: amount for sku, amount in EXPECTED.items() if sku != "P-1"}  # P-1 is sold out
    crawler = json.loads((output / "snipcart-products.json").read_text(encoding="utf-8"))
    assert {entry["id"]: Decimal(str(entry["price"])) for entry in crawler} == EXPECTED
    for entry in crawler:
        page = parse(output / urlparse(entry["url"]).path.lstrip("/") / "index.html")
        assert page.select_one(f"[data-sku='{entry['id']}']"), entry


def test_email_checkout_writes_an_order_link_with_product_variant_and_price(build_site):
    output = build_site(catalogue(), SHOP_TODAY=TODAY)
    page = parse(output / "prodotti" / "cavo-jack" / "index.html")
    link = page.select_one(".variant[data-sku=CAB-6] a.buy-button")
    mail = urlparse(link["href"])
    assert mail.scheme == "mailto" and mail.path == "ordini@cordeelegni.example"
    query = parse_qs(mail.query)
    assert query["subject"] == ["Ordine: Cavo jack – 6 m"]
    assert "CAB-6" in query["body"][0] and "16,50\xa0€" in query["body"][0]
    assert not (output / "snipcart-products.json").exists()
    # The picker reads a variant's URL and the search pages run the search: the order itself needs no script
    # (the cart's deferred badge, left out by scripts(), is tested in tests/test_cart.py).
    allowed = ("/theme/js/variant.js", "/theme/js/search.js")
    assert not any(s for p in html_pages(output) for s in scripts(parse(p)) if not s["src"].endswith(allowed))


def test_snipcart_buttons_are_in_the_html_and_its_script_loads_only_on_demand(build_site):
    output = build_site(catalogue(), SHOP_TODAY=TODAY, SHOP_CHECKOUT="snipcart", SHOP_SNIPCART_API_KEY="pk_test")
    page = parse(output / "prodotti" / "ebook" / "index.html")
    button = page.select_one("button.snipcart-add-item")
    assert button["data-item-url"] == "/prodotti/ebook/"
    assert button["data-item-name"] == "Guida in e-book"
    assert button["data-item-shippable"] == "false"
    assert page.select_one("noscript a")["href"].startswith("mailto:")
    sources = [s["src"] for s in scripts(page)]
    assert sources == ["/theme/js/snipcart-loader.js"]
    assert "cdn.snipcart.com" not in " ".join(sources), "Snipcart itself is loaded only on the first click"
    config = page.find(id="snipcart")
    assert config["data-api-key"] == "pk_test" and config.has_attr("hidden")
    assert scripts(parse(output / "index.html")) == []


@pytest.mark.parametrize("provider, link", [("stripe", "https://buy.stripe.com/test_1"),
                                            ("paypal", "https://www.paypal.com/ncp/payment/TEST1")])
def test_payment_link_providers_use_each_product_link(build_site, provider, link):
    content = {"images/p.png": catalogue()["images/p.png"],
               "products/a.md": product_file(checkout={provider: link}),
               "products/b.md": product_file(slug="b", sku="V", checkout={provider: link + "b"}, variants=[
                   {"sku": "V-1", "options": {"size": "S"}},
                   {"sku": "V-2", "options": {"size": "L"}, "checkout": {provider: link + "v2"}}])}
    output = build_site(content, SHOP_TODAY=TODAY, SHOP_CHECKOUT=provider)
    assert parse(output / "prodotti" / "chitarra-di-prova" / "index.html").select_one(".buy-button")["href"] == link
    variants = parse(output / "prodotti" / "b" / "index.html").select(".buy-button")
    assert [a["href"] for a in variants] == [link + "b", link + "v2"]


def test_payment_link_provider_without_a_link_names_file_and_field(build_site):
    with pytest.raises(BuildFailed) as failure:
        build_site({"images/p.png": catalogue()["images/p.png"], "products/a.md": product_file()},
                   SHOP_CHECKOUT="stripe")
    assert any("a.md" in m and "'checkout.stripe'" in m for m in failure.value.messages)


@pytest.mark.parametrize("settings, message", [
    ({"SHOP_CHECKOUT": "snipcart", "SHOP_SNIPCART_API_KEY": ""}, "SNIPCART_API_KEY"),
    ({"SHOP_CHECKOUT": "bitcoin"}, "SHOP_CHECKOUT"),
    ({"SHOP_CURRENCY": "EURO"}, "SHOP_CURRENCY"),
    ({"SHOP_ORDER_EMAIL": "", "BUSINESS_EMAIL": ""}, "SHOP_ORDER_EMAIL"),
])
def test_checkout_settings_are_validated_at_start(build_site, monkeypatch, settings, message):
    monkeypatch.delenv("SNIPCART_API_KEY", raising=False)
    with pytest.raises(ShopConfigurationError, match=message):
        build_site(catalogue(), **settings)


def test_variants_with_their_own_links_need_no_product_link(build_site):
    content = {"images/p.png": catalogue()["images/p.png"], "products/a.md": product_file(variants=[
        {"sku": "V-1", "options": {"size": "S"}, "checkout": {"stripe": "https://buy.stripe.com/s"}},
        {"sku": "V-2", "options": {"size": "L"}, "checkout": {"stripe": "https://buy.stripe.com/l"}}])}
    output = build_site(content, SHOP_TODAY=TODAY, SHOP_CHECKOUT="stripe")
    links = parse(output / "prodotti" / "chitarra-di-prova" / "index.html").select(".buy-button")
    assert [a["href"] for a in links] == ["https://buy.stripe.com/s", "https://buy.stripe.com/l"]
