"""Google Merchant Center fields (the g: namespace) as a feedgen extension."""

from __future__ import annotations

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

from shop.catalog import SoldOffer, price_with_currency

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


def item_fields(entry, product, sold: SoldOffer, absolute) -> None:
    """Fill one Merchant Center item: a product without variants, or one variant of a product group."""
    g = entry.g
    offer, variant = sold.offer, sold.variant
    g.field("id", offer.sku)
    if variant is not None:
        g.field("item_group_id", product.sku)
    g.field("image_link", absolute(sold.image.src))
    for extra in product.images[1:] if variant is None else []:
        g.field("additional_image_link", absolute(extra.src))
    g.field("availability", AVAILABILITY[offer.availability.value])
    if offer.available_from:
        g.field("availability_date", offer.available_from_text)  # required for preorder and backorder
    g.field("price", price_with_currency(offer.regular_price, offer.currency))
    if offer.on_sale:
        g.field("sale_price", price_with_currency(offer.price, offer.currency))
        if offer.sale_starts and offer.sale_ends:
            # Each end with the offset of its own instant (a sale may start in winter and end in summer time).
            g.field("sale_price_effective_date", offer.sale_effective_date)
    g.field("condition", product.condition.value)
    g.field("brand", product.brand)
    g.field("gtin", sold.gtin)
    g.field("mpn", sold.mpn)
    if not sold.gtin and not sold.mpn:
        g.field("identifier_exists", "no")
    if variant is not None:
        for option, value in variant.google_options.items():
            g.field(option, value)
    g.field("product_type", product.category.name)
    if product.weight_kg is not None and not product.digital:
        g.field("shipping_weight", f"{product.weight_kg} kg")
