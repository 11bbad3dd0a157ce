"""The cart page's order form posted, in Chromium, to the real forms endpoint (with a real SMTP server): the shop
receives the lines and the total the visitor saw, priced again from the same cart.json."""

from __future__ import annotations

import functools
import json
import shutil
import threading
from decimal import Decimal
from http.server import ThreadingHTTPServer

from servers import QuietHandler, chromium, free_port
from shop_fixtures import catalogue, product_file
from test_forms_endpoint import SHOP, smtp, start_endpoint  # noqa: F401  (smtp: the fixture)

from shop.cart import PriceList


def test_an_order_sent_from_the_cart_page_is_priced_again_and_mailed(build_site, smtp, tmp_path):  # noqa: F811
    controller, inbox = smtp
    site_port, forms_port = free_port(), free_port()
    site = f"http://127.0.0.1:{site_port}"
    content = {**catalogue(), "products/corde.md": product_file(
        title="Corde", slug="corde", sku="S-1", price="8.50", summary="Corde per chitarra.")}
    output = build_site(content, SHOP_TODAY="2026-11-22", FORMS_ENDPOINT=f"http://127.0.0.1:{forms_port}",
                        FORMS_SITE_ORIGIN=site, SHOP_FREE_SHIPPING_FROM="150.00")
    forms = start_endpoint(tmp_path / "endpoint", controller.port, site=site, port=forms_port)
    httpd = ThreadingHTTPServer(("127.0.0.1", site_port), functools.partial(QuietHandler, directory=str(output)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        shutil.copy(output / "cart.json", forms.folder / "cart.json")  # what production reads at SITEURL
        prices = PriceList.from_json(json.loads((output / "cart.json").read_text(encoding="utf-8")))
        expected = prices.totals([("S-1", 3), ("T-1", 1)])
        with chromium() as browser:
            tab = browser.new_page()
            tab.goto(site + "/carrello/")
            tab.evaluate("lines => localStorage.setItem('vetrina-cart', JSON.stringify(lines))",
                         [{"s": "S-1", "q": 3}, {"s": "T-1", "q": 1}])
            tab.reload()
            tab.locator("tr[data-sku]").first.wait_for()
            form = tab.locator("form[data-cart-form]")
            assert form.get_attribute("action") == f"http://127.0.0.1:{forms_port}/order"
            assert form.locator("input[name=total]").input_value() == str(expected.total)
            form.locator("[name=name]").fill("Giulia Bianchi")
            form.locator("[name=email]").fill("giulia@example.org")
            form.locator("[name=address]").fill("Via Indipendenza 1\n40121 Bologna")
            with tab.expect_navigation():
                form.locator("button[type=submit]").click()
            answer = tab.inner_text("body")
            back = tab.get_by_role("link", name="Torna al negozio").get_attribute("href")
            # A link back with another key (someone else's receipt) empties nothing.
            tab.goto(f"{site}/carrello/?inviato=altra-chiave")
            tab.locator("tr[data-sku]").first.wait_for()
            assert tab.locator("[data-cart-done]").is_hidden()
            key = tab.evaluate("JSON.parse(localStorage.getItem('vetrina-cart-sent')).k")
            assert back == f"{site}/carrello/?inviato={key}"  # the key this browser sent the order with
            # The receipt's own link back: the order is sent, the cart empty again.
            tab.goto(back)
            tab.locator("[data-cart-empty]").wait_for()
            assert tab.locator("[data-cart-done]").is_visible()
            assert tab.evaluate("JSON.parse(localStorage.getItem('vetrina-cart'))") == []
            assert tab.evaluate("localStorage.getItem('vetrina-cart-sent')") is None
        assert "Giulia" in answer and "giulia@example.org" in answer
        rows = forms.rows("SELECT data FROM submissions WHERE kind = 'order'")
        assert len(rows) == 1
        order = json.loads(rows[0]["data"])
        assert [(line["sku"], line["quantity"]) for line in order["lines"]] == [("S-1", 3), ("T-1", 1)]
        assert Decimal(order["total"]) == expected.total and Decimal(order["shipping"]) == expected.shipping
        inbox.wait_for(1)
        assert inbox.to(SHOP)
    finally:
        httpd.shutdown()
        httpd.server_close()
        from forms import server as forms_server
        if forms.process.poll() is None:
            forms_server.stop(forms.process)
