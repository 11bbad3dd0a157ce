"""The cart in headless Chromium on the built demo: add from product pages, change a quantity, remove, and the
order as e-mail draft, text and form fields, each total checked against PriceList.totals in Python."""

from __future__ import annotations

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from conftest import require_validator
from servers import chromium, serving

from shop.cart import PriceList
from shop.catalog import format_money

TUNER, AMPLIFIER = "CL-TUN-CLIP", "CL-AMP15"  # accessori 6.90 and strumenti 19.90: one parcel at 19.90


def money(amount, lang="it") -> str:
    return format_money(amount, "EUR", lang)


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module (Playwright's sync API runs one session per thread at a time)."""
    with chromium() as running:
        yield running


@pytest.fixture(scope="module")
def shop(demo_output, browser):
    data = json.loads((demo_output / "cart.json").read_text(encoding="utf-8"))
    with serving(demo_output) as origin:
        context = browser.new_context()
        tab = context.new_page()
        problems = []
        tab.on("pageerror", lambda error: problems.append(str(error)))
        tab.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        yield origin, tab, PriceList.from_json(data), problems
        context.close()


def add_from_its_page(tab, origin, prices, sku):
    tab.goto(origin + prices.offers[sku].url)
    button = tab.locator(f"button[data-cart-add][data-sku='{sku}']")
    button.wait_for(state="visible")  # hidden in the HTML, shown by the badge script
    button.click()
    status = tab.locator(f"button[data-cart-add][data-sku='{sku}'] + [data-cart-status]")
    status.locator("a:not([hidden])").wait_for()
    assert prices.offers[sku].name in status.inner_text()


def open_cart(tab, origin, lines, path="/carrello/"):
    """The cart page with these (sku, quantity) lines stored, as a visitor who added them left it."""
    tab.goto(origin + path)
    tab.evaluate("lines => localStorage.setItem('vetrina-cart', JSON.stringify(lines))",
                 [{"s": sku, "q": quantity} for sku, quantity in lines])
    tab.reload()
    tab.locator("tr[data-sku]").first.wait_for()


def shown_totals(tab) -> dict:
    return {key: tab.inner_text(f"[data-{key}]") for key in ("subtotal", "shipping", "total")}


def set_quantity(tab, sku, quantity):
    field = tab.locator(f"tr[data-sku='{sku}'] input")
    field.fill(str(quantity))
    field.dispatch_event("change")


def order_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if " × " in line]


def test_two_products_added_a_quantity_changed_and_the_total_with_shipping_is_python_s(shop):
    origin, tab, prices, problems = shop
    add_from_its_page(tab, origin, prices, TUNER)
    add_from_its_page(tab, origin, prices, AMPLIFIER)
    assert tab.inner_text("header [data-cart-count]") == "2"
    tab.goto(origin + "/carrello/")
    tab.locator("tr[data-sku]").nth(1).wait_for()
    assert tab.locator("[data-cart-nojs]").count() == 0 and tab.locator("[data-cart-full]").is_visible()
    assert tab.locator("[data-cart-empty]").is_hidden()

    expected = prices.totals([(TUNER, 1), (AMPLIFIER, 1)])
    assert expected.shipping == Decimal("19.90")  # the highest class, once
    assert shown_totals(tab) == {"subtotal": money(expected.subtotal), "shipping": money(expected.shipping),
                                 "total": money(expected.total)}

    set_quantity(tab, TUNER, 2)
    expected = prices.totals([(TUNER, 2), (AMPLIFIER, 1)])
    tab.wait_for_function("t => document.querySelector('[data-total]').textContent === t", arg=money(expected.total))
    assert shown_totals(tab)["subtotal"] == money(expected.subtotal)
    assert tab.inner_text(f"tr[data-sku='{TUNER}'] [data-line-total]") == money(expected.lines[0].total)
    missing = prices.free_from - expected.subtotal
    assert money(missing) in tab.inner_text("[data-free-missing]")
    tab.wait_for_function("() => document.querySelector('[data-cart-live]').textContent.includes('2')")
    assert money(expected.total) in tab.inner_text("[data-cart-live]")
    assert tab.inner_text("header [data-cart-count]") == "3"

    # The e-mail draft and the text to copy list every line, the shipping and the total.
    text = tab.input_value("[data-cart-text]")
    mail = urlparse(tab.get_attribute("[data-cart-mailto]", "href"))
    assert mail.scheme == "mailto" and mail.path == "ordini@cordeelegni.example"
    body = parse_qs(mail.query)["body"][0]
    assert body == text
    assert order_lines(text) == [f"{line.quantity} × {line.offer.name} (Codice: {line.offer.sku}): {money(line.total)}"
                                 for line in expected.lines]
    assert f"Spedizione: {money(expected.shipping)}" in text and f"Totale: {money(expected.total)}" in text

    # The order form posts the same lines, in the same order, and the total shown as text with a dot.
    form = tab.locator("form[data-cart-form]")
    if form.count():
        skus = form.locator("input[name=sku]").evaluate_all("els => els.map(e => e.value)")
        quantities = form.locator("input[name=quantity]").evaluate_all("els => els.map(e => e.value)")
        assert list(zip(skus, quantities)) == [(line.offer.sku, str(line.quantity)) for line in expected.lines]
        assert form.locator("input[name=total]").input_value() == str(expected.total)
        assert form.locator("input[name=lang]").input_value() == "it"

    # Past the threshold, shipping is free.
    set_quantity(tab, TUNER, 5)
    expected = prices.totals([(TUNER, 5), (AMPLIFIER, 1)])
    assert expected.shipping == 0 and expected.subtotal >= prices.free_from
    tab.wait_for_function("t => document.querySelector('[data-total]').textContent === t", arg=money(expected.total))
    assert shown_totals(tab)["shipping"] == "Spedizione gratuita"
    assert tab.inner_text("[data-free-missing]") == ""
    assert not problems, problems


