"""A WooCommerce product, from the CSV export or a WordPress export, written as a Vetrina product file.

Both importers fill an ImportedProduct (neutral: amounts as Decimal, days as dates, the CSV's or the WXR's
quirks already undone) and call write_product(), which builds the front matter of content/products/*.md,
checks it with the shop's own parser (a product the build would refuse is reported with its line and field,
never written), copies its images and records the old URLs' redirects. Grouped products are written by
write_group() as a keyword list of their children (content/lists/).

Conventions, said once here because every caller relies on them:

- `resolve(reference)` answers the slug of a product the build will publish, for a SKU or an `id:N`, or None;
  references to anything else (a draft, a product not imported) are left out and reported, since the build
  fails on a `related:` or `pinned:` entry naming no product;
- a back-order needs the day it ships (`available_from`), which WooCommerce does not know: such products
  are written out of stock, and listed, so that the owner adds the day and `availability: backorder`;
- a product with no image found is written as a draft (the build does not read drafts) and listed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Callable

import yaml

from .slugs import safe_slug

AVAILABILITIES = ("in_stock", "out_of_stock", "backorder", "preorder")
SUMMARY_LENGTH = 300
DEFAULT_CATEGORY = "Senza categoria"
DEFAULT_BUTTON = "Acquista dal venditore"
NO_IMAGE = "products without an image (imported as drafts)"
NOT_IMPORTED = "rows not imported"
CHANGED = "products changed on the way"


@dataclass
class ImportedVariant:
    sku: str
    options: dict  # {"Colore": "Rosso"}: names as the shop wrote them; write_product maps them
    regular_price: Decimal | None = None  # None: the product's price
    sale_price: Decimal | None = None
    sale_from: dt.date | None = None
    sale_to: dt.date | None = None
    availability: str = "in_stock"
    image_url: str = ""
    weight_kg: Decimal | None = None
    gtin: str = ""


@dataclass
class ImportedProduct:
    key: str  # the session key, stable across imports: "product:<sku>" or "product:id:<n>"
    title: str
    slug: str
    sku: str
    published: bool = True
    date: dt.datetime | None = None  # None: the day of the first import (kept by later ones)
    summary_html: str = ""
    description_html: str = ""
    regular_price: Decimal | None = None
    sale_price: Decimal | None = None
    sale_from: dt.date | None = None
    sale_to: dt.date | None = None
    availability: str = "in_stock"  # one of AVAILABILITIES
    weight_kg: Decimal | None = None
    gtin: str = ""
    brand: str = ""
    category_path: list = field(default_factory=list)  # root → leaf
    tags: list = field(default_factory=list)
    images: list = field(default_factory=list)  # (url, alt); alt "" means "the title"
    variants: list = field(default_factory=list)  # ImportedVariant
    kind: str = "simple"  # simple | variable | grouped | external
    external_url: str = ""
    button_text: str = ""
    children: list = field(default_factory=list)  # grouped: SKUs or id:N of its products
    upsells: list = field(default_factory=list)  # SKUs or id:N
    cross_sells: list = field(default_factory=list)
    digital: bool = False
    featured: bool = False
    shipping_class: str | None = None
    old_urls: list = field(default_factory=list)
    line: int | None = None  # the CSV line where its record starts, for messages

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line else self.key


# --- field by field ---------------------------------------------------------------------------------------
def money_text(amount: Decimal | None) -> str | None:
    return f"{amount.quantize(Decimal('0.01'))}" if amount is not None else None


BLOCKS = ("p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "td", "th", "blockquote")


def plain_text(html: str) -> str:
    """The text of some HTML: words of one block run on (`<strong>x</strong>,` stays `x,`), blocks apart."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html or "", "html.parser")
    for block in soup.find_all(BLOCKS):
        block.insert_after(" ")
    return " ".join(soup.get_text().split())


def shortened(text: str, limit: int = SUMMARY_LENGTH) -> str:
    if len(text) <= limit:
        return text
    return text[:limit - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def summary_of(product: ImportedProduct) -> str:
    """The short description as text, else the description's first sentence, else the title."""
    short = plain_text(product.summary_html)
    if short:
        return shortened(short)
    text = plain_text(product.description_html)
    if text:
        end = next((i for i, char in enumerate(text) if char in ".!?" and (i + 1 == len(text) or text[i + 1] == " ")),
                   len(text) - 1)
        return shortened(text[:end + 1])
    return product.title


def option_name(name: str) -> str:
    """`Colore`, `pa_color`, `Colour` → `color` (Google's names, as the demo writes them); others as written."""
    from shop.model import google_option

    bare = name.strip()
    if bare.lower().startswith("pa_"):  # a global attribute's taxonomy slug
        bare = bare[3:].replace("-", " ").replace("_", " ")
        bare = google_option(bare) or bare.capitalize()
    return google_option(bare) or bare


def shipping_weight(kg: Decimal) -> float:
    """Kilograms with two decimals, as the shop reads a weight (a 5 g pick weighs 0.01 kg, not nothing)."""
    return float(max(Decimal(kg).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), Decimal("0.01")))


