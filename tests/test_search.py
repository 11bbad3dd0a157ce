"""Search: the price bands and records (pure), the index a build writes, its failures, and the page in a browser."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

import pytest
from bs4 import BeautifulSoup

from conftest import BuildFailed, parse
from servers import CHROMIUM, chromium, serving
from shop_fixtures import catalogue, product_fields, record

from search import records
from search.settings import SearchConfigurationError, SearchSettings
from shop import parse as shop_parse

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
NBSP = "\xa0"
LIMITS = (Decimal("50"), Decimal("150"), Decimal("500"), Decimal("1500"))
IT = records.Labels(lang="it", products="prodotti", posts="articoli",
                    availability={"in_stock": "Disponibile", "out_of_stock": "Esaurito",
                                  "preorder": "Disponibile in preordine", "backorder": "Su ordinazione"},
                    condition={"new": "Nuovo", "used": "Usato", "refurbished": "Ricondizionato"},
                    up_to="fino a %(price)s", between="%(low)s–%(high)s", over="oltre %(price)s",
                    from_price="da %(price)s")
EN = records.Labels(lang="en", products="products", posts="articles",
                    availability={"in_stock": "In stock", "out_of_stock": "Out of stock",
                                  "preorder": "Available to pre-order", "backorder": "On order"},
                    condition={"new": "New", "used": "Used", "refurbished": "Refurbished"})


# --- Price bands ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, labels, band", [
    ("9.00", IT, f"fino a 50{NBSP}€"),
    ("50.00", IT, f"fino a 50{NBSP}€"),  # a limit belongs to the band below it
    ("50.01", IT, f"50{NBSP}€–150{NBSP}€"),
    ("150.00", IT, f"50{NBSP}€–150{NBSP}€"),
    ("1219.00", IT, f"500{NBSP}€–1.500{NBSP}€"),
    ("1500.00", IT, f"500{NBSP}€–1.500{NBSP}€"),
    ("1500.01", IT, f"oltre 1.500{NBSP}€"),
    ("12.00", EN, "up to €50"),
    ("249.00", EN, "€150–€500"),
    ("4000", EN, "over €1,500"),
])
def test_a_price_falls_in_one_band_named_in_the_page_s_language(amount, labels, band):
    assert records.price_band(Decimal(amount), LIMITS, "EUR", labels) == band


def test_the_bands_are_listed_from_the_cheapest_and_each_price_is_in_one_of_them():
    bands = records.all_bands(LIMITS, "EUR", IT)
    assert bands == [f"fino a 50{NBSP}€", f"50{NBSP}€–150{NBSP}€", f"150{NBSP}€–500{NBSP}€",
                     f"500{NBSP}€–1.500{NBSP}€", f"oltre 1.500{NBSP}€"]
    for cents in range(0, 300000, 997):
        assert records.price_band(Decimal(cents) / 100, LIMITS, "EUR", IT) in bands


def test_a_limit_with_cents_keeps_them():
    assert records.whole_money(Decimal("49.90"), "EUR", "it") == f"49,90{NBSP}€"
    assert records.whole_money(Decimal("1500"), "EUR", "en") == "€1,500"


# --- Settings -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("settings, named", [
    ({"SEARCH_PAGES": {"en": "search/"}}, "SEARCH_PAGES"),
    ({"SEARCH_PAGES": {"it": "/cerca"}}, "SEARCH_PAGES['it']"),
    ({"SEARCH_PRICE_BANDS": ("150", "50")}, "SEARCH_PRICE_BANDS"),
    ({"SEARCH_PRICE_BANDS": ("0", "50")}, "SEARCH_PRICE_BANDS"),
    ({"SEARCH_PRICE_BANDS": ("cinquanta",)}, "SEARCH_PRICE_BANDS"),
    ({"SEARCH_OUTPUT": "../fuori"}, "SEARCH_OUTPUT"),
    ({"SEARCH_PAGE_SIZE": 0}, "SEARCH_PAGE_SIZE"),
])
def test_a_wrong_search_setting_is_named_with_how_to_fix_it(settings, named):
    with pytest.raises(SearchConfigurationError, match=r"^" + named.replace("[", r"\[")):
        SearchSettings.from_settings({"DEFAULT_LANG": "it", **settings})


def test_the_site_s_language_comes_first_and_others_fall_back_to_it():
    config = SearchSettings.from_settings({"DEFAULT_LANG": "it", "SEARCH_PAGES": {"en": "en/search/", "it": "cerca/"}})
    assert config.languages == ("it", "en")
    assert config.page_url("en") == "en/search/"
    assert config.page_url("de") == "cerca/"


# --- Records from the catalogue ---------------------------------------------------------------------------------

def catalogue_record(**fields):
    model = shop_parse.product(product_fields(**fields), default_currency="EUR", today=dt.date(2026, 11, 22),
                               image_exists=lambda src: True)
    page = record(model, url=f"prodotti/{model.slug}/")
    return page


def href(path):
    return "/" + path.lstrip("/")


def thumbnail(src):
    return f"/small/{src}"


def test_a_product_s_record_holds_its_facets_price_and_sort_keys():
    product = catalogue_record(variants=[
        {"sku": "T-RED", "options": {"color": "Rosso"}, "availability": "out_of_stock"},
        {"sku": "T-BLK", "options": {"color": "Nero"}, "price": "229.00", "availability": "preorder",
         "available_from": "2027-01-15"},
    ])
    found = records.product_record(product, IT, LIMITS, href, thumbnail, lambda amount, currency, lang: f"{amount} {currency}")
    assert found["url"] == "/prodotti/chitarra-di-prova/"
    assert found["language"] == "it"
    assert found["filters"] == {
        "type": ["prodotti"], "category": ["Chitarre"], "brand": ["Marca"], "condition": ["Usato"],
        "availability": ["Disponibile in preordine", "Esaurito"],  # both variants can be found, the best first
        "price": [f"150{NBSP}€–500{NBSP}€"],
    }
    assert found["meta"]["price"] == "da 229.00 EUR"  # the lowest offer, "from" with variants
    assert found["meta"]["availability"] == "Disponibile in preordine"
    assert found["meta"]["image"] == "/small/images/p.png"
    assert found["meta"]["image_alt"] == "Una chitarra"
    assert found["sort"] == {"price": "229.00", "date": str(int(product.date.timestamp()))}


def test_a_product_is_one_entry_with_a_record_per_language_and_its_body_for_the_text():
    product = catalogue_record(brand=None)
    entry = records.product_entry(product, {"it": IT, "en": EN}, LIMITS, href, thumbnail,
                                  lambda amount, currency, lang: str(amount), "<p>Tastiera <b>in acero</b></p>", "it")
    assert [r["language"] for r in entry.records] == ["it", "en"]
    assert [r["body"] for r in entry.records] == [True, False]  # its body is indexed in the language it is in
    assert [r["filters"]["type"] for r in entry.records] == [["prodotti"], ["products"]]
    assert "brand" not in entry.records[0]["filters"]  # no empty filter values
    assert entry.text.startswith("Chitarra di prova ")
    assert entry.html == "<p>Tastiera <b>in acero</b></p>"
    json.dumps(entry.message())  # what is sent to the indexing process is plain data


def test_facets_list_only_what_the_catalogue_has_in_the_records_own_words():
    products = [catalogue_record(), catalogue_record(slug="b", sku="B", brand="Altra", category="Bassi",
                                                       condition="new", availability="backorder",
                                                       available_from="2027-01-15")]
    facets = dict(records.facets(products, IT, LIMITS, "EUR"))
    assert facets["type"] == ["prodotti", "articoli"]
    assert facets["category"] == ["Bassi", "Chitarre"]
    assert facets["brand"] == ["Altra", "Marca"]
    assert facets["condition"] == ["Nuovo", "Usato"]
    assert facets["availability"] == ["Disponibile", "Su ordinazione"]
    assert len(facets["price"]) == 5


def test_a_record_marked_without_body_indexes_the_entry_s_text_only():
    from search.worker import contents

    entry = {"text": "Chitarra Marca", "html": "<p>Tastiera <b>in acero</b></p>",
             "records": [{"language": "it", "body": True}, {"language": "en", "body": False}, {"language": "de"}]}
    assert contents(entry) == ["Chitarra Marca Tastiera in acero", "Chitarra Marca", "Chitarra Marca Tastiera in acero"]
    assert contents({"text": "Solo", "html": "<p>x</p>", "records": [{"body": False}]}) == ["Solo"]


def test_the_worker_reads_a_body_s_text_without_its_scripts():
    from search.worker import text_of

    assert text_of("<h2>Corde</h2><p>Bronzo&nbsp;80/20 &amp; nichel</p><script>var x = 1;</script>") == \
        "Corde Bronzo 80/20 & nichel"


# --- The index a build writes ---------------------------------------------------------------------------------

POST = """Title: Come scegliere le corde
Date: 2026-10-01 10:00
Category: Guide
Summary: Scalature, materiali e quando cambiarle.
Lang: it

