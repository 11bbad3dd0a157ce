"""The catalogue contract: one price everywhere, one rating, reviews per variant, mentions from the source, imports."""

from __future__ import annotations

import ast
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import feedparser
from babel.numbers import parse_decimal
from bs4 import BeautifulSoup
from conftest import ROOT, jsonld, nodes, parse, post, run_build, write_content
from lxml import etree
from pelican.settings import read_settings
from shop_fixtures import catalogue, product_file
from test_checkout import EXPECTED, TODAY, button_prices, visible_prices

from shop.model import Review, price_text, price_with_currency, rating_of

PLUGINS = ROOT / "plugins"
G = "{http://base.google.com/ns/1.0}"


# --- pure --------------------------------------------------------------------------
def review(rating: int, product: str = "T-1") -> Review:
    return Review(product, "Cliente", dt.date(2026, 10, 1), rating, "", "<p>Bene.</p>", "Bene.", "r.md")


def test_one_price_serialiser():
    assert price_text(Decimal("249")) == "249.00" == price_text(Decimal("249.004"))
    assert price_with_currency(Decimal("1299.5"), "EUR") == "1299.50 EUR"


def test_one_rating_rounds_half_up_for_page_and_json_ld():
    # 93 points over 20 reviews: 4.65, which half-even rounding made 4.6 on the page and :.1f 4.7 in JSON-LD.
    rating = rating_of([review(5)] * 13 + [review(4)] * 7)
    assert (rating.value, rating.value_text, rating.count) == (Decimal("4.7"), "4.7", 20)
    assert rating_of([]) is None


# --- builds ------------------------------------------------------------------------
def reviews_of(product: str, ratings) -> dict:
    return {f"reviews/{product}-{n}.md": f"---\nproduct: {product}\nauthor: Cliente {n}\ndate: 2026-10-{n % 28 + 1:02d}\n"
                                         f"rating: {rating}\ntitle: Recensione {n}\n---\nTesto della recensione {n}.\n"
            for n, rating in enumerate(ratings, start=1)}


def test_page_and_json_ld_show_the_same_rounded_rating(build_site):
    output = build_site({**catalogue(), **reviews_of("T-1", [5] * 13 + [4] * 7)}, SHOP_TODAY=TODAY)
    page = parse(output / "prodotti/chitarra-di-prova/index.html")
    assert "4,7 su 5" in page.select_one(".product-info .rating").get_text(" ", strip=True)
    assert "4,7" in page.select_one(".reviews .rating").get_text()
    product = nodes(jsonld(page), "Product")[0]
    assert product["aggregateRating"]["ratingValue"] == "4.7" and product["aggregateRating"]["ratingCount"] == 20


def test_a_review_of_one_variant_is_on_that_variant_only(build_site):
    content = {**catalogue(), **reviews_of("CAB-6", [5]), **reviews_of("CAB", [3])}
    output = build_site(content, SHOP_TODAY=TODAY)
    group = nodes(jsonld(parse(output / "prodotti/cavo-jack/index.html")), "ProductGroup")[0]
    variants = {variant["sku"]: variant for variant in group["hasVariant"]}
    assert [r["reviewRating"]["ratingValue"] for r in variants["CAB-6"]["review"]] == [5]
    assert variants["CAB-6"]["aggregateRating"]["ratingValue"] == "5.0"
    assert "review" not in variants["CAB-3"] and "aggregateRating" not in variants["CAB-3"]
    assert group["aggregateRating"]["ratingCount"] == 2 and len(group["review"]) == 2


