"""Google Merchant Center fields (the g: namespace) as a feedgen extension."""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

GOOGLE_NS = "http://base.google.com/ns/1.0"


class GoogleMerchantExtension(BaseExtension):
    def extend_ns(self):
        return {"g": GOOGLE_NS}


class GoogleMerchantEntryExtension(BaseEntryExtension):
    """Holds an item's g: fields in order; repeated fields (additional_image_link) are lists."""

    def __init__(self):
        self.fields: list[tuple[str, str]] = []

    def field(self, name: str, value) -> None:
        if value not in (None, ""):
            self.fields.append((name, str(value)))

    def extend_rss(self, entry):
        for name, value in self.fields:
            xml_elem(f"{{{GOOGLE_NS}}}{name}", entry).text = value
        return entry

    def extend_atom(self, entry):
        return entry


AVAILABILITY = {"in_stock": "in_stock", "out_of_stock": "out_of_stock", "preorder": "preorder",
                "backorder": "backorder"}


def price_text(amount, currency: str) -> str:
    return f"{amount:.2f} {currency}"


def item_fields(entry, product, offer, variant, absolute, timezone_offset: str) -> None:
    """Fill one Merchant Center item: a product without variants, or one variant of a product group."""
    g = entry.g
    model = product.model
    g.field("id", offer.sku)
    if variant is not None:
        g.field("item_group_id", model.sku)
    image = (variant.image if variant is not None and variant.image else model.images[0]).src
    g.field("image_link", absolute(image))
    for extra in model.images[1:] if variant is None else []:
        g.field("additional_image_link", absolute(extra.src))
    g.field("availability", AVAILABILITY[offer.availability.value])
    g.field("price", price_text(offer.regular_price, offer.currency))
    if offer.on_sale:
        g.field("sale_price", price_text(offer.price, offer.currency))
        if offer.sale_starts and offer.sale_ends:
            g.field("sale_price_effective_date",
                    f"{offer.sale_starts.isoformat()}T00:00{timezone_offset}/"
                    f"{offer.sale_ends.isoformat()}T23:59{timezone_offset}")
    g.field("condition", model.condition.value)
    g.field("brand", model.brand)
    gtin = variant.gtin if variant is not None else model.gtin
    mpn = (variant.mpn if variant is not None else "") or model.mpn
    g.field("gtin", gtin)
    g.field("mpn", mpn)
    if not gtin and not mpn:
        g.field("identifier_exists", "no")
    if variant is not None:
        for option, value in variant.options.items():
            g.field(option, value)
    g.field("product_type", str(product.category))
    if model.weight_kg is not None and not model.digital:
        g.field("shipping_weight", f"{model.weight_kg} kg")
