"""The storefront on a fixture catalogue: pages, money, variants, sales, cards in posts, lists, checkout."""

from __future__ import annotations

from decimal import Decimal

import pytest
from babel.numbers import parse_decimal
from conftest import BuildFailed, jsonld, nodes, parse, post, scripts
from shop_fixtures import PNG, catalogue, product_file

from shop.money import format_money

TODAY = "2026-11-22"


@pytest.fixture
def shop_site(build_site):
    def build(extra: dict | None = None, **settings):
        content = {**catalogue(), **(extra or {})}
        return build_site(content, SHOP_TODAY=TODAY, **settings)

    return build


def shown_amount(tag, lang="it") -> Decimal:
    """The amount a visitor reads in a price element, parsed back from its locale format."""
    text = tag.get_text().replace("€", "").replace("\xa0", " ").strip()
    return parse_decimal(text, locale=lang)


# --- money -------------------------------------------------------------
def test_money_is_formatted_for_the_locale():
    assert format_money(Decimal("1299.00"), "EUR", "it") == "1.299,00\xa0€"
    assert format_money(Decimal("1299.00"), "EUR", "en") == "€1,299.00"


def test_english_site_shows_english_prices(shop_site):
    output = shop_site(DEFAULT_LANG="en")
    page = parse(output / "prodotti" / "basso" / "index.html")
    assert page.select_one(".price ins .amount").get_text() == "€1,189.00"
    assert page.select_one(".price del").get_text(strip=True).endswith("€1,219.00")


# --- product pages ---------------------------------------------------------
def test_product_page_shows_price_availability_condition_and_gallery(shop_site):
    page = parse(shop_site() / "prodotti" / "chitarra-di-prova" / "index.html")
    assert page.h1.get_text() == "Chitarra di prova"
    assert shown_amount(page.select_one(".product-info .amount")) == Decimal("249.00")
    assert page.select_one(".availability")["data-availability"] == "in_stock"
    assert page.select_one(".condition").get_text() == "Usato"
    gallery = page.select(".product-gallery img")
    assert gallery and gallery[0]["alt"] == "Una chitarra"
    assert page.select_one(".product-description").get_text(" ", strip=True).endswith("Descrizione della chitarra.")


def test_every_variant_has_its_price_availability_and_own_buy_link(shop_site):
    page = parse(shop_site() / "prodotti" / "cavo-jack" / "index.html")
    variants = page.select(".variant")
    assert [v["data-sku"] for v in variants] == ["CAB-3", "CAB-6"]
    prices = [shown_amount(v.select_one(".amount")) for v in variants]
    assert prices == [Decimal("12.00"), Decimal("16.50")]
    for variant in variants:
        link = variant.select_one("a.buy-button")
        assert link["href"].startswith("mailto:"), "works without JavaScript"
        assert link["data-sku"] == variant["data-sku"]
    assert variants[1].find("img")["alt"] == "Cavo da 6 metri"


def test_sale_shows_old_price_struck_and_lowest_price_of_30_days(shop_site):
    page = parse(shop_site() / "prodotti" / "basso" / "index.html")
    assert shown_amount(page.select_one(".price del").contents[-1]) == Decimal("1219.00")
    assert shown_amount(page.select_one(".price ins .amount")) == Decimal("1189.00")
    note = page.select_one(".price-note").get_text(" ", strip=True)
    # The 30 days before 15 November: 1249.00 in force on 16 October, 1199.00 from 20 October, 1219.00 from
    # 1 November. The lowest, 1199.00, is below the struck-through price.
    assert note.startswith("Prezzo più basso nei 30 giorni precedenti lo sconto: 1.199,00\xa0€.")
    assert "30 giugno 2027" in note


def test_sale_before_its_start_shows_the_regular_price(build_site):
    output = build_site(catalogue(), SHOP_TODAY="2026-11-01")
    page = parse(output / "prodotti" / "basso" / "index.html")
    assert page.select_one(".price del") is None
    assert shown_amount(page.select_one(".product-info .amount")) == Decimal("1219.00")


