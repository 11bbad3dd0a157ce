"""The typed product model: Product, Variant, Offer. Parsed once from a product file's fields.

Pure: no I/O except the image-exists check passed in as a function, no Pelican.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from babel.core import get_global
from babel.numbers import get_territory_currencies


def _currencies_in_use() -> frozenset[str]:
    """ISO 4217 codes that some territory uses as legal tender today (no withdrawn or test codes)."""
    today = dt.date.today()
    codes = set()
    for territory in get_global("territory_currencies"):
        codes.update(get_territory_currencies(territory, start_date=today, tender=True))
    return frozenset(codes)


CURRENCIES = _currencies_in_use()
# The variant options Google reads (variesBy, Merchant Center), with the schema.org property of each.
VARIANT_OPTIONS = {
    "color": "https://schema.org/color",
    "size": "https://schema.org/size",
    "material": "https://schema.org/material",
    "pattern": "https://schema.org/pattern",
}
# Option names a writer may use for them, in English or Italian; any other name ("Lunghezza") is free-form:
# shown to the shopper and in JSON-LD as an additionalProperty, but not a variesBy dimension.
OPTION_NAMES = {
    "color": "color", "colour": "color", "colore": "color",
    "size": "size", "taglia": "size", "misura": "size",
    "material": "material", "materiale": "material",
    "pattern": "pattern", "fantasia": "pattern",
}


def google_option(name: str) -> str | None:
    """The Google variant attribute an option name stands for ("Colore" -> "color"), or None if free-form."""
    return OPTION_NAMES.get(name.strip().lower())
SALE_REFERENCE_DAYS = 30
CENT = Decimal("0.01")


def price_text(amount: Decimal) -> str:
    """The one way an amount is written for machines: a dot and two decimals ("249.00"), never a float."""
    return str(Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP))


def price_with_currency(amount: Decimal, currency: str) -> str:
    """An amount with its ISO 4217 code, as Merchant Center wants it: "249.00 EUR"."""
    return f"{price_text(amount)} {currency}"


class ProductError(ValueError):
    """A product file field is missing or wrong; .field names it."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"field '{field_name}': {message}")
        self.field = field_name
        self.message = message


class Availability(enum.Enum):
    IN_STOCK = "in_stock"
    OUT_OF_STOCK = "out_of_stock"
    PREORDER = "preorder"
    BACKORDER = "backorder"

    @property
    def schema_url(self) -> str:
        names = {"in_stock": "InStock", "out_of_stock": "OutOfStock", "preorder": "PreOrder", "backorder": "BackOrder"}
        return "https://schema.org/" + names[self.value]

    @property
    def purchasable(self) -> bool:
        return self is not Availability.OUT_OF_STOCK

    @property
    def ships_later(self) -> bool:
        """Sold now, shipped from a later day (available_from): a pre-order or a back-order."""
        return self in (Availability.PREORDER, Availability.BACKORDER)


class Condition(enum.Enum):
    NEW = "new"
    USED = "used"
    REFURBISHED = "refurbished"

    @property
    def schema_url(self) -> str:
        return f"https://schema.org/{self.value.capitalize()}Condition"


@dataclass(frozen=True)
class Image:
    src: str
    alt: str


@dataclass(frozen=True)
class External:
    """A product sold by someone else (an affiliate link): the page links there instead of selling it."""

    url: str
    button: str


@dataclass(frozen=True)
class PricePoint:
    date: dt.date
    price: Decimal


@dataclass(frozen=True)
class Sale:
    """A discount from its start to its end: days in the site's zone, and the aware instants they stand for."""

    price: Decimal
    start: dt.date | None
    end: dt.date | None
    starts_at: dt.datetime | None = None  # the first minute (00:00 of a bare day), with that instant's offset
    ends_at: dt.datetime | None = None  # the last minute (23:59 of a bare day), with that instant's offset

    def active_on(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    @property
    def over_at(self) -> dt.datetime | None:
        """The first instant the sale no longer runs: the end's last minute is still part of it."""
        if self.ends_at is None:
            return None
        return self.ends_at.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)

    def active_at(self, now: dt.datetime) -> bool:
        if self.starts_at is None:  # made from days only: judged by the day
            return self.active_on(now.date())
        return self.starts_at <= now and (self.over_at is None or now < self.over_at)