def test_only_published_posts_are_posts_that_talk_about_a_product(build_site):
    content = {
        **catalogue(),
        # A product whose description shows another product's card, and a page with a card: neither is a post.
        "products/chitarra.md": product_file(body="Con il suo cavo:\n\n[[prodotto: cavo-jack]]"),
        "pages/consigli.md": "Title: Consigli\nSlug: consigli\nSummary: Una pagina di consigli.\n\n"
                             "Il nostro cavo:\n\n[[prodotto: cavo-jack]]\n",
        "posts/a.md": post(title="Il cavo giusto", slug="cavo-giusto", body="Eccolo:\n\n[[prodotto: CAB]]"),
    }
    output = build_site(content, SHOP_TODAY=TODAY)
    cable = parse(output / "prodotti/cavo-jack/index.html")
    listed = [a.get_text() for a in cable.select("#mentioned-in + ul a")]
    assert listed == ["Il cavo giusto"]
    for path in ("prodotti/chitarra-di-prova/index.html", "consigli/index.html", "blog/cavo-giusto/index.html"):
        card = parse(output / path).select_one("aside.product-embed a")
        assert card is not None and card["href"] == "/prodotti/cavo-jack/", path


def test_mentions_are_recorded_from_the_source_into_the_metadata():
    import markdown

    from shop.catalog import MENTIONS_KEY, mention_references
    from shop.embeds import ProductEmbedExtension

    converter = markdown.Markdown(extensions=["meta", ProductEmbedExtension()])
    converter.convert("Title: Prova\n\n[[prodotto: a]]\n\nTesto.\n\n[[product: B-1]]\n\n[[prodotto: a]]\n")
    assert converter.Meta[MENTIONS_KEY] == ["a, B-1"]
    assert mention_references({MENTIONS_KEY: "a, B-1"}) == ("a", "B-1")


def amount_of(text: str) -> Decimal:
    return parse_decimal(text.replace("€", "").replace("da", "").replace("\xa0", "").strip(), locale="it")


def test_one_price_on_page_button_json_ld_snipcart_merchant_shop_json_and_newsletter(tmp_path):
    """Every place a price appears carries the amount of the product's Offer on TODAY."""
    from newsletter import run

    content = tmp_path / "content"
    write_content(content, {**catalogue(), "posts/a.md": post(
        title="Prima guida", slug="prima", date="2026-11-20 10:00", uid="11111111-2222-4333-8444-555555555555",
        body="Il basso:\n\n[[prodotto: basso]]\n\nIl cavo:\n\n[[prodotto: cavo-jack]]")})
    output = run_build(content, tmp_path / "output", "publishconf.py", SHOP_TODAY=TODAY, SHOP_CHECKOUT="snipcart",
                       SHOP_SNIPCART_API_KEY="pk_test")
    lowest = {"T-1": EXPECTED["T-1"], "CAB": EXPECTED["CAB-3"], "B-1": EXPECTED["B-1"], "P-1": EXPECTED["P-1"],
              "EB-1": EXPECTED["EB-1"]}

    assert visible_prices(output) == EXPECTED
    assert button_prices(output) == {sku: amount for sku, amount in EXPECTED.items() if sku != "P-1"}
    in_json_ld = {}
    for path in (output / "prodotti").glob("*/index.html"):
        for node in jsonld(parse(path))["@graph"]:
            for product in [node] if node.get("@type") == "Product" else node.get("hasVariant", []):
                in_json_ld[product["sku"]] = Decimal(product["offers"]["price"])
    assert in_json_ld == EXPECTED
    snipcart = json.loads((output / "snipcart-products.json").read_text(encoding="utf-8"))
    assert {entry["id"]: Decimal(str(entry["price"])) for entry in snipcart} == EXPECTED
    merchant = etree.parse(str(output / "feeds/merchant.xml")).getroot()
    in_merchant = {}
    for item in merchant.iter("item"):
        amount, currency = (item.findtext(f"{G}sale_price") or item.findtext(f"{G}price")).split()
        in_merchant[item.findtext(f"{G}id")] = Decimal(amount)
        assert currency == "EUR"
    assert in_merchant == EXPECTED
    shop_json = json.loads((output / "shop.json").read_text(encoding="utf-8"))
    assert {offer["sku"]: Decimal(offer["price"]) for p in shop_json["products"] for offer in p["offers"]} == EXPECTED
    assert {p["id"]: Decimal(p["lowest_offer"]["price"]) for p in shop_json["products"]} == lowest
    cart_json = json.loads((output / "cart.json").read_text(encoding="utf-8"))  # what the cart computes with
    assert {sku: Decimal(entry[1]) for sku, entry in cart_json["offers"].items()} == EXPECTED
    assert {sku for sku, entry in cart_json["offers"].items() if not entry[3]} == {"P-1"}  # sold out
    assert all(p["url"].startswith("https://") for p in shop_json["products"])

    by_url = {p["url"]: p["id"] for p in shop_json["products"]}

    def card_prices(html: str) -> dict:
        """product id -> amount shown, for each e-mail product card (a table) in some HTML."""
        found = {}
        for image_cell in BeautifulSoup(html, "html.parser").find_all("td", attrs={"width": "136"}):
            card = image_cell.find_parent("table")
            link = card.find("a", href=True)
            found[by_url[link["href"].split("?")[0]]] = amount_of(card.find("strong").get_text())
        return found

    feed = feedparser.parse(str(output / "feeds/newsletter.xml"))
    in_feed = {}
    for entry in feed.entries:
        in_feed.update(card_prices(entry.content[0].value))
    assert in_feed == {"B-1": lowest["B-1"], "CAB": lowest["CAB"]}

    settings = read_settings(str(ROOT / "publishconf.py"), override={"THEME": str(ROOT / "theme"), "SHOP_TODAY": TODAY})
    result = run(tmp_path, settings, output, send=False, today=dt.date(2026, 11, 22))
    in_email = card_prices(result.preview[0].read_text(encoding="utf-8"))
    assert in_email and in_email == {sku: lowest[sku] for sku in in_email}
    assert "B-1" in in_email  # on sale since 2026-11-15: announced, with its card


