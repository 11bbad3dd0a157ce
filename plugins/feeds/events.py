"""What changed in the catalogue, as feed items: new products, price drops, products back in stock. Pure."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

NEW, SALE, RESTOCK = "new", "sale", "restock"


@dataclass(frozen=True)
class Event:
    kind: str
    product: object  # the product page
    day: dt.date

    @property
    def guid(self) -> str:
        """Stable across domains, slugs and rebuilds: derived from the product's uid, the event and its day."""
        base = uuid.UUID(product_uid(self.product))
        return f"urn:uuid:{uuid.uuid5(base, f'{self.kind}:{self.day.isoformat()}')}"


def product_uid(product) -> str:
    """The product's permanent uid; a file without one gets a uuid5 of its source path (stable until renamed)."""
    return product.uid or str(uuid.uuid5(uuid.NAMESPACE_URL, f"vetrina:{product.relative_source_path}"))


def product_events(products, today: dt.date, new_days: int) -> list[Event]:
    """The catalogue's news as of today, newest first."""
    events = []
    for product in products:
        listed = product.date.date()
        if (today - listed).days <= new_days and listed <= today:
            events.append(Event(NEW, product, listed))
        sale_start = sale_start_of(product)
        if sale_start and sale_start <= today:
            events.append(Event(SALE, product, sale_start))
        restocked = product.restocked
        if restocked and restocked <= today and product.available:
            events.append(Event(RESTOCK, product, restocked))
    return sorted(events, key=lambda event: (event.day, event.kind), reverse=True)


def sale_start_of(product):
    """The start of the sale running on any of the product's offers, if one is."""
    starts = [offer.sale_starts for offer in product.offers if offer.on_sale and offer.sale_starts]
    return max(starts) if starts else None
