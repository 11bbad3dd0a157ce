"""The shop's catalogue: the one interface other plugins read, as context["shop"] and as the build file shop.json.

seo, feeds, search and the newsletter import this module and no other module of the shop. It holds typed
records only (no signals, no I/O): products with their parsed model, variants, the offers actually sold
(each with its own URL), categories, one price serialiser, one rating, shipping details, and which posts
and pages mention which product (recorded by the `[[prodotto: ...]]` Markdown extension while it
converts, kept in the item's metadata).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from urllib.parse import urlencode

from babel.numbers import format_currency
from pelican.contents import Content

from .settings import DEFAULTS
from .model import (  # noqa: F401  (re-exported: the catalogue is the interface)
    VARIANT_OPTIONS,
    Availability,
    Condition,
    Image,
    Offer,
    Product,
    Rating,
    Review,
    Variant,
    price_text,
    price_with_currency,
    rating_of,
)

CONTEXT_KEY = "shop"
JSON_FILE = "shop.json"
MENTIONS_KEY = "product_mentions"  # metadata key the Markdown extension fills: "ref, ref"
PLACEHOLDER_ATTRIBUTE = "data-vetrina-product"
DEFAULT_SORT = "in-evidenza"
SORT_ORDERS = {
    # URL slug: sort key; the first is the catalogue's default order. Labels live in catalog.html.
    DEFAULT_SORT: lambda p: (not p.featured, not p.available, -p.date.timestamp()),
    "novita": lambda p: -p.date.timestamp(),
    "prezzo-crescente": lambda p: (p.lowest_offer.price, p.title),
    "prezzo-decrescente": lambda p: (-p.lowest_offer.price, p.title),
}


def placeholder(reference: str) -> str:
    """The markup the Markdown extension leaves where a product card goes; each output renders its own card."""
    return f'<div {PLACEHOLDER_ATTRIBUTE}="{reference}"></div>'


def mention_references(metadata: dict) -> tuple[str, ...]:
    """The product references a post, page or product body names, in order, each once."""
    raw = metadata.get(MENTIONS_KEY) or ""
    values = raw if isinstance(raw, (list, tuple)) else [raw]
    references = []
    for value in values:
        for reference in str(value).split(","):
            reference = reference.strip()
            if reference and reference not in references:
                references.append(reference)
    return tuple(references)


def with_cards(html: str, writing, render_card) -> str:
    """The writing's HTML with each product placeholder replaced by render_card(product), or removed when the
    reference names no product (the build reports it)."""
    for reference, product in getattr(writing, "mentions_by_reference", {}).items():
        html = html.replace(placeholder(reference), render_card(product) if product is not None else "")
    return html


def variant_url(product_url: str, parameter: str, sku: str) -> str:
    """A variant's own address: its product's page with the variant named in the query (?variante=CL-SQS-RED).

    One page per product group, Google's query-parameter pattern: the page preselects the variant, its
    canonical URL stays the group's, and a shop of thousands of variants does not build a page for each.
    """
    return f"{product_url}?{urlencode({parameter: sku})}"


@lru_cache(maxsize=8192, typed=True)
def format_money(amount, currency: str, locale: str) -> str:
    """An amount as a shopper reads it: it 1.299,00 €; en €1,299.00.

    Pure, so memoised: a catalogue shows the same few prices on every listing, card and feed, and Babel's
    pattern formatting is the costly part (equal amounts format alike: the currency fixes the decimals)."""
    return format_currency(Decimal(amount), currency, locale=locale)


@dataclass
class ProductCategory:
    name: str
    slug: str
    url: str
    products: list = field(default_factory=list, repr=False)

    def __str__(self):
        return self.name


@dataclass(frozen=True)
class SoldOffer:
    """One thing a shopper can buy: a variant, or the product itself when it has none."""

    offer: Offer
    variant: Variant | None
    url: str  # the page that sells it, relative to the site
    name: str
    image: Image
    gtin: str
    mpn: str

    @property
    def sku(self) -> str:
        return self.offer.sku


@dataclass(frozen=True)
class Shipping:
    """What shipping one offer costs and how long it takes (zero and no transit for a digital product)."""

    rate: Decimal
    currency: str
    countries: tuple[str, ...]
    handling_days: tuple[int, int]
    transit_days: tuple[int, int]


class ProductPage(Content):
    """A product's page and its catalogue record: the parsed model plus what the build links to it."""

    mandatory_properties = ("title",)
    allowed_statuses = ("published",)
    default_status = "published"
    default_template = "product"

    def __init__(self, content, model: Product, **kwargs):
        self.model = model
        self.reviews: list[Review] = []
        self.rating: Rating | None = None
        self.mentioned_in: list = []  # published posts whose body shows this product's card
        self.mentions: list = []  # products this product's own description shows
        self.mentions_by_reference: dict = {}
        self.related_products: list = []
        self.related_posts: list = []
        super().__init__(content, **kwargs)
        self.description = model.summary
        self.image = model.images[0].src

    def _expand_settings(self, key, klass=None):
        return super()._expand_settings(key, "shop_product")

    # The model's fields, named as the templates and the other plugins read them.
    sku = property(lambda self: self.model.sku)
    skus = property(lambda self: self.model.skus)
    uid = property(lambda self: self.model.uid)
    summary = property(lambda self: self.model.summary)
    brand = property(lambda self: self.model.brand)
    gtin = property(lambda self: self.model.gtin)
    mpn = property(lambda self: self.model.mpn)
    condition = property(lambda self: self.model.condition)
    images = property(lambda self: self.model.images)
    offer = property(lambda self: self.model.offer)
    variants = property(lambda self: self.model.variants)
    varies_by = property(lambda self: self.model.varies_by)
    offers = property(lambda self: self.model.offers)
    lowest_offer = property(lambda self: self.model.lowest_offer)
    available = property(lambda self: self.model.available)
    digital = property(lambda self: self.model.digital)
    weight_kg = property(lambda self: self.model.weight_kg)
    shipping_class = property(lambda self: self.model.shipping_class)
    featured = property(lambda self: self.model.featured)
    boost = property(lambda self: self.model.boost)
    links = property(lambda self: self.model.links)
    restocked = property(lambda self: self.model.restocked)
    price_history = property(lambda self: self.model.price_history)
    external = property(lambda self: self.model.external)

    @property
    def sold(self) -> tuple[SoldOffer, ...]:
        """The offers actually sold: one per variant, or the product's own."""
        main = self.images[0]
        if not self.variants:
            return (SoldOffer(self.offer, None, self.url, self.title, main, self.gtin, self.mpn),)
        config = self.settings.get("SHOP_CONFIG")
        parameter = config.variant_parameter if config else DEFAULTS["SHOP_VARIANT_PARAMETER"]
        return tuple(SoldOffer(v.offer, v, variant_url(self.url, parameter, v.sku), f"{self.title} – {v.name}",
                               v.image or main, v.gtin, v.mpn or self.mpn) for v in self.variants)

    def reviews_of(self, variant: Variant | None) -> list[Review]:
        """The reviews of the whole product (variant None), or only those that name the variant's sku."""
        if variant is None:
            return self.reviews
        return [review for review in self.reviews if review.product == variant.sku]


