"""JSON-LD: each node kind from dicts, the checks against Google's rules, and the demo's graphs."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from conftest import BuildFailed, html_pages, jsonld, nodes, parse, post
from shop_fixtures import PNG, catalogue, product_file, record

from core.settings import Business
from seo import schema, validate
from shop.catalog import SoldOffer
from shop.model import Availability, Image, Offer

SITE = schema.Site(
    url="https://shop.example", lang="it", logo="https://shop.example/logo.png", logo_size=(512, 512),
    business=Business(name="Bottega", legal_name="Bottega S.r.l.", street="Via Roma 1", postal_code="40100",
                      city="Bologna", region="BO", country="IT", vat_id="IT03947120378", email="a@shop.example",
                      phone="+39 1"),
    same_as=("https://social.example/bottega",), languages=("it", "en"))
ISO_OFFSET = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$")


def graph_of(*found: dict) -> dict:
    return {"@context": schema.CONTEXT, "@graph": [schema.organization(SITE, None, None), schema.website(SITE), *found]}


# --- nodes from dicts ------------------------------------------------------------
def test_organization_declares_shop_wide_policies_once():
    returns = schema.return_policy(SITE, 14, ("IT",), True, "https://shop.example/resi/")
    shipping = schema.shipping_service(SITE, "standard", Decimal("19.90"), "EUR", ("IT",), Decimal("150.00"),
                                       (1, 2), (1, 3))
    node = schema.organization(SITE, returns, shipping)
    assert node["@id"] == "https://shop.example/#organization" and node["vatID"] == "IT03947120378"
    assert node["hasMerchantReturnPolicy"]["merchantReturnDays"] == 14
    assert node["hasMerchantReturnPolicy"]["returnFees"] == "https://schema.org/ReturnFeesCustomerResponsibility"
    rates = [(c["orderValue"], c["shippingRate"]["value"]) for c in node["hasShippingService"]["shippingConditions"]]
    assert rates == [({"@type": "MonetaryAmount", "currency": "EUR", "maxValue": "149.99"}, "19.90"),
                     ({"@type": "MonetaryAmount", "currency": "EUR", "minValue": "150.00"}, "0.00")]
    assert node["sameAs"] == ["https://social.example/bottega"]


def test_website_has_no_retired_search_action():
    assert "potentialAction" not in schema.website(SITE)


def test_breadcrumbs_run_from_one_with_item_urls():
    node = schema.breadcrumb_list("https://shop.example/a/", [("Home", "https://shop.example/"),
                                                              ("A", "https://shop.example/a/")])
    assert [(i["position"], i["item"]) for i in node["itemListElement"]] == [
        (1, "https://shop.example/"), (2, "https://shop.example/a/")]


def sale_offer() -> Offer:
    return Offer(sku="S", price=Decimal("89.00"), currency="EUR", availability=Availability.PREORDER,
                 regular_price=Decimal("99.00"), on_sale=True, sale_ends=dt.date(2027, 1, 31),
                 lowest_30_days=Decimal("95.00"))


def test_offer_on_sale_carries_the_strikethrough_price_and_its_end():
    sold = SoldOffer(sale_offer(), None, "p/", "S", Image("i.jpg", "I"), "", "")
    node = schema.offer(SITE, sold, "https://shop.example/p/", "https://schema.org/NewCondition", None,
                        schema.OfferTerms(dt.date(2027, 12, 31)))
    assert (node["price"], node["priceCurrency"], node["priceValidUntil"]) == ("89.00", "EUR", "2027-01-31")
    assert node["availability"] == "https://schema.org/PreOrder"
    strike = [s for s in node["priceSpecification"] if s.get("priceType") == "https://schema.org/StrikethroughPrice"]
    assert strike == [{"@type": "UnitPriceSpecification", "priceType": "https://schema.org/StrikethroughPrice",
                       "price": "99.00", "priceCurrency": "EUR"}]
    assert node["seller"] == {"@id": SITE.organization_id}


def test_blog_posting_has_iso_dates_authors_and_mentions():
    published = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    node = schema.blog_posting(
        SITE, url="https://shop.example/blog/a/", headline="Titolo", description="Desc", lang="it",
        published=published, modified=None,
        authors=[schema.person_or_organization("Ada", "https://shop.example/autore/ada/", False)],
        image=None, keywords=["corde"], section="Guide", mentions=["https://shop.example/p/#product"])
    assert node["datePublished"] == "2026-03-01T10:00:00+01:00" == node["dateModified"]
    assert node["author"] == [{"@type": "Person", "name": "Ada", "url": "https://shop.example/autore/ada/"}]
    assert node["mentions"] == [{"@id": "https://shop.example/p/#product"}]
    assert node["publisher"] == {"@id": SITE.organization_id}


# --- the checks ----------------------------------------------------------------
def test_checks_find_missing_required_product_properties():
    product = {"@type": "Product", "name": "X", "offers": {"@type": "Offer", "price": "0", "priceCurrency": "EURO",
                                                           "availability": "InStock"}}
    errors = validate.check_graph(graph_of(product)).errors
    assert any("image is missing" in e for e in errors)
    assert any("offers.price" in e for e in errors)
    assert any("priceCurrency" in e for e in errors)
    assert any("availability" in e for e in errors)


def test_checks_find_bad_articles_breadcrumbs_and_dangling_references():
    article = {"@type": "BlogPosting", "headline": "", "datePublished": "2026-03-01", "author": [{"url": "x"}],
               "publisher": {"@id": "https://elsewhere.example/#org"}}
    crumbs = {"@type": "BreadcrumbList", "itemListElement": [{"@type": "ListItem", "position": 2, "name": "A"}]}
    errors = validate.check_graph(graph_of(article, crumbs)).errors
    for expected in ("headline is missing", "datePublished", "author must have a name", "positions must run",
                     "not in the graph"):
        assert any(expected in e for e in errors), expected


def test_checks_report_missing_recommended_properties_without_failing():
    offer = {"@type": "Offer", "price": "10.00", "priceCurrency": "EUR", "availability": "https://schema.org/InStock"}
    findings = validate.check_graph(graph_of({"@type": "Product", "name": "X", "image": ["i"], "offers": offer}))
    assert findings.errors == []
    assert ("Product", "brand") in findings.recommended and ("Product", "gtin/mpn") in findings.recommended


# --- whole builds ----------------------------------------------------------------
def test_every_demo_page_has_one_valid_connected_graph(demo_production):
    kinds, defined, referenced = set(), {}, {}
    for path in html_pages(demo_production):
        graph = jsonld(parse(path))
        assert validate.check_graph(graph).errors == [], path
        text = json.dumps(graph)
        defined[path] = set(re.findall(r'"@id": "([^"]+)", "@type"', text)) | {
            n["@id"] for n in graph["@graph"] if "@id" in n}
        referenced[path] = set(re.findall(r'\{"@id": "([^"]+)"\}', text))
        assert "SearchAction" not in text
        kinds |= {node["@type"] for node in graph["@graph"]}
    everywhere = set().union(*defined.values())
    for path, references in referenced.items():
        # A reference resolves on the page itself, or (a post's mentions) on the page that defines the product.
        assert references <= everywhere, (path, references - everywhere)
        outside = references - defined[path]
        assert all(ref.endswith("#product") for ref in outside), (path, outside)
    assert {"OnlineStore", "WebSite", "BreadcrumbList", "BlogPosting", "Product", "ProductGroup", "CollectionPage",
            "ItemList", "ItemPage", "AboutPage", "ContactPage"} <= kinds


def test_demo_post_mentions_the_products_it_embeds(demo_production):
    page = parse(demo_production / "blog" / "cambiare-corde-acustica" / "index.html")
    posting = nodes(jsonld(page), "BlogPosting")[0]
    card = page.select_one(".product-embed a")["href"]
    product = parse(demo_production / card.split("example/", 1)[1] / "index.html")
    product_id = next(n["@id"] for n in jsonld(product)["@graph"] if n["@type"] in ("Product", "ProductGroup"))
    assert {"@id": product_id} in posting["mentions"]
    assert ISO_OFFSET.match(posting["datePublished"]) and ISO_OFFSET.match(posting["dateModified"])
    assert posting["author"][0]["@type"] == "Organization"  # the shop's editorial team is not a person
    assert posting["image"]["url"].endswith(".jpg") and posting["image"]["width"] == 1200


def test_json_ld_offers_carry_the_page_prices(build_site):
    from test_checkout import EXPECTED, TODAY

    output = build_site(catalogue(), "publishconf.py", SHOP_TODAY=TODAY)
    found = {}
    for path in (output / "prodotti").glob("*/index.html"):
        for node in jsonld(parse(path))["@graph"]:
            products = node.get("hasVariant", [node]) if node["@type"] in ("Product", "ProductGroup") else []
            for item in products:
                found[item["sku"]] = (Decimal(item["offers"]["price"]), item["offers"]["priceCurrency"])
    assert found == {sku: (amount, "EUR") for sku, amount in EXPECTED.items()}


@pytest.mark.parametrize("missing", ["price", "images"])
def test_removing_price_or_image_fails_the_build_naming_the_file(build_site, missing):
    with pytest.raises(BuildFailed) as failure:
        build_site({"images/p.png": PNG, "products/senza.md": product_file(**{missing: None})})
    assert any("senza.md" in m and f"'{missing}'" in m for m in failure.value.messages)


def test_organization_authors_and_people(build_site):
    output = build_site({"posts/a.md": post(author="Ada Lovelace")}, "publishconf.py")
    posting = nodes(jsonld(parse(output / "blog" / "una-prova" / "index.html")), "BlogPosting")[0]
    assert posting["author"] == [{"@type": "Person", "name": "Ada Lovelace",
                                  "url": "https://www.cordeelegni.example/blog/autore/ada-lovelace/"}]


def test_every_offer_declares_shipping_returns_and_validity(build_site):
    from test_checkout import TODAY

    output = build_site(catalogue(), "publishconf.py", SHOP_TODAY=TODAY)
    cable = nodes(jsonld(parse(output / "prodotti" / "cavo-jack" / "index.html")), "ProductGroup")[0]
    for variant in cable["hasVariant"]:
        offer = variant["offers"]
        assert offer["priceValidUntil"] == "2027-11-22"  # the build day plus SHOP_PRICE_VALID_DAYS
        assert offer["hasMerchantReturnPolicy"] == {"@id": "https://www.cordeelegni.example/#return-policy"}
        assert offer["shippingDetails"]["shippingRate"]["value"] == "19.90"  # below the free-shipping threshold
    bass = nodes(jsonld(parse(output / "prodotti" / "basso" / "index.html")), "Product")[0]
    assert bass["offers"]["priceValidUntil"] == "2027-06-30"  # the sale's own end
    assert bass["offers"]["shippingDetails"]["shippingRate"]["value"] == "0.00"  # 1189.00 ships free
    ebook = nodes(jsonld(parse(output / "prodotti" / "ebook" / "index.html")), "Product")[0]
    assert ebook["offers"]["shippingDetails"]["deliveryTime"]["transitTime"]["maxValue"] == 0


def test_product_group_from_a_parsed_product():
    import yaml

    from shop import parse

    fields = yaml.safe_load(product_file().split("---")[1])
    fields["variants"] = [{"sku": "V-R", "options": {"color": "Rossa"}},
                          {"sku": "V-N", "options": {"color": "Nera"}, "price": "239.00"}]
    model = parse.product(fields, default_currency="EUR", today=dt.date(2026, 11, 22), image_exists=lambda src: True)
    node = schema.product(SITE, record(model), url="https://shop.example/p/", images=["https://shop.example/i.jpg"],
                          absolute=lambda path: f"https://shop.example/{path}", shipping_for=lambda sold: None,
                          terms=schema.OfferTerms(dt.date(2027, 1, 1)))
    assert node["@type"] == "ProductGroup" and node["productGroupID"] == "T-1"
    assert node["variesBy"] == ["https://schema.org/color"]
    assert [(v["sku"], v["color"], v["offers"]["price"]) for v in node["hasVariant"]] == [
        ("V-R", "Rossa", "249.00"), ("V-N", "Nera", "239.00")]
    assert all(v["inProductGroupWithID"] == "T-1" for v in node["hasVariant"])
    assert validate.check_graph(graph_of(node)).errors == []


def test_the_organization_and_website_nodes_are_built_once_per_generator_not_per_page(build_site, monkeypatch):
    from seo import graph

    calls = []
    original = graph.site_nodes
    monkeypatch.setattr(graph, "site_nodes", lambda site, context: calls.append(1) or original(site, context))
    posts = {f"posts/p{n}.md": post(title=f"Prova {n}", slug=f"prova-{n}", date=f"2026-03-0{n} 10:00")
             for n in range(1, 6)}
    out = build_site({**catalogue(), **posts}, "publishconf.py")
    graphs = [jsonld(parse(page)) for page in html_pages(out) if parse(page).find("script", type="application/ld+json")]
    assert len(graphs) > 15
    organizations = [json.dumps(nodes(g, "OnlineStore"), sort_keys=True) for g in graphs]
    assert len(set(organizations)) == 1 and json.loads(organizations[0])[0]["hasMerchantReturnPolicy"]
    assert 1 <= len(calls) <= 6  # once per generator that writes pages (posts, pages, shop...), whatever the count