@dataclass(frozen=True)
class Offer:
    """What a shopper pays for one sku on the build day: the single source of every shown price."""

    sku: str
    price: Decimal  # the price charged now (the sale price while a sale runs)
    currency: str
    availability: Availability
    regular_price: Decimal
    on_sale: bool
    sale_ends: dt.date | None
    lowest_30_days: Decimal | None  # lowest price of the 30 days before the sale (EU price indication)
    sale_starts: dt.date | None = None
    sale_starts_at: dt.datetime | None = None  # the running sale's start and end as aware instants
    sale_ends_at: dt.datetime | None = None
    available_from: dt.datetime | None = None  # a pre-order's or back-order's first day of shipping (aware)

    @property
    def available_from_text(self) -> str | None:
        """available_from for Merchant Center's availability_date and JSON-LD's availabilityStarts."""
        return self.available_from.isoformat(timespec="minutes") if self.available_from else None

    @property
    def price_text(self) -> str:
        """The price charged now, written by price_text ("249.00"), for buttons and data attributes."""
        return price_text(self.price)

    @property
    def sale_effective_date(self) -> str | None:
        """Merchant Center's sale_price_effective_date, "start/end", each with the offset of its own instant."""
        if not (self.on_sale and self.sale_starts_at and self.sale_ends_at):
            return None
        return f"{self.sale_starts_at.isoformat(timespec='minutes')}/{self.sale_ends_at.isoformat(timespec='minutes')}"


@dataclass(frozen=True)
class Variant:
    sku: str
    name: str
    options: dict
    offer: Offer
    image: Image | None
    gtin: str
    mpn: str
    links: dict = field(default_factory=dict)

    @property
    def google_options(self) -> dict[str, str]:
        """{color|size|material|pattern: value} for the options Google reads."""
        return {google_option(name): value for name, value in self.options.items() if google_option(name)}

    @property
    def free_options(self) -> dict[str, str]:
        """The other options, as written ("Lunghezza": "3 m")."""
        return {name: value for name, value in self.options.items() if not google_option(name)}


@dataclass(frozen=True)
class Product:
    sku: str
    title: str
    slug: str
    uid: str
    summary: str
    category_name: str  # as written in the file; the page's .category is its ProductCategory
    tags: tuple[str, ...]
    brand: str
    gtin: str
    mpn: str
    condition: Condition
    images: tuple[Image, ...]
    offer: Offer
    variants: tuple[Variant, ...]
    digital: bool
    weight_kg: Decimal | None
    shipping_class: str
    featured: bool
    boost: Decimal
    price_history: tuple[PricePoint, ...] = field(default=())
    links: dict = field(default_factory=dict)  # checkout links per provider: {"stripe": url, ...}
    restocked: dt.date | None = None  # when it came back in stock (announced in the products feed)
    external: External | None = None  # sold elsewhere: a link, no cart, no Merchant Center item
    related: tuple[str, ...] = ()  # skus or slugs shown first among its related products (upsells, cross-sells)

    @property
    def varies_by(self) -> tuple[str, ...]:
        """The Google variant attributes the variants differ by (free-form options are not among them)."""
        keys = []
        for variant in self.variants:
            keys.extend(key for key in variant.google_options if key not in keys)
        return tuple(keys)

    @property
    def offers(self) -> tuple[Offer, ...]:
        """Every offer a shopper can buy: one per variant, or the product's own."""
        return tuple(v.offer for v in self.variants) or (self.offer,)

    @property
    def lowest_offer(self) -> Offer:
        return min(self.offers, key=lambda offer: offer.price)

    @property
    def available(self) -> bool:
        return any(offer.availability.purchasable for offer in self.offers)

    @property
    def skus(self) -> tuple[str, ...]:
        return (self.sku, *(variant.sku for variant in self.variants))


@dataclass(frozen=True)
class Review:
    """A customer's review of a product, from a file in content/reviews (moderated by review of the file)."""

    product: str  # the sku or slug it reviews: a variant's sku when the review is about that variant
    author: str
    date: dt.date
    rating: int
    title: str
    html: str
    text: str
    source: str


@dataclass(frozen=True)
class Rating:
    """The average of some reviews, rounded once (half up, one decimal) for every place that shows it."""

    value: Decimal
    count: int
    best: int = 5
    worst: int = 1

    @property
    def value_text(self) -> str:
        return str(self.value)


def rating_of(reviews) -> Rating | None:
    """93 points over 20 reviews is 4.65: shown as 4.7 on the page and in aggregateRating alike."""
    reviews = list(reviews)
    if not reviews:
        return None
    average = Decimal(sum(review.rating for review in reviews)) / len(reviews)
    return Rating(average.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP), len(reviews))