# --- the contract in the source ------------------------------------------------------
def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
    return found


def test_other_plugins_read_the_shop_only_through_its_catalogue():
    for plugin in ("seo", "feeds", "newsletter", "comments", "core"):
        allowed = set() if plugin in ("comments", "core") else {"shop.catalog"}
        for path in (PLUGINS / plugin).glob("*.py"):
            shop_imports = {m for m in imported_modules(path) if m == "shop" or m.startswith("shop.")}
            assert shop_imports <= allowed, f"{path.relative_to(ROOT)} imports {sorted(shop_imports - allowed)}"


def test_no_attribute_proxies_and_no_hand_joined_urls():
    for path in PLUGINS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                methods = {item.name for item in node.body if isinstance(item, ast.FunctionDef)}
                assert "__getattr__" not in methods, f"{path.relative_to(ROOT)}: {node.name} defines __getattr__"
    for template in (ROOT / "theme" / "templates").rglob("*.html"):
        assert "{{ SITEURL }}/{{" not in template.read_text(encoding="utf-8"), template.relative_to(ROOT)


def test_only_core_reads_the_business_settings():
    for path in [*PLUGINS.rglob("*.py"), ROOT / "engine" / "tasks.py", *(ROOT / "theme" / "templates").rglob("*.html")]:
        if path.parent.name == "core":
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".py":  # names in code, not words in messages
            names = {n.value for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Constant)
                     and isinstance(n.value, str) and n.value.startswith("BUSINESS_")}
            names |= {n.id for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Name) and n.id.startswith("BUSINESS_")}
        else:
            names = {word for word in text.replace("}", " ").replace("{", " ").split() if word.startswith("BUSINESS_")}
        assert not names, f"{path.relative_to(ROOT)} reads {sorted(names)}"


def test_nothing_splits_a_rendered_title():
    for path in PLUGINS.rglob("*.py"):
        assert 'split(" · ")' not in path.read_text(encoding="utf-8"), path.relative_to(ROOT)