def test_out_of_stock_stays_visible_and_says_so(shop_site):
    output = shop_site()
    page = parse(output / "prodotti" / "piano" / "index.html")
    assert page.select_one(".availability").get_text() == "Esaurito"
    assert page.select_one(".buy-button") is None
    assert page.select_one("a.notify")["href"].startswith("mailto:")
    catalog = parse(output / "prodotti" / "index.html")
    titles = [a.get_text() for a in catalog.select(".product-card .card-title a")]
    assert "Pianoforte esaurito" in titles


def test_digital_product_says_nothing_is_shipped(shop_site):
    page = parse(shop_site() / "prodotti" / "ebook" / "index.html")
    assert "nessuna spedizione" in page.select_one(".shipping-note").get_text()


# --- catalogue -------------------------------------------------------------
def test_catalogue_is_paginated_sorted_and_split_by_category(shop_site):
    output = shop_site(SHOP_PAGINATION=2)
    first = parse(output / "prodotti" / "index.html")
    assert len(first.select(".product-card")) == 2
    assert first.find("a", rel="next")["href"] == "/prodotti/pagina/2/"
    assert parse(output / "prodotti" / "pagina" / "2" / "index.html").find("meta", attrs={"name": "robots"})
    cheapest_first = parse(output / "prodotti" / "ordine" / "prezzo-crescente" / "index.html")
    assert [a.get_text() for a in cheapest_first.select(".card-title a")] == ["Guida in e-book", "Cavo jack"]
    assert cheapest_first.find("meta", attrs={"name": "robots"})["content"] == "noindex,follow"
    sort_links = [a["href"] for a in first.select("nav.sort a")]
    assert "/prodotti/ordine/prezzo-decrescente/" in sort_links
    bassi = parse(output / "prodotti" / "categoria" / "bassi" / "index.html")
    assert [a.get_text() for a in bassi.select(".card-title a")] == ["Basso in offerta"]


def test_home_page_and_navigation_show_the_shop(shop_site):
    home = parse(shop_site() / "index.html")
    featured = home.select_one("#featured-products").find_parent("section").select(".product-card")
    assert featured and featured[0].select_one(".card-title a")["href"].startswith("/prodotti/")
    assert home.select_one(".site-nav a[href='/prodotti/']").get_text() == "Prodotti"


# --- product cards in posts, recommendations, lists --------------------------
def test_post_embeds_a_product_card_and_the_product_lists_the_post(shop_site):
    body = "Prima.\n\n[[prodotto: cavo-jack]]\n\nE per il basso:\n\n[[prodotto: B-1]]\n"
    output = shop_site({"posts/guida.md": post(title="Guida ai cavi", slug="guida", body=body)})
    article = parse(output / "blog" / "guida" / "index.html")
    cards = article.select(".prose .product-embed")
    assert [c.select_one("a")["href"] for c in cards] == ["/prodotti/cavo-jack/", "/prodotti/basso/"]
    assert shown_amount(cards[0].select_one(".amount")) == Decimal("12.00")
    product = parse(output / "prodotti" / "cavo-jack" / "index.html")
    assert [a.get_text() for a in product.select("#mentioned-in ~ ul a")] == ["Guida ai cavi"]


def test_unknown_product_reference_is_an_error_naming_the_post(shop_site):
    with pytest.raises(BuildFailed) as failure:
        shop_site({"posts/guida.md": post(body="[[prodotto: non-esiste]]")})
    assert any("guida.md" in m and "non-esiste" in m for m in failure.value.messages)


def test_related_products_and_posts_are_shown(shop_site):
    output = shop_site({"posts/regali.md": post(title="Regali per chi suona", slug="regali",
                                                  tags="regalo, accessori", body="Un cavo o una guida.")})
    ebook = parse(output / "prodotti" / "ebook" / "index.html")
    related = [a.get_text() for a in ebook.select("#related-products ~ .products .card-title a")]
    assert related[0] == "Cavo jack"  # the other product tagged regalo
    assert "Regali per chi suona" in [a.get_text() for a in ebook.select("#related-posts ~ .cards .card-title a")]
    article = parse(output / "blog" / "regali" / "index.html")
    assert "Cavo jack" in [a.get_text() for a in article.select("#related-products ~ .products .card-title a")]


