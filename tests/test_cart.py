"""The cart: its price rule (plugins/shop/cart.py), the pages and buttons the build writes, and the script's sizes."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal

import pytest
from conftest import ROOT, parse
from shop_fixtures import catalogue

from shop.cart import MAX_LINES, MAX_QUANTITY, CartError, PricedOffer, PriceList
from shop.settings import ShopConfigurationError

D = Decimal
TODAY = "2026-11-22"
JS = ROOT / "theme" / "static" / "js"


def offer(sku, price, shipping_class="accessori", purchasable=True):
    return PricedOffer(sku, f"Prodotto {sku}", D(price), shipping_class, purchasable, f"/prodotti/{sku}/", "/p.png")


PRICES = PriceList("EUR", {"strumenti": D("19.90"), "accessori": D("6.90"), "pianoforti": D("29.90")}, D("150.00"), {
    "GUITAR": offer("GUITAR", "189.00", "strumenti"),
    "STRINGS": offer("STRINGS", "9.90"),
    "CABLE": offer("CABLE", "24.50"),
    "PIANO": offer("PIANO", "120.00", "pianoforti"),
    "EBOOK": offer("EBOOK", "9.00", None),
    "SOLD-OUT": offer("SOLD-OUT", "45.00", purchasable=False),
})


# --- the rule ------------------------------------------------------------------------------------------------
def test_a_sku_given_twice_is_one_line_with_the_quantities_added():
    totals = PRICES.totals([("STRINGS", 1), ("CABLE", "2"), ("STRINGS", " 3 ")])
    assert [(line.offer.sku, line.quantity, line.total) for line in totals.lines] == [
        ("STRINGS", 4, D("39.60")), ("CABLE", 2, D("49.00"))]
    assert totals.subtotal == D("88.60") and totals.shipping == D("6.90") and totals.total == D("95.50")


@pytest.mark.parametrize("quantities, message", [
    ([("STRINGS", 0)], "from 1 to 99"),
    ([("STRINGS", -2)], "from 1 to 99"),
    ([("STRINGS", MAX_QUANTITY + 1)], "from 1 to 99"),
    ([("STRINGS", 60), ("STRINGS", 40)], "from 1 to 99"),
    ([("STRINGS", "2.5")], "whole number"),
    ([("STRINGS", "due")], "whole number"),
    ([], "empty"),
])
def test_quantities_are_whole_numbers_from_1_to_the_limit(quantities, message):
    with pytest.raises(CartError, match=message):
        PRICES.totals(quantities)


def test_the_limit_itself_is_accepted_and_too_many_lines_are_not():
    assert PRICES.totals([("STRINGS", MAX_QUANTITY)]).lines[0].quantity == MAX_QUANTITY
    many = PriceList("EUR", PRICES.rates, None, {f"S{i}": offer(f"S{i}", "1.00") for i in range(MAX_LINES + 1)})
    assert len(many.totals([(f"S{i}", 1) for i in range(MAX_LINES)]).lines) == MAX_LINES
    with pytest.raises(CartError, match=f"at most {MAX_LINES}"):
        many.totals([(f"S{i}", 1) for i in range(MAX_LINES + 1)])


def test_one_parcel_at_the_highest_rate_of_the_shipped_classes():
    assert PRICES.totals([("STRINGS", 1), ("PIANO", 1)]).shipping == D("29.90")
    assert PRICES.totals([("STRINGS", 2), ("CABLE", 1)]).shipping == D("6.90")  # once, not per line or unit
    assert PRICES.totals([("EBOOK", 1), ("STRINGS", 1)]).shipping == D("6.90")  # the e-book ships nothing


def test_shipping_is_free_from_the_threshold_on():
    below = PRICES.totals([("CABLE", 6)])  # 147.00
    assert (below.subtotal, below.shipping, below.total, below.free_shipping) == (D("147.00"), D("6.90"),
                                                                                 D("153.90"), False)
    at = PRICES.totals([("CABLE", 4), ("STRINGS", 5)])  # 98.00 + 49.50 = 147.50
    assert at.shipping == D("6.90")
    exactly = PriceList("EUR", PRICES.rates, D("150.00"), {"X": offer("X", "75.00", "strumenti")}).totals([("X", 2)])
    assert (exactly.subtotal, exactly.shipping, exactly.free_shipping) == (D("150.00"), D("0"), True)
    assert PRICES.totals([("GUITAR", 1)]).total == D("189.00")
    no_threshold = PriceList("EUR", PRICES.rates, None, PRICES.offers).totals([("GUITAR", 3)])
    assert no_threshold.shipping == D("19.90")


def test_a_digital_only_cart_ships_nothing_and_is_not_called_free_shipping():
    totals = PRICES.totals([("EBOOK", 2)])
    assert (totals.subtotal, totals.shipping, totals.total) == (D("18.00"), D("0"), D("18.00"))
    assert not totals.free_shipping


@pytest.mark.parametrize("sku, message", [("NOPE", "not sold"), ("SOLD-OUT", "cannot be bought now")])
def test_an_unknown_or_unpurchasable_sku_is_refused_by_name(sku, message):
    with pytest.raises(CartError, match=f"'{sku}' .*{message}|{message}"):
        PRICES.totals([("STRINGS", 1), (sku, 1)])


def test_from_json_refuses_what_is_not_a_price_list():
    for broken in ({}, {"currency": "EUR", "rates": {}, "offers": {"A": ["x", "nope", None, True, "/", "/"]}},
                   {"currency": "EUR", "rates": {"a": "1"}, "offers": {"A": ["too", "short"]}}):
        with pytest.raises(ValueError, match="not a cart price list"):
            PriceList.from_json(broken)


# --- the demo's cart.json --------------------------------------------------------------------------------------
def demo_prices(output) -> dict:
    return json.loads((output / "cart.json").read_text(encoding="utf-8"))


def test_the_demo_price_list_survives_a_round_trip_and_prices_a_cart(demo_output):
    data = demo_prices(demo_output)
    prices = PriceList.from_json(data)
    assert prices.as_json() == data
    assert PriceList.from_json(json.loads(json.dumps(prices.as_json()))) == prices
    assert prices.free_from == D("150.00") and prices.currency == "EUR"
    buyable = [o for o in prices.offers.values() if o.purchasable and o.shipping_class]
    totals = prices.totals([(buyable[0].sku, 1), (buyable[1].sku, 2)])
    assert totals.total == totals.subtotal + totals.shipping


def test_cart_json_agrees_with_shop_json_and_each_page_json_ld(demo_production):
    data = demo_prices(demo_production)
    shop = json.loads((demo_production / "shop.json").read_text(encoding="utf-8"))
    in_shop = {o["sku"]: D(o["price"]) for p in shop["products"] for o in p["offers"]}
    assert {sku: D(entry[1]) for sku, entry in data["offers"].items()} == in_shop
    from conftest import jsonld
    in_json_ld = {}
    for path in (demo_production / "prodotti").glob("*/index.html"):
        for node in jsonld(parse(path))["@graph"]:
            for product in [node] if node.get("@type") == "Product" else node.get("hasVariant", []):
                in_json_ld[product["sku"]] = (D(product["offers"]["price"]), product["offers"]["availability"])
    assert {sku: price for sku, (price, _) in in_json_ld.items()} == in_shop
    for sku, (_, availability) in in_json_ld.items():
        sellable = availability.rsplit("/", 1)[-1] in ("InStock", "PreOrder", "BackOrder", "LimitedAvailability")
        assert data["offers"][sku][3] == sellable, sku


# --- what the build writes -----------------------------------------------------------------------------------
def test_cart_pages_in_both_languages_are_indexable_and_out_of_the_sitemap(demo_production):
    for path, lang in (("carrello", "it"), ("en/cart", "en")):
        page = parse(demo_production / path / "index.html")
        assert page.html["lang"] == lang
        assert page.find("meta", attrs={"name": "robots"}) is None  # Lighthouse's crawlable check: 100
        assert page.find("link", rel="canonical")["href"].endswith(f"/{path}/")
        cart = page.select_one("[data-cart-page]")
        assert cart["data-lang"] == lang and cart["data-prices"].endswith("/cart.json")
        assert page.select_one("[data-cart-nojs]").get_text(strip=True)  # what to do without JavaScript
        assert page.select_one("[data-cart-full]").has_attr("hidden")
        assert page.select_one("[role=status][data-cart-live]") is not None
        alternates = {link["hreflang"] for link in page.find_all("link", hreflang=True)}
        assert alternates == {"it", "en"}
    italian = parse(demo_production / "carrello" / "index.html")
    vat = italian.select_one(".cart-vat").get_text(" ", strip=True)
    assert "IVA inclusa" in vat and "Spedizione gratuita da 150,00\xa0€" in vat
    sitemap = "".join(p.read_text(encoding="utf-8") for p in demo_production.glob("sitemap*.xml"))
    assert "<loc>" in sitemap and "/carrello/" not in sitemap and "/en/cart/" not in sitemap


def test_every_page_links_the_cart_in_its_header_and_loads_only_the_badge(demo_output):
    pages = [demo_output / "index.html", demo_output / "blog" / "index.html",
             demo_output / "prodotti" / "chitarra-acustica-yamaha-fg820" / "index.html"]
    for path in pages:
        page = parse(path)
        link = page.select_one("header .cart-link")
        assert link["href"] == "/carrello/" and link.select_one("[data-cart-count]").has_attr("hidden")
        sources = [s["src"] for s in page.find_all("script", src=True)]
        assert "/theme/js/cart.js" not in sources  # loaded on the first add, or on the cart page
        badge = page.find("script", src="/theme/js/cart-badge.js")
        assert badge.has_attr("defer") and badge["data-full"] == "/theme/js/cart.js"
    english = parse(demo_output / "en" / "blog" / "comprare-chitarra-usata" / "index.html")
    assert english.html["lang"] == "en"
    assert english.select_one("header .cart-link")["href"] == "/en/cart/"


def test_add_to_cart_buttons_are_hidden_carry_the_offer_and_keep_the_order_link(demo_output):
    prices = demo_prices(demo_output)["offers"]
    seen = 0
    for path in (demo_output / "prodotti").glob("*/index.html"):
        page = parse(path)
        for button in page.select("button[data-cart-add]"):
            seen += 1
            assert button.has_attr("hidden") and button["type"] == "button"
            sku = button["data-sku"]
            assert button["data-price"] == prices[sku][1] and prices[sku][3] is True
            assert page.select_one(f"a.buy-button[data-sku='{sku}']")["href"].startswith("mailto:")
            assert button.find_next_sibling("p")["role"] == "status"
    assert seen >= 10
    sold_out = [sku for sku, entry in prices.items() if not entry[3]]
    for path in (demo_output / "prodotti").glob("*/index.html"):
        for sku in sold_out:
            assert not parse(path).select(f"button[data-cart-add][data-sku='{sku}']")


class FakeForms:
    """What the cart page reads of FORMS_CONFIG when the forms plugin is not loaded: where the order posts."""

    endpoint = "http://127.0.0.1:8090"

    def action(self, name):
        return f"{self.endpoint}/{name}"

    def withdrawal_page(self, lang):
        return "recesso/"

    privacy_page = "privacy/"


def test_the_order_form_has_every_field_the_endpoint_reads(build_site):
    output = build_site(catalogue(), SHOP_TODAY=TODAY, FORMS_CONFIG=FakeForms())
    page = parse(output / "carrello" / "index.html")
    form = page.select_one("form[data-cart-form]")
    assert form["method"] == "post" and form["action"].endswith("/order")
    names = {field["name"]: field for field in form.select("[name]")}
    assert {"name", "email", "address", "phone", "note", "lang", "total"} <= set(names)
    assert names["address"].name == "textarea" and names["email"]["type"] == "email"
    assert all(names[n].has_attr("required") for n in ("name", "email", "address"))
    assert not names["phone"].has_attr("required") and not names["note"].has_attr("required")
    assert names["lang"]["value"] == "it"
    for field in form.select("input:not([type=hidden]), textarea"):
        assert page.find("label", attrs={"for": field["id"]}), field["name"]
    assert form.find("fieldset").find("legend")
    mail = page.select_one("[data-cart-mailto]")
    assert mail["href"] == "mailto:ordini@cordeelegni.example"
    assert page.select_one("textarea[data-cart-text]").has_attr("readonly")


def test_paypal_cart_upload_form_and_its_origin_in_the_policy(build_site):
    from shop_fixtures import product_file
    content = {"images/p.png": catalogue()["images/p.png"],
               "products/a.md": product_file(checkout={"paypal": "https://www.paypal.com/ncp/payment/T1"})}
    output = build_site(content, SHOP_TODAY=TODAY, SHOP_CHECKOUT="paypal", SHOP_PAYPAL_BUSINESS="cassa@negozio.example",
                        SITEURL="https://negozio.example")
    form = parse(output / "carrello" / "index.html").select_one("form[data-cart-paypal]")
    assert form["method"] == "post" and form["action"] == "https://www.paypal.com/cgi-bin/webscr"
    fixed = {i["name"]: i["value"] for i in form.select("input[type=hidden]")}
    assert fixed == {"cmd": "_cart", "upload": "1", "business": "cassa@negozio.example", "currency_code": "EUR",
                     "charset": "utf-8",
                     # After a payment PayPal comes back to the cart page, which empties the cart; cancelled, it
                     # comes back to the cart as it was.
                     "return": "https://negozio.example/carrello/?pagato=1",
                     "cancel_return": "https://negozio.example/carrello/"}
    product = parse(output / "prodotti" / "chitarra-di-prova" / "index.html")
    assert product.select_one("a.buy-button")["href"] == "https://www.paypal.com/ncp/payment/T1"
    assert product.select_one("button[data-cart-add]")
    headers = (output / "_headers").read_text(encoding="utf-8")
    policy = next(line for line in headers.splitlines() if "Content-Security-Policy" in line)
    form_action = next(part for part in policy.split(";") if part.strip().startswith("form-action"))
    assert "https://www.paypal.com" in form_action.split()


@pytest.mark.parametrize("settings", [
    {"SHOP_CHECKOUT": "snipcart", "SHOP_SNIPCART_API_KEY": "pk_test"},
    {"SHOP_CART": False},
])
def test_no_cart_where_the_checkout_has_its_own_or_it_is_turned_off(build_site, settings):
    output = build_site(catalogue(), SHOP_TODAY=TODAY, **settings)
    assert not (output / "carrello").exists()
    page = parse(output / "prodotti" / "chitarra-di-prova" / "index.html")
    assert not page.select("[data-cart-add]") and not page.select(".cart-link")
    assert not page.find("script", src="/theme/js/cart-badge.js")
    assert "www.paypal.com" not in (output / "_headers").read_text(encoding="utf-8")


@pytest.mark.parametrize("settings, message", [
    ({"SHOP_CHECKOUT": "stripe", "SHOP_CART": True}, "Stripe payment link"),
    ({"SHOP_CHECKOUT": "snipcart", "SHOP_SNIPCART_API_KEY": "pk", "SHOP_CART": True}, "Snipcart has a cart"),
    ({"SHOP_CART": "yes"}, "SHOP_CART must be True, False or None"),
    ({"SHOP_CART_URL": "/carrello"}, "SHOP_CART_URL"),
    ({"SHOP_CART_LANG_URL": "cart/"}, "SHOP_CART_LANG_URL must contain"),
])
def test_cart_settings_are_validated_at_start(build_site, settings, message):
    with pytest.raises(ShopConfigurationError, match=message):
        build_site(catalogue(), **settings)


# --- the budget ----------------------------------------------------------------------------------------------
def test_the_badge_is_at_most_1_kb_and_the_rest_under_5_kb_gzipped():
    badge = (JS / "cart-badge.js").read_bytes()
    rest = (JS / "cart.js").read_bytes()
    assert len(badge) <= 1024, len(badge)
    assert len(gzip.compress(rest, 9)) < 5 * 1024, len(gzip.compress(rest, 9))


def test_the_cart_page_first_view_weighs_under_30_kb_gzipped(demo_output):
    page = demo_output / "carrello" / "index.html"
    parts = [page, demo_output / "theme" / "css" / "main.css", demo_output / "theme" / "js" / "cart-badge.js",
             demo_output / "theme" / "js" / "cart.js"]
    assert sum(len(gzip.compress(p.read_bytes(), 9)) for p in parts) < 30 * 1024
