"""Turn a product file's fields (a dict from YAML) into the typed model, or raise ProductError."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Callable

from core import schedule

from .model import (
    CURRENCIES,
    SALE_REFERENCE_DAYS,
    google_option,
    Availability,
    Condition,
    External,
    Image,
    Offer,
    PricePoint,
    Product,
    ProductError,
    Review,
    Sale,
    Variant,
)

CHECKOUT_LINK_PROVIDERS = ("stripe", "paypal")


def text(fields: dict, name: str, required: bool = False, default: str = "") -> str:
    value = fields.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ProductError(name, "is required")
        return default
    if isinstance(value, (dict, list)):
        raise ProductError(name, "must be text")
    return str(value).strip()


def code(fields: dict, name: str, required: bool = False) -> str:
    """An identifier (sku, gtin, mpn): text as written, never a YAML number that would lose digits."""
    value = fields.get(name)
    if value is not None and not isinstance(value, str):
        raise ProductError(name, f"write it in quotes, e.g. \"{value}\" (YAML may change the digits of {value!r})")
    return text(fields, name, required=required)


def flag(fields: dict, name: str, default: bool = False) -> bool:
    value = fields.get(name, default)
    if not isinstance(value, bool):
        raise ProductError(name, f"must be true or false, not {value!r}")
    return value


def money(value, name: str) -> Decimal:
    """A positive amount; YAML may give it as text ("1299.00") or a number."""
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list)):
        raise ProductError(name, f"must be a number such as 129.00, not {value!r}")
    text = str(value).strip()
    if "," in text:
        raise ProductError(name, f"{text!r} is not a price: write it with a dot and no thousands separator, "
                                 f"like {text.replace('.', '').replace(',', '.')}")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ProductError(name, f"must be a number such as 129.00, not {value!r}") from None
    if not amount.is_finite() or amount <= 0:
        raise ProductError(name, f"must be greater than zero, not {value!r}")
    if amount.as_tuple().exponent < -2:
        raise ProductError(name, f"has more than two decimals: {value!r}")
    return amount.quantize(Decimal("0.01"))


def day(value, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ProductError(name, f"must be a date such as 2026-11-30, not {value!r}") from None


def enum_value(enum_class, fields: dict, name: str, default=None):
    raw = fields.get(name)
    if raw is None:
        if default is None:
            raise ProductError(name, "is required")
        return default
    try:
        return enum_class(str(raw).strip().lower())
    except ValueError:
        allowed = ", ".join(member.value for member in enum_class)
        raise ProductError(name, f"unknown value {raw!r}; use one of: {allowed}") from None


def currency(fields: dict, default: str) -> str:
    code = text(fields, "currency", default=default).upper()
    if code not in CURRENCIES:
        raise ProductError("currency", f"{code!r} is not an ISO 4217 currency code")
    return code


def instant(value, name: str, zone: dt.tzinfo, day_time: dt.time) -> dt.datetime:
    """A day or a time of the shop's calendar as an aware instant: wall time in zone, DST included."""
    try:
        return schedule.moment(value, zone, day_time=day_time)
    except (ValueError, TypeError):
        raise ProductError(name, f"must be a date such as 2026-11-30, or a time such as 2026-11-30T23:59, "
                                 f"not {value!r}") from None