class ProductListPage(Content):
    """A keyword list ("the best X under 200 €"): its products are chosen and ranked at build time."""

    mandatory_properties = ("title",)
    allowed_statuses = ("published",)
    default_status = "published"
    default_template = "product_list"

    def _expand_settings(self, key, klass=None):
        return super()._expand_settings(key, "shop_list")


@dataclass
class Catalog:
    """Everything the shop publishes, built once per build after reading; published as context["shop"]."""

    settings: object  # the shop's ShopSettings
    products: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    lists: list = field(default_factory=list)
    by_reference: dict = field(default_factory=dict)

    @property
    def featured(self) -> list:
        # Sorted once per catalogue, not on every page of the home page's pagination.
        cached = self.__dict__.get("_featured")
        if cached is None or cached[0] is not self.products or cached[1] != len(self.products):
            ordered = sorted(self.products, key=SORT_ORDERS[DEFAULT_SORT])
            cached = (self.products, len(self.products), ordered[: self.settings.home_featured])
            self.__dict__["_featured"] = cached
        return list(cached[2])

    def find(self, reference: str):
        return self.by_reference.get(reference)

    @property
    def today(self) -> dt.date:
        return self.settings.today

    @property
    def price_valid_until(self) -> dt.date:
        return self.settings.price_valid_until

    def shipping(self, product: ProductPage, offer: Offer) -> Shipping:
        """The shipping of one offer: its product's class, free above the shop's threshold, none if digital."""
        config = self.settings
        if product.digital:
            return Shipping(Decimal("0"), offer.currency, config.shipping_countries, (0, 0), (0, 0))
        shipping_class = config.shipping_classes[product.shipping_class]
        free = config.free_shipping_from is not None and offer.price >= config.free_shipping_from
        return Shipping(Decimal("0") if free else shipping_class.rate, offer.currency, config.shipping_countries,
                        config.handling_days, shipping_class.transit_days)

    def record(self, product: ProductPage, absolute) -> dict:
        """One product as plain data (the shop.json entry, and what e-mail cards are rendered from)."""
        lowest = product.lowest_offer
        return {
            "id": product.sku,
            "uid": product.uid,
            "title": product.title,
            "url": absolute(product.url),
            "description": product.description,
            "category": product.category.name,
            "brand": product.brand,
            "condition": product.condition.value,
            "available": product.available,
            "images": [{"src": absolute(image.src), "alt": image.alt} for image in product.images],
            "rating": {"value": product.rating.value_text, "count": product.rating.count} if product.rating else None,
            "from_price": len(product.variants) > 1,
            "digital": product.digital,
            "lowest_offer": {**offer_record(lowest), "shipping": price_text(self.shipping(product, lowest).rate)},
            "offers": [{**offer_record(sold.offer), "name": sold.name, "url": absolute(sold.url),
                        "image": absolute(sold.image.src),
                        "shipping": price_text(self.shipping(product, sold.offer).rate)} for sold in product.sold],
        }

    def as_json(self, absolute) -> dict:
        """The catalogue file (shop.json): every product, its offers and absolute URLs, prices as text."""
        return {"currency": self.settings.currency, "date": self.settings.today.isoformat(),
                "products": [self.record(product, absolute) for product in self.products]}


def offer_record(offer: Offer) -> dict:
    return {
        "sku": offer.sku,
        "price": price_text(offer.price),
        "regular_price": price_text(offer.regular_price),
        "currency": offer.currency,
        "availability": offer.availability.value,
        "on_sale": offer.on_sale,
        "sale_ends": offer.sale_ends.isoformat() if offer.sale_ends else None,
        "lowest_30_days": price_text(offer.lowest_30_days) if offer.lowest_30_days else None,
    }