def test_quantities_are_kept_within_the_limit_and_a_line_is_removed(shop):
    origin, tab, prices, problems = shop
    open_cart(tab, origin, [(TUNER, 5), (AMPLIFIER, 1)])
    set_quantity(tab, AMPLIFIER, 250)
    tab.wait_for_function("() => document.querySelector(\"tr[data-sku='CL-AMP15'] input\").value === '99'")
    expected = prices.totals([(TUNER, 5), (AMPLIFIER, 99)])
    tab.wait_for_function("t => document.querySelector('[data-total]').textContent === t", arg=money(expected.total))

    tab.locator(f"tr[data-sku='{TUNER}'] [data-remove]").click()
    tab.wait_for_function("() => document.querySelectorAll('tr[data-sku]').length === 1")
    expected = prices.totals([(AMPLIFIER, 99)])
    assert shown_totals(tab)["total"] == money(expected.total)
    tab.wait_for_function("() => document.querySelector('[data-cart-live]').textContent.includes('rimosso')")
    assert prices.offers[TUNER].name in tab.inner_text("[data-cart-live]")
    assert tab.evaluate("document.activeElement.matches('[data-remove]')")  # focus stays in the table
    stored = tab.evaluate("JSON.parse(localStorage.getItem('vetrina-cart'))")
    assert [(line["s"], line["q"]) for line in stored] == [(AMPLIFIER, 99)]
    assert not problems, problems


def test_an_offer_no_longer_sold_or_not_purchasable_is_shown_and_left_out(shop):
    origin, tab, prices, problems = shop
    sold_out = next(sku for sku, offer in prices.offers.items() if not offer.purchasable)
    lines = [{"s": AMPLIFIER, "q": 1, "p": "1.00", "n": "stale cache"}, {"s": "GONE-1", "q": 2, "p": "5.00",
             "n": "Un prodotto ritirato"}, {"s": sold_out, "q": 1}, {"s": AMPLIFIER, "q": 2}]
    tab.evaluate("lines => localStorage.setItem('vetrina-cart', JSON.stringify(lines))", lines)
    tab.goto(origin + "/carrello/")
    tab.locator("tr[data-sku='GONE-1']").wait_for()
    expected = prices.totals([(AMPLIFIER, 3)])  # the two amplifier lines merged; the cached price ignored
    assert shown_totals(tab)["total"] == money(expected.total)
    gone = tab.locator("tr[data-sku='GONE-1']")
    assert "Un prodotto ritirato" in gone.inner_text() and "Non più in vendita" in gone.inner_text()
    assert gone.locator("input").is_disabled()
    assert "Non acquistabile ora" in tab.locator(f"tr[data-sku='{sold_out}']").inner_text()
    assert order_lines(tab.input_value("[data-cart-text]")) == [
        f"3 × {prices.offers[AMPLIFIER].name} (Codice: {AMPLIFIER}): {money(expected.subtotal)}"]
    stored = tab.evaluate("JSON.parse(localStorage.getItem('vetrina-cart'))")
    assert [line["s"] for line in stored] == [AMPLIFIER, "GONE-1", sold_out]
    assert stored[0]["p"] == str(prices.offers[AMPLIFIER].price)  # the cache refreshed from cart.json
    assert not problems, problems


