"""What the index holds: one record per product and language, one per post, with Pagefind's meta, filters and sort.

Pure: the catalogue's products and the posts in, plain dicts out (no Pelican signals, no I/O). A product is
indexed in every language that has a search page, with that language's words for its facets; a post in its own
language. The text of a body is taken from its HTML by the indexing process, so an entry carries the HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.numbers import format_currency

# The filters, in the order the search page shows them.
FILTERS = ("type", "category", "brand", "condition", "availability", "price")
# The best availability of a product first: the one its result shows.
AVAILABILITY_ORDER = ("in_stock", "preorder", "backorder", "out_of_stock")
CONDITION_ORDER = ("new", "refurbished", "used")


@dataclass(frozen=True)
class Labels:
    """The words of one language for the facets, from the theme's catalogue (gettext)."""

    lang: str
    products: str
    posts: str
    availability: dict = field(default_factory=dict)  # Availability.value -> label
    condition: dict = field(default_factory=dict)  # Condition.value -> label
    up_to: str = "up to %(price)s"
    between: str = "%(low)s–%(high)s"
    over: str = "over %(price)s"
    from_price: str = "from %(price)s"


def labels_for(lang: str, gettext) -> Labels:
    """A language's Labels, each word translated by gettext (the theme's catalogue of that language)."""
    return Labels(
        lang=lang, products=gettext("products"), posts=gettext("articles"),
        availability={"in_stock": gettext("In stock"), "out_of_stock": gettext("Out of stock"),
                      "preorder": gettext("Available to pre-order"), "backorder": gettext("On order: ships later")},
        condition={"new": gettext("New"), "used": gettext("Used"), "refurbished": gettext("Refurbished")},
        up_to=gettext("up to %(price)s"), between=gettext("%(low)s–%(high)s"), over=gettext("over %(price)s"),
        from_price=gettext("from %(price)s"))


@lru_cache(maxsize=512)
def whole_money(amount: Decimal, currency: str, lang: str) -> str:
    """An amount as a band's limit reads it: no cents when it has none (it "1.500 €", en "€1,500")."""
    amount = Decimal(amount)
    if amount != amount.to_integral_value():
        return format_currency(amount, currency, locale=lang)
    pattern = Locale.parse(lang).currency_formats["standard"].pattern.split(";")[0]
    whole = pattern.replace("0.00", "0")
    return format_currency(amount, currency, format=whole, locale=lang, currency_digits=False)


def price_band(amount: Decimal, limits: tuple[Decimal, ...], currency: str, labels: Labels) -> str:
    """The band a price falls in: up to the first limit, between two (the upper one included), over the last."""
    def money(value):
        return whole_money(value, currency, labels.lang)

    if not limits:
        return ""
    if amount <= limits[0]:
        return labels.up_to % {"price": money(limits[0])}
    for low, high in zip(limits, limits[1:]):
        if amount <= high:
            return labels.between % {"low": money(low), "high": money(high)}
    return labels.over % {"price": money(limits[-1])}


def all_bands(limits: tuple[Decimal, ...], currency: str, labels: Labels) -> list[str]:
    """Every band's label, from the cheapest up (the order of the page's checkboxes)."""
    if not limits:
        return []
    probes = [limits[0], *[high for high in limits[1:]], limits[-1] + 1]
    return [price_band(probe, limits, currency, labels) for probe in probes]


@dataclass(frozen=True)
class Entry:
    """One indexed item: its text (title, summary), its body's HTML, and its record in each language."""

    text: str
    html: str
    records: tuple[dict, ...]

    def message(self) -> dict:
        return {"text": self.text, "html": self.html, "records": list(self.records)}


def best_availability(product) -> str:
    """The availability a product's result shows: the best among its offers."""
    values = {offer.availability.value for offer in product.offers}
    return next(value for value in AVAILABILITY_ORDER if value in values)


def availabilities(product) -> list[str]:
    """Every availability among a product's offers (a product with one red guitar in stock and a blue one to
    pre-order is found by both filters), best first."""
    values = {offer.availability.value for offer in product.offers}
    return [value for value in AVAILABILITY_ORDER if value in values]


def product_record(product, labels: Labels, limits, href, image, money) -> dict:
    """A product's record in one language. href: a site path -> its URL; image: an image's src -> the URL of a
    small copy; money: (amount, currency, lang) -> the price as shown."""
    offer = product.lowest_offer
    shown = money(offer.price, offer.currency, labels.lang)
    if len(product.variants) > 1:
        shown = labels.from_price % {"price": shown}
    filters = {
        "type": [labels.products],
        "category": [product.category.name],
        "condition": [labels.condition[product.condition.value]],
        "availability": [labels.availability[value] for value in availabilities(product)],
        "price": [price_band(offer.price, limits, offer.currency, labels)] if limits else [],
    }
    if product.brand:
        filters["brand"] = [product.brand]
    meta = {
        "title": product.title,
        "summary": product.summary or "",
        "image": image(product.images[0].src),
        "image_alt": product.images[0].alt,
        "price": shown,
        "availability": labels.availability[best_availability(product)],
        "availability_code": best_availability(product),
        "kind": labels.products,
    }
    sort = {"price": str(offer.price_text), "date": str(int(product.date.timestamp()))}
    return {"url": href(product.url), "language": labels.lang, "meta": meta,
            "filters": {key: values for key, values in filters.items() if values}, "sort": sort}


def product_entry(product, labels_by_lang: dict, limits, href, image, money, body_html: str, body_lang: str) -> Entry:
    """A product's entry: its record in every language of labels_by_lang.

    Its body is indexed in body_lang, the language it is written in. In another language the record holds its
    name, brand and summary only: a visitor finds it by those, and a stemmer of another language would only
    make noise of its body (and cost the build as much again as the body in its own language)."""
    text = " ".join(part for part in (product.title, product.brand, product.summary) if part)
    records = tuple({**product_record(product, labels, limits, href, image, money), "body": lang == body_lang}
                    for lang, labels in labels_by_lang.items())
    return Entry(text, body_html, records)


def post_entry(post, labels: Labels, href, image) -> Entry:
    """A post's entry, in its own language (its date as an ISO day: the page writes it in its language)."""
    summary = str(post.metadata.get("summary") or getattr(post, "description", "") or "")
    meta = {"title": post.title, "summary": summary, "kind": labels.posts, "date": post.date.date().isoformat()}
    lead = getattr(post, "image", None)
    if lead:
        meta["image"] = image(lead)
        meta["image_alt"] = str(post.metadata.get("image_alt") or "")
    record = {"url": href(post.url), "language": labels.lang, "meta": meta, "filters": {"type": [labels.posts]},
              "sort": {"date": str(int(post.date.timestamp()))}}
    return Entry(f"{post.title} {summary}", post._content or "", (record,))


def facets(products, labels: Labels, limits, currency: str) -> list[tuple[str, list[str]]]:
    """(filter, values) in the page's order, each value exactly as the records hold it: what the search page's
    checkboxes offer. Values no product has are left out, but for the price bands, always all shown."""
    categories = sorted({p.category.name for p in products}, key=str.casefold)
    brands = sorted({p.brand for p in products if p.brand}, key=str.casefold)
    conditions = [labels.condition[c] for c in CONDITION_ORDER if any(p.condition.value == c for p in products)]
    present = {value for p in products for value in availabilities(p)}
    stock = [labels.availability[value] for value in AVAILABILITY_ORDER if value in present]
    return [("type", [labels.products, labels.posts]), ("category", categories), ("brand", brands),
            ("condition", conditions), ("availability", stock),
            ("price", all_bands(limits, currency, labels) if products else [])]
