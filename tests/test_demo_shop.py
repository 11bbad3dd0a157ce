"""The demo shop's catalogue: what issue-level promises a visitor can see in it."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import parse_decimal
from conftest import ROOT, parse

from shop import frontmatter


def demo_products() -> dict:
    products = {}
    for path in sorted((ROOT / "content" / "products").glob("*.md")):
        fields, _ = frontmatter.split(path.read_text(encoding="utf-8"))
        products[fields["slug"]] = fields
    return products


def test_demo_catalogue_covers_every_kind_of_product(demo_output):
    products = demo_products()
    assert len(products) >= 12
    kinds = {
        "variants": [s for s, f in products.items() if f.get("variants")],
        "used": [s for s, f in products.items() if f["condition"] == "used"],
        "refurbished": [s for s, f in products.items() if f["condition"] == "refurbished"],
        "out of stock": [s for s, f in products.items() if f["availability"] == "out_of_stock"],
        "on sale with history": [s for s, f in products.items() if f.get("sale") and f.get("price_history")],
        "digital": [s for s, f in products.items() if f.get("digital")],
    }
    for kind, slugs in kinds.items():
        assert slugs, kind
        for slug in slugs:
            assert (demo_output / "prodotti" / slug / "index.html").is_file(), slug
    catalog = parse(demo_output / "prodotti" / "index.html")
    shown = {a["href"] for a in catalog.select(".product-card .card-title a")}
    for page in demo_output.glob("prodotti/pagina/*/index.html"):
        shown |= {a["href"] for a in parse(page).select(".product-card .card-title a")}
    assert shown == {f"/prodotti/{slug}/" for slug in products}


def test_demo_sale_shows_its_30_day_lowest_price(demo_output):
    on_sale = [s for s, f in demo_products().items() if f.get("sale")]
    page = parse(demo_output / "prodotti" / on_sale[0] / "index.html")
    assert page.select_one(".price del") and page.select_one(".price ins .amount")
    note = page.select_one(".price-note").get_text(" ", strip=True)
    assert "30 giorni" in note


def test_demo_posts_embed_product_cards_and_products_list_them(demo_output):
    embedding = 0
    for page in demo_output.glob("blog/*/index.html"):
        cards = parse(page).select(".prose .product-embed")
        embedding += bool(cards)
        for card in cards:
            product = parse(demo_output / card.a["href"].strip("/") / "index.html")
            mentions = {a["href"] for a in product.select("#mentioned-in ~ ul a")}
            assert "/" + page.parent.relative_to(demo_output).as_posix() + "/" in mentions
    assert embedding >= 3


def test_demo_keyword_list_is_filled(demo_output):
    lists = list(demo_output.glob("prodotti/selezioni/*/index.html"))
    assert lists
    page = parse(lists[0])
    assert len(page.select("ol.ranked .product-card")) >= 3
    for amount in page.select("ol.ranked .amount"):
        assert Decimal(amount["data-price"]) <= Decimal("50.00")
        text = amount.get_text().replace("€", "").replace("\xa0", "").strip()
        assert parse_decimal(text, locale="it") == Decimal(amount["data-price"])


def test_demo_pre_and_back_orders_say_when_they_ship_on_the_page_in_json_ld_and_in_the_merchant_feed(demo_production):
    import datetime as dt

    from babel.dates import format_date
    from conftest import jsonld, nodes
    from lxml import etree

    later = {slug: f for slug, f in demo_products().items() if f["availability"] in ("preorder", "backorder")}
    assert {f["availability"] for f in later.values()} == {"preorder", "backorder"}
    feed = etree.parse(str(demo_production / "feeds" / "merchant.xml"))
    g = "{http://base.google.com/ns/1.0}"
    dates = {item.findtext(f"{g}id"): item.findtext(f"{g}availability_date") for item in feed.iter("item")}
    for slug, fields in later.items():
        day = fields["available_from"]
        assert isinstance(day, dt.date)
        stamp = f"{day.isoformat()}T00:00+01:00"  # the first minute of the day in Rome (winter time)
        page = parse(demo_production / "prodotti" / slug / "index.html")
        shown = page.select_one(".availability").get_text(" ", strip=True)
        assert shown.endswith(f"spedizione dal {format_date(day, 'long', locale='it')}"), shown
        offers = nodes(jsonld(page), "Product")[0]["offers"]
        assert offers["availabilityStarts"] == stamp
        assert dates[fields["sku"]] == stamp
    assert all(dates[f["sku"]] is None for f in demo_products().values() if f["availability"] == "in_stock"
               and not f.get("variants"))


def test_every_price_on_a_product_page_states_vat_shipping_delivery_and_returns_as_its_json_ld(demo_production):
    import re

    from conftest import jsonld

    checked = set()
    for path in sorted((demo_production / "prodotti").glob("*/index.html")):
        page = parse(path)
        offers = {item["sku"]: item["offers"] for node in jsonld(page)["@graph"] if node.get("@type") in
                  ("Product", "ProductGroup") for item in node.get("hasVariant", [node])}
        for price in page.select(".product-info .price"):
            sku = price.select_one(".amount")["data-sku"]
            terms = price.find_next_sibling(class_="price-terms")  # after the price (and its sale note), its own
            assert terms is not None and terms.find_previous_sibling(class_="price") is price, (path, sku)
            text = terms.get_text(" ", strip=True)
            shipping = offers[sku]["shippingDetails"]
            rate = Decimal(shipping["shippingRate"]["value"])
            handling, transit = shipping["deliveryTime"]["handlingTime"], shipping["deliveryTime"]["transitTime"]
            assert text.startswith("IVA inclusa ·") and text.endswith("· reso entro 14 giorni"), text
            assert Decimal(terms["data-shipping"]) == rate
            if "nessuna spedizione" in text:  # the e-book
                assert rate == 0 and transit["maxValue"] == 0
            else:
                if rate:
                    shown = re.search(r"spedizione ([\d.,]+)\s€ \(gratuita da 150,00\s€\)", text)
                    assert shown and parse_decimal(shown.group(1), locale="it") == rate, text
                else:
                    assert "· spedizione gratuita ·" in text, text
                low = handling["minValue"] + transit["minValue"]
                high = handling["maxValue"] + transit["maxValue"]
                assert f"consegna in {low}–{high} giorni lavorativi" in text, text
            checked.add(sku)
    skus = {f["sku"] for f in demo_products().values() if not f.get("variants")}
    skus |= {v["sku"] for f in demo_products().values() for v in f.get("variants") or []}
    assert checked == skus


def test_every_card_price_on_every_page_states_vat_and_the_shipping_its_json_ld_states(demo_production):
    from conftest import html_pages, jsonld

    rates = {}  # sku -> the shipping rate its product page's JSON-LD offer states
    for path in (demo_production / "prodotti").glob("*/index.html"):
        for node in jsonld(parse(path))["@graph"]:
            for item in node.get("hasVariant", [node]) if node.get("@type") in ("Product", "ProductGroup") else []:
                rates[item["sku"]] = Decimal(item["offers"]["shippingDetails"]["shippingRate"]["value"])
    cards = 0
    for path in html_pages(demo_production):
        for price in parse(path).select(".price"):
            if price.find_parent(class_="product-info"):
                continue  # the product page's own prices: the test above
            sku = price.select_one(".amount")["data-sku"]
            terms = price.find_next_sibling(class_="price-terms")
            assert terms is not None, (path, sku)
            text = terms.get_text(" ", strip=True)
            assert text.startswith("IVA inclusa ·"), (path, text)
            assert Decimal(terms["data-shipping"]) == rates[sku], (path, sku)
            if rates[sku]:
                shown = text.split("spedizione ", 1)[1].replace("\xa0€", "")
                assert parse_decimal(shown, locale="it") == rates[sku], (path, text)
            else:
                assert text.endswith(("spedizione gratuita", "nessuna spedizione: consegna per e-mail")), text
            cards += 1
    assert cards > 50
