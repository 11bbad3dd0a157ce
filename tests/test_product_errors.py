"""Bad product files: each error names the file and the field, and the product is not rendered.

The fields themselves are checked by the pure parser, case by case, without building a site.
What only a build can show (the file's path in the message, every bad file reported, checks
the generator makes across files or after parsing) is in the few build tests at the end.
"""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from conftest import BuildFailed
from shop import frontmatter, parse
from shop.model import ProductError
from shop_fixtures import BASE_PRODUCT, PNG, product_fields, product_file

TODAY = dt.date(2026, 11, 22)
IMAGES = {"images/p.png"}  # the content folder's images, as the build's image_exists sees them


def parse_product(fields: dict):
    """parse.product with the settings a default build passes (EUR, one 'standard' shipping class)."""
    return parse.product(fields, default_currency="EUR", today=TODAY, image_exists=IMAGES.__contains__,
                         shipping_classes=("standard",), default_shipping_class="standard")


# (case id, field overrides of BASE_PRODUCT (None removes the field), field named by the error, words in its message)
BAD_FIELDS = [
    ("unknown availability", {"availability": "maybe"}, "availability", ["'maybe'", "in_stock"]),
    ("non-numeric price", {"price": "dodici"}, "price", ["number", "'dodici'"]),
    ("negative price", {"price": "-5.00"}, "price", ["greater than zero", "-5.00"]),
    ("bad currency", {"currency": "EUX"}, "currency", ["'EUX'", "ISO 4217"]),
    ("sale price not below the price", {"sale": {"price": "260.00"}}, "sale.price",
     ["260.00", "lower than", "249.00"]),
    ("sale end before start", {"sale": {"price": "200.00", "start": "2026-11-20", "end": "2026-11-10"}},
     "sale.end", ["2026-11-10", "before", "2026-11-20"]),
    ("sale without a start", {"sale": {"price": "200.00"}}, "sale.start", ["required"]),
    ("history disagreeing with the price",
     {"sale": {"price": "200.00", "start": "2026-11-15"}, "price_history": [{"date": "2026-10-01", "price": "260.00"}]},
     "price_history", ["2026-11-15", "260.00", "249.00"]),
    ("variant without sku", {"variants": [{"options": {"color": "Rossa"}}]}, "variants[0].sku", ["required"]),
    ("variant option without a value", {"variants": [{"sku": "V", "options": {"Lunghezza": None}}]},
     "variants[0].options.Lunghezza", ["name and a value"]),
    ("variant option named twice", {"variants": [{"sku": "V", "options": {"color": "Rossa", "colore": "Rossa"}}]},
     "variants[0].options.colore", ["same as options.color"]),
    ("variant with its own price under a product sale",
     {"sale": {"price": "200.00", "start": "2026-11-15"},
      "variants": [{"sku": "V", "options": {"size": "M"}, "price": "300.00"}]},
     "variants[0].sale", ["own price", "own sale"]),
    ("variant gtin written as a number", {"variants": [{"sku": "V", "options": {"size": "M"}, "gtin": 80}]},
     "variants[0].gtin", ["quotes", '"80"']),
    ("image file missing", {"images": [{"src": "images/manca.jpg", "alt": "x"}]}, "images[0].src",
     ["images/manca.jpg"]),
    ("image without alt", {"images": [{"src": "images/p.png"}]}, "images[0].alt", ["required"]),
    ("unknown condition", {"condition": "vintage"}, "condition", ["'vintage'", "new", "used", "refurbished"]),
    ("missing title", {"title": None}, "title", ["required"]),
    ("sku written as a number", {"sku": 123}, "sku", ["quotes", '"123"']),
    ("digital as text", {"digital": "false"}, "digital", ["true or false", "'false'"]),
    ("pre-order without the day it ships", {"availability": "preorder"}, "available_from",
     ["required for preorder", "2027-01-15"]),
    ("back-order with a day that is no day", {"availability": "backorder", "available_from": "presto"},
     "available_from", ["'presto'", "2026-11-30"]),
    ("variant on back-order, no day of its own or of its product",
     {"variants": [{"sku": "V", "options": {"size": "M"}, "availability": "backorder"}]},
     "variants[0].available_from", ["required for backorder"]),
    # Checkout links as written in the file (a missing link for SHOP_CHECKOUT is a build test below).
    ("checkout link for an unknown provider", {"checkout": {"satispay": "https://pay.example/x"}},
     "checkout.satispay", ["unknown provider", "stripe", "paypal"]),
    ("checkout link that is not https", {"checkout": {"stripe": "http://buy.stripe.com/x"}},
     "checkout.stripe", ["https://", "'http://buy.stripe.com/x'"]),
    ("checkout written as a bare link", {"checkout": "https://buy.stripe.com/x"}, "checkout", ["stripe", "paypal"]),
    ("variant checkout link that is not https",
     {"variants": [{"sku": "V", "options": {"size": "M"}, "checkout": {"paypal": "www.paypal.com/x"}}]},
     "variants[0].checkout.paypal", ["https://"]),
]


