"""A new product file for `invoke new-product`, written from the shop's own settings and checked by its parser.

The file carries every product field with commented examples of the optional ones. Its currency, shipping
class and the list of classes come from the validated shop settings, so it fits the shop it is written
for; before it is written, the text is read back with the shop's own front-matter reader and product parser.

Two choices a shop owner would expect:

- Price: `--price` is optional and defaults to 0.00, a placeholder to fill in. The file is a draft (drafts
  are never read by the build), and a published product at 0.00 stops the build with "field 'price': must be
  greater than zero", so a forgotten price cannot reach the shop. Every other field is checked now, with a
  positive placeholder in place of the 0.00.
- Category: a generic "Prodotti", with the categories the catalogue already has (published products) listed
  in the comment below it.
  Picking one of them (say the first in alphabetical order) would put a new guitar among the "Accessori"
  without anybody noticing; a generic name is obviously to be changed, and the list makes the change easy.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import textwrap
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Iterable

import yaml

from core.scaffold import ScaffoldError, now_minute, required_slug

from . import frontmatter, parse
from .settings import DEFAULTS, ShopSettings

DEFAULT_CATEGORY = "Prodotti"
PRICE_PATTERN = re.compile(r"\d+(\.\d{1,2})?")
# Only for checking a file whose price is still the 0.00 placeholder; never written.
PLACEHOLDER_PRICE = "1.00"
COMMENT_COLUMN = 34

PRODUCT_TEMPLATE = """\
---
# A product of the shop. Fields marked (optional) may be deleted. Remove `status: draft` to publish.
title: {title}
slug: {slug}
date: {date}
uid: {uid}                  # permanent id: never change it
status: draft
{sku_line}# unique across the catalogue
{price_line}# {price_comment}
currency: {currency}
availability: in_stock            # in_stock | out_of_stock | preorder | backorder
condition: used                   # new | used | refurbished
brand: ""                         # (optional) maker
mpn: ""                           # (optional) maker's part number
gtin: ""                          # (optional) EAN/UPC barcode, only if the product has one
{category_line}# {category_comment}
tags: [usato]
summary: "Una frase che descrive il prodotto: appare nel catalogo e nei motori di ricerca."
images:                           # the first is the main one; files live in content/images/
  - src: images/products/{slug_path}.jpg
    alt: "Descrivi la foto per chi non la vede"
weight: 1.0                       # (optional) shipping weight in kg
{shipping_line}# one of SHOP_SHIPPING_CLASSES: {classes}
digital: false                    # true for e-books and downloads: nothing is shipped
featured: false                   # shown on the home page
boost: 1                          # (optional) weight in keyword lists: above 1 favours it
# sale:                           # (optional) a promotion
#   price: "99.00"
#   start: 2026-12-01
#   end: 2026-12-31
# price_history:                  # (optional) past prices, to show the lowest of the 30 days before a sale
#   - date: 2026-10-01
#     price: "129.00"
# variants:                       # (optional) versions with their own sku, price, availability, image
#   - sku: {sku}-R
#     options: {{color: Rosso}}      # color | size | material | pattern, or a name of yours (Lunghezza)
#     price: "129.00"
#     availability: in_stock
#     image: {{src: images/products/{slug_path}-rosso.jpg, alt: "La versione rossa"}}
# checkout:                       # (optional) payment links, for SHOP_CHECKOUT stripe or paypal
#   stripe: https://buy.stripe.com/...
---