def sale_block(price, sale_price, start, end, first_day: dt.date) -> dict | None:
    """`sale: {price, start, end}`; WooCommerce's sale without dates runs now: it starts on the product's day."""
    if sale_price is None or price is None or not 0 < sale_price < price:
        return None
    block = {"price": money_text(sale_price), "start": (start or first_day).isoformat()}
    if end:
        block["end"] = end.isoformat()
    return block


class ProductFile:
    """The fields of one product file, and the notes the report gives about them."""

    def __init__(self, session, images, product: ImportedProduct, resolve: Callable[[str], str | None]):
        self.session, self.images, self.product, self.resolve = session, images, product, resolve
        self.settings = session.settings
        self.notes: list[str] = []
        self.missing_images: list[str] = []

    def fields(self) -> dict:
        product = self.product
        fields = {"title": product.title, "slug": product.slug, "date": self.date(),
                  "uid": self.session.uid(product.key), "sku": product.sku, "price": self.price(),
                  "currency": self.settings.get("SHOP_CURRENCY", "EUR"),
                  "availability": self.availability(product.availability, product.title), "condition": "new"}
        fields |= {"brand": product.brand} if product.brand else {}
        fields |= {"gtin": product.gtin} if product.gtin else {}
        fields["category"] = self.category()
        fields["tags"] = list(dict.fromkeys(tag for tag in product.tags if tag))
        fields["summary"] = summary_of(product)
        fields["images"] = self.pictures()
        fields |= {"weight": shipping_weight(product.weight_kg)} if product.weight_kg and not product.digital else {}
        fields["shipping_class"] = self.shipping_class()
        fields["digital"], fields["featured"] = product.digital, product.featured
        sale = sale_block(product.regular_price, product.sale_price, product.sale_from, product.sale_to,
                          fields["date"].date())
        fields |= {"sale": sale} if sale and not product.variants else {}
        if product.variants:
            fields["variants"] = [self.variant(variant, fields["date"].date()) for variant in product.variants]
        fields |= self.external()
        related = self.references(product.upsells + product.cross_sells, "related product")
        fields |= {"related": related} if related else {}
        if not fields["images"] or not product.published:
            fields["status"] = "draft"
        return {name: value for name, value in fields.items() if value is not None}

    def date(self) -> dt.datetime:
        """The product's date: its own, else the one its first import gave it (so a re-import changes no byte)."""
        if self.product.date:
            return self.product.date.replace(second=0, microsecond=0, tzinfo=None)
        recorded = self.session.manifest["items"].get(self.product.key, {}).get("date")
        if recorded:
            return dt.datetime.fromisoformat(recorded)
        # The shop's wall clock, as the build reads a bare date: never a future date that would hold it back.
        return dt.datetime.now(_zone(self.settings)).replace(second=0, microsecond=0, tzinfo=None)

    def price(self) -> str | None:
        """The price; a variable product's is its cheapest variant's (every variant states its own)."""
        product = self.product
        prices = [v.regular_price for v in product.variants if v.regular_price is not None]
        if product.regular_price is None and prices:
            return money_text(min(prices))
        return money_text(product.regular_price)

    def availability(self, value: str, what: str) -> str:
        if value in ("backorder", "preorder"):
            self.notes.append(f"{what}: on {value} in WooCommerce, written out_of_stock (the shop needs the day it "
                              f"ships: set availability: {value} and available_from)")
            return "out_of_stock"
        return value if value in AVAILABILITIES else "in_stock"

    def category(self) -> str:
        path = self.product.category_path
        if not path:
            self.notes.append(f"no category: filed under {DEFAULT_CATEGORY!r}")
            return DEFAULT_CATEGORY
        if len(path) > 1:
            self.notes.append(f"category {' > '.join(path)}: the shop's category is {path[-1]!r}")
        return path[-1]

    def pictures(self) -> list[dict]:
        pictures = []
        for number, (url, alt) in enumerate(self.product.images, 1):
            local = self.images.local(url)
            if local is None:
                self.missing_images.append(url)
                continue
            shown = alt or (self.product.title if number == 1 else f"{self.product.title}, foto {number}")
            pictures.append({"src": local, "alt": shown})
        return pictures

    def shipping_class(self) -> str | None:
        wanted = self.product.shipping_class
        classes = self.settings.get("SHOP_SHIPPING_CLASSES") or {}
        default = self.settings.get("SHOP_DEFAULT_SHIPPING_CLASS", "standard")
        if self.product.digital or not wanted:
            return None if self.product.digital else default
        slug = safe_slug(wanted)
        if slug in classes:
            return slug
        self.notes.append(f"shipping class {wanted!r} is not one of the shop's: written {default!r}")
        return default

    def variant(self, variant: ImportedVariant, first_day: dt.date) -> dict:
        entry = {"sku": variant.sku, "options": {option_name(name): value for name, value in variant.options.items()}}
        if variant.regular_price is not None:
            entry["price"] = money_text(variant.regular_price)
        own_price = variant.regular_price if variant.regular_price is not None else self.product.regular_price
        sale = sale_block(own_price, variant.sale_price, variant.sale_from, variant.sale_to, first_day)
        if sale and variant.regular_price is None:  # the shop's rule: a variant's sale goes with its own price
            entry["price"] = money_text(own_price)
        entry |= {"sale": sale} if sale else {}
        entry["availability"] = self.availability(variant.availability, f"variant {variant.sku}")
        local = self.images.local(variant.image_url) if variant.image_url else None
        if variant.image_url and local is None:
            self.notes.append(f"variant {variant.sku}: image not found: {variant.image_url}")
        if local:
            entry["image"] = {"src": local, "alt": f"{self.product.title}, {', '.join(variant.options.values())}"}
        entry |= {"gtin": variant.gtin} if variant.gtin else {}
        if variant.weight_kg and variant.weight_kg != self.product.weight_kg:
            self.notes.append(f"variant {variant.sku}: its own weight {variant.weight_kg} kg is not kept "
                              f"(the shop has one weight per product)")
        return entry

    def external(self) -> dict:
        if self.product.kind != "external":
            return {}
        if not self.product.external_url.startswith(("https://", "http://")):
            self.notes.append(f"external product without a valid link ({self.product.external_url!r})")
            return {}
        return {"external": {"url": self.product.external_url, "button": self.product.button_text or DEFAULT_BUTTON}}

    def references(self, references: list, what: str) -> list[str]:
        slugs = []
        for reference in references:
            slug = self.resolve(reference)
            if slug is None:
                self.notes.append(f"{what} {reference} left out: not among the products published by this import")
            elif slug != self.product.slug and slug not in slugs:
                slugs.append(slug)
        return slugs