Le corde in bronzo fosforoso suonano calde.
"""


def fragments(folder: Path) -> list[dict]:
    """Every record of a Pagefind bundle, read from its fragments (gzip, then Pagefind's signature and JSON)."""
    found = []
    for path in sorted((folder / "fragment").glob("*.pf_fragment")):
        data = gzip.decompress(path.read_bytes())
        assert data.startswith(b"pagefind_dcd")
        found.append(json.loads(data[len(b"pagefind_dcd"):]))
    return found


@pytest.fixture
def shop_content():
    return {**catalogue(), "posts/corde.md": POST}


def test_a_build_writes_one_bundle_per_language_with_the_products_and_the_posts(build_site, shop_content):
    output = build_site(shop_content, SHOP_TODAY="2026-11-22")
    italian = fragments(output / "pagefind" / "it")
    by_url = {record["url"]: record for record in italian}
    assert set(by_url) == {"/prodotti/chitarra-di-prova/", "/prodotti/cavo-jack/", "/prodotti/basso/",
                           "/prodotti/piano/", "/prodotti/ebook/", "/blog/come-scegliere-le-corde/"}
    bass = by_url["/prodotti/basso/"]
    assert bass["meta"]["title"] == "Basso in offerta"
    assert bass["filters"]["condition"] == ["Ricondizionato"]
    assert bass["filters"]["price"] == [f"500{NBSP}€–1.500{NBSP}€"]  # the sale price, 1189
    assert "Descrizione della chitarra" in bass["content"]  # the body's text, not only the summary
    post = by_url["/blog/come-scegliere-le-corde/"]
    assert post["filters"] == {"type": ["articoli"]}
    assert "bronzo fosforoso" in post["content"]
    assert post["meta"]["date"] == "2026-10-01"
    english = {record["url"]: record for record in fragments(output / "pagefind" / "en")}
    assert english["/prodotti/basso/"]["filters"]["type"] == ["products"]
    assert "/blog/come-scegliere-le-corde/" not in english  # an Italian post is in the Italian index only
    entry = json.loads((output / "pagefind" / "it" / "pagefind-entry.json").read_text())
    assert list(entry["languages"]) == ["it"]
    assert (output / "pagefind" / "it" / "pagefind.js").is_file()
    assert not (output / "pagefind" / "it" / "pagefind-ui.js").exists()  # the ready-made UI is not published
    assert (output / "pagefind" / "it" / "pagefind-worker.js").is_file()  # where the search runs
    assert not [p for p in output.iterdir() if p.name.startswith(".pagefind")]


def test_a_failed_index_fails_the_build_and_leaves_the_last_index_as_it_was(build_site, shop_content, monkeypatch):
    output = build_site(shop_content, SHOP_TODAY="2026-11-22")
    before = sorted(p.relative_to(output) for p in (output / "pagefind").rglob("*"))
    # The fault, for real: Pagefind's binary is one that exits at once.
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/bin/false")
    with pytest.raises(BuildFailed) as failed:
        build_site({**shop_content, "posts/altro.md": POST.replace("Come scegliere", "Altro post")},
                   SHOP_TODAY="2026-11-22")
    assert any(message.startswith("Search: ") and "Pagefind" in message for message in failed.value.messages)
    assert sorted(p.relative_to(output) for p in (output / "pagefind").rglob("*")) == before
    assert not [p for p in output.iterdir() if p.name.startswith(".pagefind")]


def test_a_language_whose_records_did_not_change_keeps_its_bundle_and_nothing_changed_starts_no_index(
        build_site, shop_content, monkeypatch):
    output = build_site(shop_content, SHOP_TODAY="2026-11-22")
    bundle = output / "pagefind"
    italian, english = (bundle / "it" / "pagefind.js").stat().st_ino, (bundle / "en" / "pagefind.js").stat().st_ino
    stamp = (bundle / "it" / ".vetrina-records").read_text()
    # An Italian post added: the Italian bundle is made again, the English one is the same files, linked in.
    build_site({**shop_content, "posts/altro.md": POST.replace("Come scegliere", "Altro post")}, SHOP_TODAY="2026-11-22")
    assert (bundle / "it" / "pagefind.js").stat().st_ino != italian
    assert (bundle / "it" / ".vetrina-records").read_text() != stamp
    assert (bundle / "en" / "pagefind.js").stat().st_ino == english
    assert "/blog/altro-post-le-corde/" in {record["url"] for record in fragments(bundle / "it")}
    # Nothing changed: no indexing process at all (a Pagefind that fails at once would fail the build).
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", "/bin/false")
    folder = bundle.stat().st_ino
    build_site({**shop_content, "posts/altro.md": POST.replace("Come scegliere", "Altro post")}, SHOP_TODAY="2026-11-22")
    assert bundle.stat().st_ino == folder
    # A bundle cut short (its script gone) is not trusted, whatever its digest says: it is made again.
    (bundle / "en" / "pagefind.js").unlink()
    with pytest.raises(BuildFailed):
        build_site({**shop_content, "posts/altro.md": POST.replace("Come scegliere", "Altro post")},
                   SHOP_TODAY="2026-11-22")
    monkeypatch.delenv("PAGEFIND_BINARY_PATH")
    build_site({**shop_content, "posts/altro.md": POST.replace("Come scegliere", "Altro post")}, SHOP_TODAY="2026-11-22")
    assert (bundle / "en" / "pagefind.js").is_file()
    assert not [p for p in output.iterdir() if p.name.startswith(".pagefind")]


def test_search_off_writes_no_index_no_page_and_no_box(build_site, shop_content):
    output = build_site(shop_content, SHOP_TODAY="2026-11-22", SEARCH_ENABLED=False)
    assert not (output / "pagefind").exists()
    assert not (output / "cerca").exists()
    assert parse(output / "index.html").find("form", role="search") is None


# --- The pages ------------------------------------------------------------------------------------------------

def header_form(soup: BeautifulSoup):
    return soup.find("header").find("form", role="search")


@pytest.mark.parametrize("page, action", [("index.html", "/cerca/"), ("blog/comprare-chitarra-usata/index.html", "/cerca/"),
                                          ("en/blog/comprare-chitarra-usata/index.html", "/en/search/"),
                                          ("404.html", "/cerca/")])
def test_the_header_s_box_is_a_plain_get_form_to_the_page_s_search_page(demo_output, page, action):
    soup = parse(demo_output / page)
    form = header_form(soup)
    assert form["action"] == action and form["method"] == "get"
    field = form.find("input", attrs={"name": "q"})
    assert field["type"] == "search"
    assert soup.find("label", attrs={"for": field["id"]}).get_text(strip=True)


def test_the_404_page_offers_a_search_box_of_its_own(demo_output):
    soup = parse(demo_output / "404.html")
    boxes = soup.find_all("form", role="search")
    assert len(boxes) == 2
    assert len({box["aria-label"] for box in boxes}) == 2  # two search landmarks, told apart
    assert len({box.find("input")["id"] for box in boxes}) == 2


def test_the_search_page_has_its_filters_in_fieldsets_and_a_no_script_note(demo_output):
    soup = parse(demo_output / "cerca" / "index.html")
    assert soup.html["lang"] == "it"
    form = soup.find("form", id="search-form")
    assert form["action"] == "/cerca/" and form["method"] == "get"
    assert form["data-index"] == "/pagefind/it/pagefind.js"
    legends = [fieldset.legend.get_text(strip=True) for fieldset in form.find_all("fieldset")]
    assert legends == ["Mostra", "Categoria", "Marca", "Condizione", "Disponibilità", "Prezzo"]
    types = [box["value"] for box in form.find_all("input", attrs={"name": "type"})]
    assert types == ["prodotti", "articoli"]
    assert [o["value"] for o in form.find("select", attrs={"name": "sort"}).find_all("option")] == \
        ["", "price-asc", "price-desc", "newest"]
    note = soup.find("noscript")
    assert "JavaScript" in note.get_text() and note.find("a", href="/prodotti/") and note.find("a", href="/blog/")
    scripts = [script["src"] for script in soup.find_all("script", src=True)]
    assert "/theme/js/search.js" in scripts
    assert not any("pagefind" in src for src in scripts)  # Pagefind's script loads only when there is a search
    english = parse(demo_output / "en" / "search" / "index.html")
    assert english.html["lang"] == "en" and english.find("h1").get_text() == "Search"
    assert english.find("form", id="search-form")["data-index"] == "/pagefind/en/pagefind.js"


def test_only_the_search_page_loads_the_search_script(demo_output):
    for page in ("index.html", "prodotti/index.html", "blog/comprare-chitarra-usata/index.html"):
        assert not parse(demo_output / page).find("script", src="/theme/js/search.js"), page


def test_the_search_page_is_indexable_its_results_are_not_crawled_and_it_is_left_out_of_the_sitemap(
        demo_production):
    soup = parse(demo_production / "cerca" / "index.html")
    assert soup.find("meta", attrs={"name": "robots"}) is None
    assert soup.find("link", rel="canonical")["href"] == "https://www.cordeelegni.example/cerca/"
    sitemap = (demo_production / "sitemap.xml").read_text(encoding="utf-8")
    assert "/cerca/" not in sitemap and "/en/search/" not in sitemap
    assert "/prodotti/" in sitemap
    rules = [line.split(":", 1)[1].strip() for line in
             (demo_production / "robots.txt").read_text(encoding="utf-8").splitlines() if line.startswith("Disallow:")]
    assert rules == ["/cerca/?", "/en/search/?"]
    # Google's reading (RFC 9309): a rule is a prefix of the path and query, "?" a plain character.
    def allowed(path_and_query):
        return not any(path_and_query.startswith(rule) for rule in rules)

    assert allowed("/cerca/") and allowed("/en/search/") and allowed("/prodotti/")
    assert not allowed("/cerca/?q=chitarra") and not allowed("/en/search/?q=guitar&type=products")


# --- In a browser ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def browser():
    with chromium() as launched:
        yield launched


def result_titles(page) -> list[str]:
    return [" ".join(t.split()) for t in page.locator(".search-result .search-title").all_inner_texts()]


@pytest.mark.slow
@needs_chromium
def test_a_query_and_a_filter_find_the_product_and_the_url_keeps_them(demo_output, browser):
    with serving(demo_output) as origin:
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(origin + "/cerca/")
        page.fill("#search-query", "chitarra")
        page.wait_for_selector(".search-result")
        assert len(result_titles(page)) > 2  # posts and products
        page.check("input[name=category][value='Chitarre acustiche']")
        page.wait_for_function("document.querySelectorAll('.search-result').length === 1")
        assert result_titles(page) == ["Chitarra acustica Yamaha FG820 usata"]
        first = page.locator(".search-result").first
        assert "189,00" in first.locator(".search-price").inner_text()
        assert first.locator(".search-availability").inner_text() == "Disponibile"
        assert first.locator("img").get_attribute("src").endswith(".webp")
        assert first.locator("a").get_attribute("href") == "/prodotti/chitarra-acustica-yamaha-fg820/"
        assert "q=chitarra" in page.url and "category=Chitarre+acustiche" in page.url

        # The URL is the result list: opened again, it shows the same.
        linked = browser.new_page()
        linked.goto(page.url)
        linked.wait_for_selector(".search-result")
        assert linked.input_value("#search-query") == "chitarra"
        assert result_titles(linked) == ["Chitarra acustica Yamaha FG820 usata"]

        # Products only, dearest first: every result has a price, in order.
        linked.goto(origin + "/cerca/?type=prodotti&sort=price-desc")
        linked.wait_for_selector(".search-result")
        prices = linked.locator(".search-result .search-price").all_inner_texts()
        amounts = [Decimal(p.split()[-2].replace(".", "").replace(",", ".")) for p in prices]
        assert amounts == sorted(amounts, reverse=True) and len(amounts) == 12
        assert errors == []


@pytest.mark.slow
@needs_chromium
def test_the_header_box_leads_to_results_and_without_javascript_to_the_note(demo_output, browser):
    with serving(demo_output) as origin:
        page = browser.new_page()
        page.goto(origin + "/blog/")
        page.fill("header input[name=q]", "violino")
        page.press("header input[name=q]", "Enter")
        page.wait_for_url("**/cerca/?q=violino")
        page.wait_for_selector(".search-result")
        assert any("Violino" in title or "violino" in title for title in result_titles(page))

        context = browser.new_context(java_script_enabled=False)
        plain = context.new_page()
        plain.goto(origin + "/blog/")
        plain.fill("header input[name=q]", "violino")
        plain.press("header input[name=q]", "Enter")
        plain.wait_for_url("**/cerca/?q=violino")
        assert plain.locator("noscript").count() == 1
        assert "JavaScript" in plain.locator("main").inner_text()
        context.close()


@pytest.mark.slow
@needs_chromium
def test_a_linked_result_list_searches_in_pagefind_s_worker_within_the_page_weight_budget(demo_output, browser):
    """The page speaks to Pagefind's worker itself: pagefind.js (its own copy of the engine) is not loaded, and
    the first view of a linked result list stays within 30 kB of gzipped HTML, CSS and JavaScript."""
    with serving(demo_output) as origin:
        page = browser.new_page()
        fetched: list[str] = []
        page.on("request", lambda request: fetched.append(urlparse(request.url).path))
        page.goto(origin + "/cerca/?q=corde")
        page.wait_for_selector(".search-result")
        assert result_titles(page)
        assert "/pagefind/it/pagefind-worker.js" in fetched
        assert not [path for path in fetched if path.endswith("/pagefind.js")]
        code = [path for path in fetched if path.endswith((".js", ".css")) or path.endswith("/")]
        weight = sum(len(gzip.compress((demo_output / (path.lstrip("/") or ".")).joinpath("index.html").read_bytes()
                                       if path.endswith("/") else (demo_output / path.lstrip("/")).read_bytes(), 9))
                     for path in code)
        assert weight <= 30 * 1024, (weight, code)

        # Without web workers, pagefind.js searches on the page's thread: the same results.
        nothing = browser.new_page()
        nothing.add_init_script("delete window.Worker")
        nothing.goto(origin + "/cerca/?q=corde")
        nothing.wait_for_selector(".search-result")
        assert result_titles(nothing) == result_titles(page)
