"""Bad product files: each error names the file and the field, and the product is not rendered."""

from __future__ import annotations

import pytest
from conftest import BuildFailed
from shop_fixtures import PNG, product_file

BAD_PRODUCTS = {
    "unknown availability": ({"availability": "maybe"}, "'availability'"),
    "non-numeric price": ({"price": "dodici"}, "'price'"),
    "negative price": ({"price": "-5.00"}, "'price'"),
    "bad currency": ({"currency": "EUX"}, "'currency'"),
    "sale price not below the price": ({"sale": {"price": "260.00"}}, "'sale.price'"),
    "sale end before start": ({"sale": {"price": "200.00", "start": "2026-11-20", "end": "2026-11-10"}},
                              "'sale.end'"),
    "variant without sku": ({"variants": [{"options": {"color": "Rossa"}}]}, "'variants[0].sku'"),
    "image file missing": ({"images": [{"src": "images/manca.jpg", "alt": "x"}]}, "'images[0].src'"),
    "image without alt": ({"images": [{"src": "images/p.png"}]}, "'images[0].alt'"),
    "unknown condition": ({"condition": "vintage"}, "'condition'"),
    "unknown variant option": ({"variants": [{"sku": "V", "options": {"colore": "Rossa"}}]},
                               "'variants[0].options.colore'"),
    "missing title": ({"title": None}, "'title'"),
}


@pytest.mark.parametrize("fields, field_name", BAD_PRODUCTS.values(), ids=BAD_PRODUCTS.keys())
def test_bad_field_is_an_error_naming_file_and_field(build_site, tmp_path, fields, field_name):
    with pytest.raises(BuildFailed) as failure:
        build_site({"images/p.png": PNG, "products/rotto.md": product_file(**fields)})
    assert any("rotto.md" in message and field_name in message for message in failure.value.messages), \
        failure.value.messages
    assert not (tmp_path / "output" / "prodotti" / "chitarra-di-prova").exists()


def test_duplicate_sku_across_the_catalogue_names_both_files(build_site):
    with pytest.raises(BuildFailed) as failure:
        build_site({"images/p.png": PNG, "products/a.md": product_file(slug="a"),
                    "products/b.md": product_file(slug="b", sku="ALTRO",
                                                  variants=[{"sku": "T-1", "options": {"size": "M"}}])})
    message = "\n".join(failure.value.messages)
    assert "b.md" in message and "'sku'" in message and "T-1" in message and "a.md" in message


def test_broken_yaml_names_the_file(build_site):
    with pytest.raises(BuildFailed) as failure:
        build_site({"products/rotto.md": "---\ntitle: [senza chiusura\n---\nTesto\n"})
    assert any("rotto.md" in message and "YAML" in message for message in failure.value.messages)


MORE_BAD_PRODUCTS = {
    "sale without a start": ({"sale": {"price": "200.00"}}, "'sale.start'"),
    "history disagreeing with the price": (
        {"sale": {"price": "200.00", "start": "2026-11-15"}, "price_history": [{"date": "2026-10-01", "price": "260.00"}]},
        "'price_history'"),
    "variant with its own price under a product sale": (
        {"sale": {"price": "200.00", "start": "2026-11-15"},
         "variants": [{"sku": "V", "options": {"size": "M"}, "price": "300.00"}]}, "'variants[0].sale'"),
    "sku written as a number": ({"sku": 123}, "'sku'"),
    "variant gtin written as a number": ({"variants": [{"sku": "V", "options": {"size": "M"}, "gtin": 80}]},
                                         "'variants[0].gtin'"),
    "digital as text": ({"digital": "false"}, "'digital'"),
    "modified that is not a date": ({"modified": "ieri"}, "'modified'"),
}


@pytest.mark.parametrize("fields, field_name", MORE_BAD_PRODUCTS.values(), ids=MORE_BAD_PRODUCTS.keys())
def test_more_bad_fields_name_file_and_field(build_site, fields, field_name):
    with pytest.raises(BuildFailed) as failure:
        build_site({"images/p.png": PNG, "products/rotto.md": product_file(**fields)}, SHOP_TODAY="2026-11-22")
    assert any("rotto.md" in message and field_name in message for message in failure.value.messages), \
        failure.value.messages


def test_duplicate_slug_names_both_files(build_site):
    with pytest.raises(BuildFailed) as failure:
        build_site({"images/p.png": PNG, "products/a.md": product_file(),
                    "products/b.md": product_file(sku="ALTRO")})
    message = "\n".join(failure.value.messages)
    assert "b.md" in message and "'slug'" in message and "a.md" in message