# --- checking and writing ---------------------------------------------------------------------------------
def problem(session, fields: dict) -> str | None:
    """The shop parser's complaint about these fields (`field 'x': why`), or None when the build accepts them.

    A draft is checked too, with its missing images taken as found: it must parse once the owner adds them.
    """
    from shop import parse
    from shop.model import ProductError

    settings = session.settings
    content = Path(session.shop) / "content"
    checked, placeholder = dict(fields), "\x00placeholder"
    if not checked.get("images"):
        checked["images"] = [{"src": placeholder, "alt": "placeholder"}]
    try:
        parse.product(checked, default_currency=settings.get("SHOP_CURRENCY", "EUR"), today=dt.date.today(),
                      image_exists=lambda src: src == placeholder or (content / src).is_file(),
                      shipping_classes=tuple(settings.get("SHOP_SHIPPING_CLASSES") or ()),
                      default_shipping_class=settings.get("SHOP_DEFAULT_SHIPPING_CLASS", "standard"),
                      zone=_zone(settings))
    except ProductError as error:
        return str(error)
    return None


def _zone(settings: dict):
    from core import schedule

    return schedule.zone_of(settings)


def front_matter(fields: dict) -> str:
    """YAML in the demo files' style: dates bare, prices and codes quoted, key order as given."""
    text = yaml.safe_dump(fields, allow_unicode=True, sort_keys=False, width=110, default_flow_style=None)
    return f"---\n{text}---\n"