def test_the_english_cart_formats_money_like_the_site(shop):
    origin, tab, prices, problems = shop
    open_cart(tab, origin, [(AMPLIFIER, 1), (TUNER, 1)], "/en/cart/")
    expected = prices.totals([(AMPLIFIER, 1), (TUNER, 1)])
    assert shown_totals(tab) == {"subtotal": money(expected.subtotal, "en"), "shipping": money(expected.shipping, "en"),
                                 "total": money(expected.total, "en")}
    assert tab.inner_text(f"tr[data-sku='{TUNER}'] [data-unit]") == "€14.90"
    open_cart(tab, origin, [(AMPLIFIER, 99)], "/en/cart/")
    assert shown_totals(tab)["total"] == money(prices.totals([(AMPLIFIER, 99)]).total, "en") == "€7,821.00"
    assert tab.inner_text("[data-shipping]") == "Free shipping"
    assert tab.input_value("[data-cart-text]").startswith("Hello, I would like to order:")
    assert not problems, problems


def test_the_filled_cart_page_is_valid_html(shop, tmp_path):
    from core import checks

    origin, tab, prices, problems = shop
    require_validator()
    open_cart(tab, origin, [(AMPLIFIER, 2), (TUNER, 1), ("GONE-1", 1)])
    (tmp_path / "carrello.html").write_text("<!doctype html>\n" + tab.evaluate("document.documentElement.outerHTML"),
                                            encoding="utf-8")
    assert checks.invalid_html(tmp_path) == []


def test_an_empty_cart_says_so_and_links_the_products(shop):
    origin, tab, prices, problems = shop
    tab.evaluate("localStorage.removeItem('vetrina-cart')")
    tab.goto(origin + "/carrello/")
    tab.locator("[data-cart-empty]").wait_for()
    assert tab.locator("[data-cart-full]").is_hidden() and tab.locator("header [data-cart-count]").is_hidden()
    assert tab.get_attribute("[data-cart-empty] a", "href") == "/prodotti/"
    assert not problems, problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_a_filled_cart_has_no_axe_violation(demo_output, browser, scheme):
    from test_accessibility import axe_script, violations

    script = axe_script()
    with serving(demo_output) as origin:
        for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
            context = browser.new_context(viewport=viewport, color_scheme=scheme)
            tab = context.new_page()
            open_cart(tab, origin, [(AMPLIFIER, 2), (TUNER, 1), ("GONE-1", 1)])
            assert violations(tab, script) == [], viewport
            context.close()


def test_the_paypal_cart_upload_carries_every_line_and_the_one_parcel(build_site, browser):
    from shop_fixtures import catalogue, product_file

    content = {"images/p.png": catalogue()["images/p.png"],
               "products/a.md": product_file(checkout={"paypal": "https://www.paypal.com/ncp/payment/A"}),
               "products/b.md": product_file(title="Cavo", slug="cavo", sku="C-1", price="12.50",
                                             checkout={"paypal": "https://www.paypal.com/ncp/payment/B"})}
    output = build_site(content, SHOP_TODAY="2026-11-22", SHOP_CHECKOUT="paypal", SHOP_FREE_SHIPPING_FROM="1000.00",
                        SHOP_PAYPAL_BUSINESS="cassa@negozio.example")
    prices = PriceList.from_json(json.loads((output / "cart.json").read_text(encoding="utf-8")))
    expected = prices.totals([("T-1", 1), ("C-1", 2)])
    with serving(output) as origin:
        tab = browser.new_page()
        open_cart(tab, origin, [("T-1", 1), ("C-1", 2)])
        fields = tab.locator("form[data-cart-paypal] input[type=hidden]").evaluate_all(
            "els => els.map(e => [e.name, e.value])")
        tab.close()
    posted = dict(fields)
    assert posted["cmd"] == "_cart" and posted["upload"] == "1" and posted["business"] == "cassa@negozio.example"
    assert posted["currency_code"] == "EUR" and posted["no_shipping"] == "2"
    for n, line in enumerate(expected.lines, start=1):
        assert (posted[f"item_name_{n}"], posted[f"item_number_{n}"], posted[f"amount_{n}"],
                posted[f"quantity_{n}"]) == (line.offer.name, line.offer.sku, str(line.offer.price), str(line.quantity))
    shipping = sum(Decimal(posted[f"shipping_{n}"]) for n in range(1, len(expected.lines) + 1))
    assert shipping == expected.shipping > 0 and posted["shipping2_1"] == "0.00"
    paid = sum(Decimal(posted[f"amount_{n}"]) * int(posted[f"quantity_{n}"]) for n in range(1, 3)) + shipping
    assert paid == expected.total
