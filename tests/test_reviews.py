"""Customer reviews as files: shown with their average and count, fed into the product's JSON-LD."""

from __future__ import annotations

import pytest
from conftest import BuildFailed, jsonld, parse
from shop_fixtures import catalogue


def review(product="T-1", author="Cliente di Modena", date="2026-10-02", rating=5, title="Ottima", text="Suona bene."):
    fields = {"product": product, "author": author, "date": date, "rating": rating, "title": title}
    header = "\n".join(f"{key}: {value}" for key, value in fields.items() if value is not None)
    return f"---\n{header}\n---\n{text}\n"


def test_reviews_show_average_count_and_feed_json_ld(build_site):
    content = {**catalogue(),
               "reviews/a.md": review(rating=5, date="2026-10-02"),
               "reviews/b.md": review(rating=4, date="2026-11-01", author="Un insegnante di Ferrara"),
               "reviews/c.md": review(product="chitarra-di-prova", rating=4, date="2026-09-15")}
    output = build_site(content, "publishconf.py", SHOP_TODAY="2026-11-22")
    page = parse(output / "prodotti" / "chitarra-di-prova" / "index.html")
    assert page.select_one(".product-info .rating").get_text(" ", strip=True).endswith("4,3 su 5, 3 recensioni")
    listed = page.select(".review-list .review")
    assert [r.select_one("time")["datetime"] for r in listed] == ["2026-11-01", "2026-10-02", "2026-09-15"]
    assert "Un insegnante di Ferrara" in listed[0].select_one(".review-meta").get_text()
    product = next(n for n in jsonld(page)["@graph"] if n["@type"] == "Product")
    assert product["aggregateRating"]["ratingValue"] == "4.3"
    assert product["aggregateRating"]["reviewCount"] == 3
    assert [r["reviewRating"]["ratingValue"] for r in product["review"]] == [4, 5, 4]
    assert product["review"][0]["author"] == {"@type": "Person", "name": "Un insegnante di Ferrara"}
    card = parse(output / "prodotti" / "index.html").select_one(".product-card .card-rating")
    assert card.get_text() == "Valutazione 4,3 su 5 (3)"


def test_product_without_reviews_says_so_and_has_no_rating(build_site):
    output = build_site(catalogue(), "publishconf.py", SHOP_TODAY="2026-11-22")
    page = parse(output / "prodotti" / "piano" / "index.html")
    assert page.select_one(".reviews p").get_text() == "Ancora nessuna recensione."
    product = next(n for n in jsonld(page)["@graph"] if n["@type"] == "Product")
    assert "aggregateRating" not in product


BAD_REVIEWS = {
    "rating out of range": (review(rating=6), "'rating'"),
    "rating not a number": (review(rating="cinque"), "'rating'"),
    "unknown product": (review(product="NON-ESISTE"), "'product'"),
    "no author": (review(author=None), "'author'"),
}


@pytest.mark.parametrize("text, field", BAD_REVIEWS.values(), ids=BAD_REVIEWS.keys())
def test_bad_review_is_an_error_naming_file_and_field(build_site, text, field):
    with pytest.raises(BuildFailed) as failure:
        build_site({**catalogue(), "reviews/rotta.md": text}, SHOP_TODAY="2026-11-22")
    assert any("rotta.md" in m and field in m for m in failure.value.messages), failure.value.messages