def test_tasks_only_wire_tasks_to_modules():
    tree = ast.parse((ROOT / "engine" / "tasks.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            decorators = {getattr(d, "id", getattr(getattr(d, "func", None), "id", None)) for d in node.decorator_list}
            assert "task" in decorators, f"tasks.py: {node.name} is not a task"
        assert not isinstance(node, ast.ClassDef), f"tasks.py defines class {node.name}"



def test_review_text_is_cleaned_like_a_comment(build_site):
    hostile = ("---\nproduct: T-1\nauthor: Cliente\ndate: 2026-10-01\nrating: 4\ntitle: Bella\n---\n"
               "Suona bene <img src=x onerror=\"alert(1)\"> <a href=\"javascript:alert(2)\" onclick=\"x()\">qui</a>"
               "<script>alert(3)</script> e <em>costa poco</em>.\n")
    output = build_site({**catalogue(), "reviews/t-1.md": hostile}, SHOP_TODAY=TODAY)
    text = parse(output / "prodotti/chitarra-di-prova/index.html").select_one(".review-text")
    assert text.find("em").get_text() == "costa poco"
    assert not text.find_all(["img", "script"]) and "alert(3)" not in text.get_text()
    assert all(not a.get("onclick") and not a.get("href", "").startswith("javascript:") for a in text.find_all("a"))


def test_cached_comments_are_cleaned_again():
    from comments import record

    comment = record.comment_from_dict({"id": 1, "author": "A", "website": "", "created": "2026-10-01T10:00:00+00:00",
                                      "html": "<p>Ciao</p><script>alert(1)</script>", "replies": [
                                          {"id": 2, "author": "B", "website": "", "created": "2026-10-02T10:00:00+00:00",
                                           "html": "<p onclick='x()'>Risposta</p>", "replies": []}]}, "comment")
    assert comment.html == "<p>Ciao</p>" and comment.replies[0].html == "<p>Risposta</p>"


def test_free_form_variant_options_are_shown_but_only_googles_are_variant_dimensions(build_site):
    cable = product_file(title="Cavo lungo", slug="cavo-lungo", sku="CL", category="Cavi", variants=[
        {"sku": "CL-3", "options": {"Colore": "Nero", "Lunghezza": "3 m"}},
        {"sku": "CL-6", "options": {"Colore": "Rosso", "Lunghezza": "6 m"}, "price": "19.00"}])
    output = build_site({**catalogue(), "products/cavo-lungo.md": cable}, SHOP_TODAY=TODAY)
    page = parse(output / "prodotti/cavo-lungo/index.html")
    assert [h.get_text() for h in page.select(".variant-name")] == ["Nero, 3 m", "Rosso, 6 m"]
    group = nodes(jsonld(page), "ProductGroup")[0]
    assert group["variesBy"] == ["https://schema.org/color"]
    variant = group["hasVariant"][0]
    assert variant["color"] == "Nero" and "Lunghezza" not in variant
    assert variant["additionalProperty"] == [{"@type": "PropertyValue", "name": "Lunghezza", "value": "3 m"}]
    merchant = etree.parse(str(output / "feeds/merchant.xml")).getroot()
    item = next(i for i in merchant.iter("item") if i.findtext(f"{G}id") == "CL-6")
    assert item.findtext(f"{G}color") == "Rosso" and item.find(f"{G}Lunghezza") is None


def test_cards_work_with_formatted_summaries_and_unknown_references_leave_no_placeholder(build_site):
    content = {**catalogue(), "posts/a.md": post(title="Due schede", slug="due", summary="Un *riassunto* formattato.",
                                                 body="Il basso:\n\n[[prodotto: basso]]\n\nE poi:\n\n[[prodotto: nessuno]]")}
    output = build_site(content, SHOP_TODAY=TODAY, FORMATTED_FIELDS=["summary"], allowed=("nessuno",))
    assert any("posts/a.md" in m and "nessuno" in m for m in run_build.last_messages)
    page = parse(output / "blog/due/index.html")
    assert [a["href"] for a in page.select("aside.product-embed a")] == ["/prodotti/basso/"]
    assert page.find(attrs={"data-vetrina-product": True}) is None


def test_a_translation_is_not_a_related_post_of_the_product(build_site):
    body = "Il basso:\n\n[[prodotto: basso]]"
    content = {**catalogue(),
               "posts/a.md": post(title="Il basso", slug="basso-guida", body=body),
               "posts/a-en.md": post(title="The bass", slug="basso-guida", lang="en", translation="true", body=body)}
    output = build_site(content, SHOP_TODAY=TODAY)
    related = [a["href"] for a in parse(output / "prodotti/basso/index.html").select("#related-posts ~ .cards a")]
    assert "/blog/basso-guida/" in related and not any(href.startswith("/en/") for href in related)