def sale(raw, price: Decimal, name: str, zone: dt.tzinfo = dt.timezone.utc) -> Sale | None:
    """A sale from its first day (or minute) to its last; a bare end day runs to 23:59 in the site's zone."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ProductError(name, "must have price, and optionally start and end dates")
    sale_price = money(raw.get("price"), f"{name}.price")
    if sale_price >= price:
        raise ProductError(f"{name}.price", f"{sale_price} must be lower than the price {price}")
    if not raw.get("start"):
        raise ProductError(f"{name}.start", "is required: the day the discount starts (the 30-day reference ends there)")
    starts_at = instant(raw["start"], f"{name}.start", zone, dt.time(0))
    ends_at = instant(raw["end"], f"{name}.end", zone, schedule.LAST_MINUTE) if raw.get("end") else None
    if ends_at is not None and ends_at < starts_at:
        raise ProductError(f"{name}.end", f"{raw['end']} is before the start {raw['start']}")
    return Sale(sale_price, starts_at.date(), ends_at.date() if ends_at else None, starts_at, ends_at)


def timed_sales(fields: dict, zone: dt.tzinfo) -> list[tuple[str, Sale]]:
    """(field name, sale) of the product's sale and of each variant's own one, for what changes when."""
    price = money(fields.get("price"), "price")
    found = [("sale", sale(fields.get("sale"), price, "sale", zone))]
    for index, entry in enumerate(fields.get("variants") or []):
        if isinstance(entry, dict) and entry.get("sale"):
            own = money(entry["price"], f"variants[{index}].price") if "price" in entry else price
            found.append((f"variants[{index}].sale", sale(entry["sale"], own, f"variants[{index}].sale", zone)))
    return [(name, found_sale) for name, found_sale in found if found_sale is not None]


def price_history(raw, name: str = "price_history") -> tuple[PricePoint, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProductError(name, "must be a list of {date, price}")
    points = []
    for index, entry in enumerate(raw):
        if not isinstance(entry, dict):
            raise ProductError(f"{name}[{index}]", "must have date and price")
        points.append(PricePoint(day(entry.get("date"), f"{name}[{index}].date"),
                                 money(entry.get("price"), f"{name}[{index}].price")))
    return tuple(sorted(points, key=lambda point: point.date))


def lowest_before(history: tuple[PricePoint, ...], start: dt.date) -> Decimal | None:
    """The lowest price applied in the 30 days before start, from a history of price changes."""
    window_start = start - dt.timedelta(days=SALE_REFERENCE_DAYS)
    in_force = [p for p in history if p.date <= window_start][-1:]
    inside = [p for p in history if window_start < p.date < start]
    prices = [p.price for p in in_force + inside]
    return min(prices) if prices else None


def check_history(history: tuple[PricePoint, ...], price: Decimal, sale_: Sale | None, name: str) -> None:
    """The price in force when a sale starts must be the price the sale is struck through against."""
    if sale_ is None or not history:
        return
    in_force = [point for point in history if point.date <= sale_.start]
    if in_force and in_force[-1].price != price:
        raise ProductError(name, f"the price in force on {sale_.start} is {in_force[-1].price}, but price is {price}")


def available_from(raw: dict, zone: dt.tzinfo, inherited: dt.datetime | None = None) -> dt.datetime | None:
    """The file's available_from as an aware instant (a bare day is its first minute), else inherited."""
    own = raw.get("available_from")
    return instant(own, "available_from", zone, dt.time(0)) if own not in (None, "") else inherited


def shipping_day(availability: Availability, declared: dt.datetime | None) -> dt.datetime | None:
    """A pre-order's or back-order's first day of shipping, None for others.

    Google requires it with either availability (availability_date).
    """
    if not availability.ships_later:
        return None
    if declared is None:
        raise ProductError("available_from", f"is required for {availability.value}: the day it ships, "
                                             f"such as 2027-01-15")
    return declared


def offer(sku, price, currency_code, availability, sale_, history, now: dt.datetime,
          available_from: dt.datetime | None = None) -> Offer:
    """What the sku costs at the build's clock `now` (an aware instant)."""
    active = sale_ is not None and sale_.active_at(now)
    lowest = lowest_before(history, sale_.start) if active and history else None
    return Offer(
        sku=sku, price=sale_.price if active else price, currency=currency_code, availability=availability,
        regular_price=price, on_sale=active, sale_ends=sale_.end if active else None, lowest_30_days=lowest,
        sale_starts=sale_.start if active else None, sale_starts_at=sale_.starts_at if active else None,
        sale_ends_at=sale_.ends_at if active else None, available_from=available_from,
    )


def image(raw, name: str, image_exists: Callable[[str], bool]) -> Image:
    if isinstance(raw, str):
        raise ProductError(name, "needs src and alt (alternative text for people who cannot see it)")
    if not isinstance(raw, dict) or not raw.get("src"):
        raise ProductError(f"{name}.src", "is required")
    src = str(raw["src"]).lstrip("/")
    if not image_exists(src):
        raise ProductError(f"{name}.src", f"no file {src} in the content folder")
    alt = text(raw, "alt")
    if not alt:
        raise ProductError(f"{name}.alt", "is required: describe the photo")
    return Image(src, alt)