def body_markdown(product: ImportedProduct, images, report) -> str:
    """The description as Markdown: WordPress markup cleaned (paragraphs, shortcodes, images), then converted."""
    from . import wpmarkup

    source = product.description_html.strip()
    if not source:
        return ""
    cleaned = wpmarkup.clean(source, images.local)
    for url in cleaned.missing_images:
        report.note(CHANGED, f"{product.where}: {product.title!r}: image in the description not found: {url}")
    try:
        from . import htmlmd
    except ImportError:  # until the converter exists: Markdown keeps HTML as it is
        return cleaned.html
    return htmlmd.to_markdown(cleaned.html)


def will_publish(session, images, product: ImportedProduct) -> bool:
    """Whether write_product would write this product for the build to publish (a price, an image, valid fields).

    Its images are copied on the way (once: the ImageCopier remembers them). An importer asks it of every
    product before writing any, so that references between products name only published ones.
    """
    fields = ProductFile(session, images, product, lambda reference: None).fields()
    return (product.published and fields.get("status") != "draft" and fields.get("price") is not None
            and problem(session, fields) is None)


def write_product(session, images, product: ImportedProduct, report,
                  resolve_sku: Callable[[str], str | None]):
    """Write content/products/<slug>.md for one product; the Written, or None when it was not importable."""
    built = ProductFile(session, images, product, resolve_sku)
    fields = built.fields()
    if fields.get("price") is None:
        return _refused(report, product, "field 'price': no price in WooCommerce")
    complaint = problem(session, fields)
    if complaint:
        return _refused(report, product, complaint)
    for note in built.notes:
        report.note(CHANGED, f"{product.where}: {product.title!r}: {note}")
    if not fields["images"]:
        shown = ", ".join(built.missing_images) or "none in the export"
        report.note(NO_IMAGE, f"{product.where}: {product.title!r} (images: {shown})")
    elif built.missing_images:
        report.note(CHANGED, f"{product.where}: {product.title!r}: images not found: {', '.join(built.missing_images)}")
    if not product.published:
        report.note("drafts (not published in WooCommerce)", f"{product.where}: {product.title!r}")
    text = front_matter(fields) + "\n" + (body_markdown(product, images, report).strip() or summary_of(product)) + "\n"
    path = session.path_for(product.key, f"content/products/{product.slug}.md")
    written = session.write_text(product.key, path, text, "products", slug=product.slug,
                                 date=fields["date"].isoformat(timespec="minutes"))
    if fields.get("status") != "draft":
        _redirects(session, product, session.url("product", product.slug))
    return written


def _refused(report, product: ImportedProduct, why: str) -> None:
    report.count("products", "skipped")
    report.note(NOT_IMPORTED, f"{product.where}: {product.title!r}: {why}")
    return None


def _redirects(session, product: ImportedProduct, new: str) -> None:
    """The product's old addresses, and its categories' (each once: the manifest's redirects are a mapping)."""
    for old in product.old_urls:
        session.redirect(old, new)
    if product.category_path:
        slugs = "/".join(session.term_slug("product_category", name) for name in product.category_path)
        leaf = session.term_slug("product_category", product.category_path[-1])
        session.redirect(f"/product-category/{slugs}/", session.url("product_category", leaf))


def write_group(session, product: ImportedProduct, report, resolve_sku: Callable[[str], str | None]):
    """A grouped product as a keyword list (content/lists/<slug>.md) pinning its children; None if none is left."""
    built = ProductFile(session, None, product, resolve_sku)
    pinned = built.references(product.children, "grouped product")
    for note in built.notes:
        report.note(CHANGED, f"{product.where}: {product.title!r}: {note}")
    if not pinned:
        return _refused(report, product, "grouped product whose products were not imported")
    date = built.date()
    fields = {"title": product.title, "slug": product.slug, "date": date, "summary": summary_of(product),
              "pinned": pinned, "limit": len(pinned)}
    fields |= {"tags": list(product.tags)} if product.tags else {}
    body = body_markdown(product, _NoImages(), report).strip() or summary_of(product)
    text = front_matter(fields) + "\n" + body + "\n"
    path = session.path_for(product.key, f"content/lists/{product.slug}.md")
    written = session.write_text(product.key, path, text, "lists", slug=product.slug,
                                 date=date.isoformat(timespec="minutes"))
    pattern = session.settings.get("SHOP_LIST_URL")
    if pattern:
        for old in product.old_urls:
            session.redirect(old, "/" + pattern.format(slug=product.slug).lstrip("/"))
    return written


class _NoImages:
    """For a list's text: its images are not copied (a list page shows its products' own)."""

    @staticmethod
    def local(url):
        return None