Descrivi lo strumento: condizioni, cosa ha fatto il laboratorio, cosa è incluso.
"""


def check_price(price: str) -> str:
    """The price as written on the command line, when it is a dot-decimal amount with up to two decimals."""
    if not PRICE_PATTERN.fullmatch(price):
        raise ScaffoldError(f"Price {price!r}: write it with a dot and up to two decimals, e.g. 129.00")
    return price


def shop_settings(settings: dict) -> ShopSettings:
    """The shop's validated settings from a Pelican settings dict (left as it is), with the shop's defaults."""
    settings = dict(settings)
    for key, value in DEFAULTS.items():
        settings.setdefault(key, value)
    try:
        return ShopSettings.from_settings(settings)
    except ValueError as error:
        raise ScaffoldError(f"Shop settings: {error}") from None


def existing_categories(content: Path, product_paths: Iterable[str]) -> list[str]:
    """The categories of the published product files under content, sorted; unreadable files skipped."""
    categories = set()
    for folder in product_paths:
        for path in sorted((Path(content) / folder).rglob("*.md")):
            try:
                fields, _ = frontmatter.split(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError):
                continue
            if str(fields.get("status", "published")).lower() == "draft":
                continue  # like the build: a draft's category is not in the catalogue yet
            category = fields.get("category")
            if isinstance(category, str) and category.strip():
                categories.add(category.strip())
    return sorted(categories, key=str.casefold)


def scalar(value: str) -> str:
    """value as a YAML scalar that reads back as the same text: plain when it does, else quoted."""
    try:
        plain_ok = "#" not in value and "\n" not in value and yaml.safe_load(value) == value
    except yaml.YAMLError:
        plain_ok = False
    return value if plain_ok else json.dumps(value, ensure_ascii=False)


def category_comment(categories: list[str]) -> str:
    """The category's comment: what it is and, wrapped on the lines below, the categories in use."""
    if not categories:
        return "a section of the catalogue"
    in_use = textwrap.wrap("in use: " + ", ".join(categories), width=100, break_long_words=False,
                           break_on_hyphens=False)
    return "a section of the catalogue: one in use, or a new one\n" + "\n".join(f"#   {line}" for line in in_use)


def field(name: str, value: str) -> str:
    """`name: value` padded so that the comment that follows starts where the template's comments do."""
    return f"{name}: {value} ".ljust(COMMENT_COLUMN)


def product_file(name: str, price: str, settings: dict, *, categories: Iterable[str] = (),
                 date: str | None = None, uid: str | None = None) -> str:
    """The text of a new draft product file for the shop these Pelican settings describe, checked by its parser.

    categories: those already in the catalogue, named in the category's comment.
    Raises ScaffoldError when the name makes no slug, the price is malformed, the shop settings are
    wrong, or the file would not parse (then it names the field).
    """
    slug = required_slug(name, "name")
    check_price(price)
    shop = shop_settings(settings)
    zero = Decimal(price) == 0
    sku = slug.upper().replace("-", "")[:12]
    categories = list(categories)
    text = PRODUCT_TEMPLATE.format(
        title=json.dumps(name, ensure_ascii=False),
        slug=scalar(slug),
        slug_path=slug,
        date=date or now_minute(),
        uid=uid or uuid.uuid4(),
        sku=sku,
        sku_line=field("sku", scalar(sku)),
        price_line=field("price", f'"{price}"'),
        price_comment="dot decimal, VAT included" + (
            "; 0.00 is a placeholder: write the price before publishing" if zero else ""),
        currency=shop.currency,
        category_line=field("category", scalar(DEFAULT_CATEGORY)),
        category_comment=category_comment(categories),
        shipping_line=field("shipping_class", scalar(shop.default_shipping_class)),
        classes=", ".join(shop.shipping_classes),
    )
    validate(text, shop, placeholder_price=zero)
    return text


def validate(text: str, shop: ShopSettings, *, placeholder_price: bool = False, today: dt.date | None = None):
    """The Product the shop's parser reads from text, images assumed present; raises ScaffoldError otherwise."""
    try:
        fields, _ = frontmatter.split(text)
        if placeholder_price:
            fields["price"] = PLACEHOLDER_PRICE
        return parse.product(fields, default_currency=shop.currency, today=today or shop.today,
                             image_exists=lambda src: True, shipping_classes=shop.shipping_classes,
                             default_shipping_class=shop.default_shipping_class)
    except ValueError as error:
        raise ScaffoldError(f"The new product file would not build: {error}") from None


def new_product(name: str, price: str, settings: dict, content: Path) -> tuple[Path, str]:
    """Where the new product file goes (the first SHOP_PRODUCT_PATHS folder under content) and its text."""
    slug = required_slug(name, "name")
    check_price(price)
    shop = shop_settings(settings)
    categories = existing_categories(content, shop.product_paths)
    return Path(content) / shop.product_paths[0] / f"{slug}.md", product_file(name, price, settings,
                                                                               categories=categories)