def test_base_product_is_valid():
    """Each case below changes one field of BASE_PRODUCT, so BASE_PRODUCT itself must parse."""
    product = parse_product(copy.deepcopy(BASE_PRODUCT))
    assert product.sku == "T-1" and product.offer.price_text == "249.00"


@pytest.mark.parametrize("overrides, field, words", [case[1:] for case in BAD_FIELDS],
                         ids=[case[0] for case in BAD_FIELDS])
def test_bad_field_is_an_error_naming_the_field(overrides, field, words):
    with pytest.raises(ProductError) as failure:
        parse_product(product_fields(**overrides))
    error = failure.value
    assert error.field == field, str(error)
    assert str(error).startswith(f"field '{field}': "), str(error)  # what the build prints after the path
    missing = [word for word in words if word not in error.message]
    assert not missing, f"{missing} not in {error.message!r}"


# (case id, product file text, line of the file the error names, words in its message)
BAD_FRONT_MATTER = [
    ("unclosed bracket: the line that opens it", "---\ntitle: A\nsku: A-1\nprice: [12\nbrand: B\n---\nTesto\n",
     4, ["not valid", "close the bracket"]),
    ("unclosed quote: the line that opens it", '---\ntitle: "A\nsku: A-1\n---\n', 2, ["quoted scalar"]),
    ("unquoted colon in a value", "---\ntitle: A\nsummary: Nota: usata\n---\n", 3, ["needs quotes"]),
    ("tab indentation", "---\ntitle: A\nsale:\n\tprice: 10\n---\n", 4, ["tabs"]),
    ("impossible day, a field error", "---\ntitle: A\nsale:\n  start: 2026-02-30\n---\n", 4,
     ["field 'sale.start'", "'2026-02-30' is not a day of the calendar"]),
    ("no opening fence", "title: A\n", 1, ["must start with a line '---'"]),
    ("fields that are a list", "---\n- title\n---\n", 2, ["'name: value' pairs"]),
]


@pytest.mark.parametrize("text, line, words", [case[1:] for case in BAD_FRONT_MATTER],
                         ids=[case[0] for case in BAD_FRONT_MATTER])
def test_front_matter_error_names_the_line_of_the_file(text, line, words):
    """Lines count from the top of the .md file, the opening '---' included."""
    with pytest.raises(frontmatter.FrontMatterError) as failure:
        frontmatter.split(text)
    assert failure.value.line == line, str(failure.value)
    missing = [word for word in words if word not in str(failure.value)]
    assert not missing, f"{missing} not in {failure.value}"


def test_a_real_yaml_date_is_still_a_date():
    fields, body = frontmatter.split("---\ndate: 2026-06-12\n---\nTesto\n")
    assert fields["date"] == dt.date(2026, 6, 12) and body == "Testo\n"


def test_duplicate_sku_across_the_catalogue_names_both_sources():
    first = parse_product(product_fields(slug="a"))
    second = parse_product(product_fields(slug="b", sku="ALTRO", variants=[{"sku": "T-1", "options": {"size": "M"}}]))
    third = parse_product(product_fields(slug="c", sku="TERZO"))
    products = {"products/a.md": first, "products/b.md": second, "products/c.md": third}
    assert parse.duplicate_skus(products) == [("T-1", "products/a.md", "products/b.md")]


# --- whole builds: the path and the field in each message, every bad file reported ------------------------

LINK = {"stripe": "https://buy.stripe.com/test_1"}


