"""The demo on a phone (390 x 844, Chromium): every product's price and buy button in the first screen, two
products a row, the catalogue's categories and the main menu each behind one control."""

from __future__ import annotations

from conftest import parse
from servers import chromium, serving

PHONE = {"width": 390, "height": 844}


def product_pages(output):
    return sorted(path.parent.name for path in (output / "prodotti").glob("*/index.html")
                  if parse(path).select_one("article.product"))


def first_visible_bottom(tab, selector: str):
    return tab.evaluate("""(selector) => {
        const shown = [...document.querySelectorAll(selector)].find(e => e.getClientRects().length);
        return shown ? shown.getBoundingClientRect().bottom : null;
    }""", selector)


def test_every_product_s_price_and_buy_button_are_in_a_phone_s_first_screen(demo_output):
    slugs = product_pages(demo_output)
    assert len(slugs) >= 12
    late = {}
    with serving(demo_output) as origin, chromium() as browser:
        tab = browser.new_page(viewport=PHONE)
        for slug in slugs:
            tab.goto(f"{origin}/prodotti/{slug}/")
            price = first_visible_bottom(tab, ".product-info .price")
            buy = first_visible_bottom(tab, ".product-info .buy-button, .product-info .notify")
            assert price is not None and buy is not None, slug
            if max(price, buy) > PHONE["height"]:
                late[slug] = (price, buy)
    assert not late, f"price or buy button below the first screen (px): {late}"


def test_a_phone_shows_two_products_a_row_and_folds_categories_and_menu(demo_output):
    with serving(demo_output) as origin, chromium() as browser:
        tab = browser.new_page(viewport=PHONE)
        tab.goto(f"{origin}/prodotti/")
        first, second = (tab.locator(".cards.products .card").nth(i).bounding_box() for i in range(2))
        assert first["y"] == second["y"] and second["x"] > first["x"] + first["width"] - 1
        assert first["width"] < PHONE["width"] / 2
        assert not tab.locator(".categories-chips").is_visible()
        fold = tab.locator(".categories-fold")
        assert fold.is_visible() and not fold.locator("a").first.is_visible()
        fold.locator("summary").click()
        assert fold.locator("a").count() >= 5 and fold.locator("a").first.is_visible()
        # the main menu: one control in the header, its links shown when opened
        assert not tab.locator(".header-inner > .site-nav").is_visible()
        menu = tab.locator(".nav-menu")
        assert menu.is_visible() and not menu.locator("a").first.is_visible()
        menu.locator("summary").click()
        assert [a.inner_text() for a in menu.locator("a").all()][:2] == ["Prodotti", "Blog"]
        assert menu.locator("a").first.is_visible()
        header = tab.locator(".site-header").bounding_box()
        assert header["height"] < 130
        # on a wide screen the chips and the menu's links show as they are
        wide = browser.new_page(viewport={"width": 1280, "height": 900})
        wide.goto(f"{origin}/prodotti/")
        assert wide.locator(".categories-chips").is_visible() and not wide.locator(".categories-fold").is_visible()
        assert wide.locator(".header-inner > .site-nav a").first.is_visible()
        assert not wide.locator(".nav-menu").is_visible()