def checkout_links(raw, name: str) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ProductError(name, "must map a provider (stripe, paypal) to a link")
    links = {}
    for provider, url in raw.items():
        if provider not in CHECKOUT_LINK_PROVIDERS:
            raise ProductError(f"{name}.{provider}", f"unknown provider; use {', '.join(CHECKOUT_LINK_PROVIDERS)}")
        if not str(url).startswith("https://"):
            raise ProductError(f"{name}.{provider}", f"must be an https:// link, not {url!r}")
        links[provider] = str(url)
    return links


def external(raw, name: str = "external") -> External | None:
    """Where a product sold by someone else is bought: an http(s) link and the button's text."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ProductError(name, 'must have url and button, e.g. {url: "https://...", button: "Compra su Amazon"}')
    url = text(raw, "url")
    if not url.startswith(("https://", "http://")):
        raise ProductError(f"{name}.url", f"must be an https:// link, not {raw.get('url')!r}")
    button = text(raw, "button")
    if not button:
        raise ProductError(f"{name}.button", "is required: the button's text, e.g. Compra su Amazon")
    return External(url, button)


def references(fields: dict, name: str) -> tuple[str, ...]:
    """A list of skus or slugs (a comma-separated text is accepted too), each once, in order."""
    raw = fields.get(name) or []
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, list) or any(isinstance(value, (dict, list)) for value in raw):
        raise ProductError(name, "must be a list of product skus or slugs")
    return tuple(dict.fromkeys(str(value).strip() for value in raw if str(value).strip()))


def variants(raw, defaults: dict, image_exists, now) -> tuple[Variant, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ProductError("variants", "must be a list")
    parsed = []
    for index, entry in enumerate(raw):
        name = f"variants[{index}]"
        if not isinstance(entry, dict):
            raise ProductError(name, "must have sku, options and optionally price, availability, image")
        try:
            parsed.append(variant(entry, name, defaults, image_exists, now))
        except ProductError as error:
            raise ProductError(f"{name}.{error.field}", error.message) from None
    return tuple(parsed)


def variant(entry: dict, name: str, defaults: dict, image_exists, now) -> Variant:
    """One variant; field names in its errors are relative to it (the caller adds variants[i])."""
    sku = code(entry, "sku")
    if not sku:
        raise ProductError("sku", "is required: every variant needs its own sku")
    options = entry.get("options") or {}
    if not isinstance(options, dict) or not options:
        raise ProductError("options", "must name what the variant is, e.g. {color: Rosso}")
    seen: dict[str, str] = {}
    for key, value in options.items():
        if not isinstance(key, str) or not key.strip() or isinstance(value, (dict, list)) or value in (None, ""):
            raise ProductError(f"options.{key}", "write each option as a name and a value, e.g. color: Rossa "
                                                 "(color, size, material, pattern, or a name of yours such as Lunghezza)")
        google = google_option(key)
        if google in seen:
            raise ProductError(f"options.{key}", f"says the same as options.{seen[google]} ({google}): keep one")
        if google:
            seen[google] = key
    own_price = "price" in entry
    price = money(entry["price"], "price") if own_price else defaults["price"]
    if own_price and defaults["sale"] and "sale" not in entry:
        raise ProductError("sale", "the product's sale does not apply to a variant with its own price: "
                                   "give the variant its own sale (or no price of its own)")
    sale_ = sale(entry.get("sale"), price, "sale", defaults["zone"]) if "sale" in entry else defaults["sale"]
    history = price_history(entry.get("price_history")) if own_price else defaults["history"]
    check_history(history, price, sale_, "price_history")
    availability = enum_value(Availability, entry, "availability", defaults["availability"])
    ships = shipping_day(availability, available_from(entry, defaults["zone"], defaults["available_from"]))
    return Variant(
        sku=sku,
        name=text(entry, "name", default=", ".join(str(v) for v in options.values())),
        options={key: str(value) for key, value in options.items()},
        offer=offer(sku, price, defaults["currency"], availability, sale_, history, now, ships),
        image=image(entry["image"], "image", image_exists) if entry.get("image") else None,
        gtin=code(entry, "gtin"),
        mpn=code(entry, "mpn"),
        links=checkout_links(entry.get("checkout"), "checkout"),
    )


def shipping_class(fields: dict, digital: bool, classes, default: str) -> str:
    name = text(fields, "shipping_class", default=default)
    if not digital and classes and name not in classes:
        raise ProductError("shipping_class", f"unknown class {name!r}; use one of: {', '.join(classes)}")
    return name


def product(fields: dict, *, default_currency: str, today: dt.date, image_exists: Callable[[str], bool],
            shipping_classes=(), default_shipping_class: str = "standard", zone: dt.tzinfo = dt.timezone.utc,
            now: dt.datetime | None = None) -> Product:
    """The Product a file describes; raises ProductError naming the first bad field.

    zone: the site's time zone, in which the file's days and times are read. now: the build's clock
    (an aware instant); without it, the end of `today` in zone.
    """
    now = now or dt.datetime.combine(today, schedule.END_OF_DAY, tzinfo=zone)
    title = text(fields, "title", required=True)
    sku = code(fields, "sku", required=True)
    price = money(fields.get("price"), "price")
    currency_code = currency(fields, default_currency)
    availability = enum_value(Availability, fields, "availability")
    condition = enum_value(Condition, fields, "condition", Condition.NEW)
    history = price_history(fields.get("price_history"))
    sale_ = sale(fields.get("sale"), price, "sale", zone)
    check_history(history, price, sale_, "price_history")
    raw_images = fields.get("images")
    if not raw_images or not isinstance(raw_images, list):
        raise ProductError("images", "at least one image with src and alt is required")
    images = tuple(image(raw, f"images[{index}]", image_exists) for index, raw in enumerate(raw_images))
    tags = fields.get("tags") or []
    if isinstance(tags, str):
        tags = [tag.strip() for tag in tags.split(",")]
    weight = fields.get("weight")
    boost = fields.get("boost", 1)
    declared = available_from(fields, zone)
    defaults = {"price": price, "sale": sale_, "availability": availability, "currency": currency_code,
                "history": history, "zone": zone, "available_from": declared}
    return Product(
        sku=sku,
        title=title,
        slug=text(fields, "slug", required=True),
        uid=text(fields, "uid"),
        summary=text(fields, "summary", required=True),
        category_name=text(fields, "category", required=True),
        tags=tuple(str(tag).strip() for tag in tags if str(tag).strip()),
        brand=text(fields, "brand"),
        gtin=code(fields, "gtin"),
        mpn=code(fields, "mpn"),
        condition=condition,
        images=images,
        offer=offer(sku, price, currency_code, availability, sale_, history, now,
                    shipping_day(availability, declared)),
        variants=variants(fields.get("variants"), defaults, image_exists, now),
        digital=flag(fields, "digital"),
        weight_kg=money(weight, "weight") if weight not in (None, "") else None,
        shipping_class=shipping_class(fields, flag(fields, "digital"), shipping_classes, default_shipping_class),
        featured=flag(fields, "featured"),
        boost=money(boost, "boost"),
        price_history=history,
        links=checkout_links(fields.get("checkout"), "checkout"),
        restocked=day(fields["restocked"], "restocked") if fields.get("restocked") else None,
        external=external(fields.get("external")),
        related=references(fields, "related"),
    )


def duplicate_skus(products_by_source: dict) -> list[tuple[str, str, str]]:
    """(sku, first source, second source) for every sku used twice across the catalogue."""
    seen: dict[str, str] = {}
    duplicates = []
    for source, item in products_by_source.items():
        for sku in item.skus:
            if sku in seen:
                duplicates.append((sku, seen[sku], source))
            else:
                seen[sku] = source
    return duplicates


def review(fields: dict, html: str, plain: str, source: str) -> Review:
    """A Review from a review file's fields; raises ProductError naming the bad field."""
    rating = fields.get("rating")
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ProductError("rating", f"must be a whole number from 1 to 5, not {rating!r}")
    if fields.get("date") is None:
        raise ProductError("date", "is required")
    if not plain.strip():
        raise ProductError("text", "the review has no text below the fields")
    return Review(
        product=text(fields, "product", required=True),
        author=text(fields, "author", required=True),
        date=day(fields["date"], "date"),
        rating=rating,
        title=text(fields, "title"),
        html=html,
        text=plain,
        source=source,
    )