def test_every_bad_product_of_a_build_is_reported_with_file_and_field(build_site, tmp_path):
    """One build, many bad files: each is reported (path + field) and skipped; the good product is still built."""
    content = {
        "images/p.png": PNG,
        "products/buono.md": product_file(checkout=LINK),
        # errors of the parser, as the build reports them
        "products/prezzo.md": product_file(slug="prezzo", sku="P-1", price="dodici", checkout=LINK),
        "products/variante.md": product_file(slug="variante", sku="V-1", checkout=LINK,
                                             variants=[{"sku": "V-1a", "options": {"color": "Rossa", "colore": "Rossa"}}]),
        # checks only the generator makes
        "products/modificato.md": product_file(slug="modificato", sku="M-1", modified="ieri", checkout=LINK),
        "products/senza-data.md": product_file(slug="senza-data", sku="D-1", date=None, checkout=LINK),
        "products/senza-link.md": product_file(slug="senza-link", sku="L-1"),
        "products/yaml.md": "---\ntitle: [senza chiusura\n---\nTesto\n",
    }
    expected = {  # file: what its message must contain besides the file's path
        "prezzo.md": "'price'",
        "variante.md": "'variants[0].options.colore'",
        "modificato.md": "'modified'",
        "senza-data.md": "'date'",
        "senza-link.md": "'checkout.stripe'",
        "yaml.md": "YAML",
    }
    with pytest.raises(BuildFailed) as failure:
        build_site(content, SHOP_TODAY="2026-11-22", SHOP_CHECKOUT="stripe")
    messages = failure.value.messages
    content_dir = tmp_path / "content" / "products"
    for name, field in expected.items():
        assert any(str(content_dir / name) in m and field in m for m in messages), (name, field, messages)
    assert not any("buono.md" in m for m in messages), messages
    products = tmp_path / "output" / "prodotti"
    assert (products / "chitarra-di-prova" / "index.html").is_file()
    for slug in ("prezzo", "variante", "modificato", "senza-data", "senza-link"):
        assert not (products / slug).exists(), slug


def test_duplicate_sku_and_slug_name_both_files(build_site, tmp_path):
    """Across files: a sku or slug used twice names both files, and only one of the two is built.

    Which file counts as the first is not fixed (the generator reads the files in set order),
    so the test accepts either.
    """
    content = {
        "images/p.png": PNG,
        "products/sku-a.md": product_file(slug="sku-a", sku="S-1"),
        "products/sku-b.md": product_file(slug="sku-b", sku="S-2", variants=[{"sku": "S-1", "options": {"size": "M"}}]),
        "products/slug-a.md": product_file(slug="stesso", sku="L-1"),
        "products/slug-b.md": product_file(slug="stesso", sku="L-2"),
    }
    with pytest.raises(BuildFailed) as failure:
        build_site(content, SHOP_TODAY="2026-11-22")
    messages = failure.value.messages
    sku_errors = [m for m in messages if "'sku'" in m]
    slug_errors = [m for m in messages if "'slug'" in m]
    assert len(sku_errors) == 1 and len(slug_errors) == 1, messages
    assert "sku-a.md" in sku_errors[0] and "sku-b.md" in sku_errors[0] and "S-1" in sku_errors[0]
    assert "slug-a.md" in slug_errors[0] and "slug-b.md" in slug_errors[0] and "stesso" in slug_errors[0]
    products = tmp_path / "output" / "prodotti"
    assert (products / "sku-a").exists() != (products / "sku-b").exists()
    assert (products / "stesso" / "index.html").is_file()


def test_available_from_is_kept_for_pre_and_back_orders_only_and_variants_inherit_it():
    fields = copy.deepcopy(BASE_PRODUCT)
    fields.update(availability="preorder", available_from="2027-01-15",
                  variants=[{"sku": "A", "options": {"size": "M"}},
                            {"sku": "B", "options": {"size": "L"}, "availability": "backorder",
                             "available_from": "2026-12-18T10:30"},
                            {"sku": "C", "options": {"size": "XL"}, "availability": "in_stock"}])
    product = parse.product(fields, default_currency="EUR", today=TODAY, image_exists=IMAGES.__contains__,
                            shipping_classes=("standard",), default_shipping_class="standard",
                            zone=dt.timezone(dt.timedelta(hours=1)))
    assert product.offer.available_from_text == "2027-01-15T00:00+01:00"
    a, b, c = (variant.offer for variant in product.variants)
    assert a.available_from_text == "2027-01-15T00:00+01:00"  # the product's day
    assert b.available_from_text == "2026-12-18T10:30+01:00"  # its own
    assert c.available_from is None  # in stock: nothing to wait for
    fields.update(availability="in_stock", variants=[])
    assert parse_product(fields).offer.available_from is None