def test_keyword_list_ranks_matches_pins_and_respects_the_price_cap(shop_site):
    listing = ("---\ntitle: Regali sotto i 20 euro\nslug: regali\ndate: 2026-11-18 09:00\n"
               "summary: Piccoli regali per chi suona.\nkeywords: [cavo, guida]\ntags: [regalo]\n"
               "max_price: '20.00'\npinned: [EB-1]\n---\nLe nostre idee.\n")
    boosted = product_file(title="Guida al cavo", slug="guida-cavo", sku="G-2", price="15.00", boost=3,
                           tags=["regalo"], summary="Una guida sul cavo.")
    output = shop_site({"lists/regali.md": listing, "products/guida-cavo.md": boosted})
    page = parse(output / "prodotti" / "selezioni" / "regali" / "index.html")
    titles = [a.get_text() for a in page.select("ol.ranked .card-title a")]
    assert titles[0] == "Guida in e-book"  # pinned
    assert titles[1] == "Guida al cavo"  # boosted by the shop
    assert "Cavo jack" in titles and "Basso in offerta" not in titles and "Chitarra di prova" not in titles


def test_keyword_list_with_unknown_pin_is_an_error(shop_site):
    listing = "---\ntitle: X\nslug: x\ndate: 2026-11-18 09:00\npinned: [manca]\n---\n"
    with pytest.raises(BuildFailed) as failure:
        shop_site({"lists/x.md": listing})
    assert any("x.md" in m and "'pinned'" in m for m in failure.value.messages)


def test_variant_with_its_own_price_has_its_own_sale_and_history(build_site):
    content = {"images/p.png": PNG, "products/a.md": product_file(variants=[
        {"sku": "V-1", "options": {"size": "S"}},
        {"sku": "V-2", "options": {"size": "L"}, "price": "300.00",
         "sale": {"price": "270.00", "start": "2026-11-10", "end": "2026-12-31"},
         "price_history": [{"date": "2026-09-01", "price": "280.00"}, {"date": "2026-10-25", "price": "300.00"}]}])}
    page = parse(build_site(content, SHOP_TODAY=TODAY) / "prodotti" / "chitarra-di-prova" / "index.html")
    small, large = page.select(".variant")
    assert small.select_one(".price del") is None and shown_amount(small.select_one(".amount")) == Decimal("249.00")
    assert shown_amount(large.select_one(".price ins .amount")) == Decimal("270.00")
    assert "280,00" in large.select_one(".price-note").get_text()


HOSTILE = 'L\'accordatore "Pro" & </script><b>x</b> 🎸'


def test_hostile_product_text_is_escaped_and_order_mail_is_exact(build_site):
    from urllib.parse import parse_qs, urlparse

    content = {"images/p.png": PNG, "products/a.md": product_file(
        title=HOSTILE, summary=HOSTILE, variants=[{"sku": "V-1", "options": {"color": HOSTILE}}])}
    output = build_site(content, "publishconf.py", SHOP_TODAY=TODAY)
    page = parse(output / "prodotti" / "chitarra-di-prova" / "index.html")
    assert page.h1.get_text() == HOSTILE and page.find("b") is None and scripts(page) == []
    group = nodes(jsonld(page), "ProductGroup")[0]
    assert group["name"] == HOSTILE and group["hasVariant"][0]["color"] == HOSTILE
    assert page.find("meta", property="og:title")["content"] == HOSTILE
    assert page.select_one(".variant-name").get_text() == HOSTILE
    query = parse_qs(urlparse(page.select_one("a.buy-button")["href"]).query)
    assert query["subject"] == [f"Ordine: {HOSTILE} – {HOSTILE}"]
    assert f"\n{HOSTILE} – {HOSTILE}\n" in query["body"][0]
    card = parse(output / "prodotti" / "index.html").select_one(".product-card .card-title a")
    assert card.get_text() == HOSTILE


def test_keyword_list_tags_match_whatever_their_case():
    from shop.related import Candidate, ListQuery, rank_list

    item = Candidate(key="a", title="Cavo", tags=frozenset({"regalo"}), text="", price=Decimal("10"),
                     boost=Decimal("1"), available=True)
    query = ListQuery(keywords=(), tags=("Regalo",), pinned=(), max_price=None, limit=5)
    assert rank_list(query, [item]) == ["a"]
