"""A cart's lines, shipping and total from the catalogue: the one rule the cart page, the order endpoint and
the tests share. Pure: the catalogue (or the build's cart.json) in, Totals out.

The build publishes the price list as cart.json (PriceList.as_json): every offer that is sold, by sku, with its
price as text, its shipping class (None when nothing is shipped), whether it can be bought now, its name, page
and image. The cart page's script computes with exactly these fields and the same rule; the forms endpoint reads
the same file back (PriceList.from_json) and computes the order's total again, so what the visitor saw, what the
shop receives and what the page, JSON-LD and feeds state all come from the one record.

Shipping of a cart: nothing when no line is shipped, or when the subtotal reaches SHOP_FREE_SHIPPING_FROM (the
threshold each offer's own shippingDetails already states); otherwise one parcel at the highest rate among the
shipped lines' classes (a cart with a guitar and a set of strings pays the guitar's rate once).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

FILE = "cart.json"
MAX_QUANTITY = 99  # per line: more is a typo or an abuse, and the order endpoint refuses it
MAX_LINES = 50
# The cart page's URL after an order: the endpoint's receipt links back with ?inviato=<the order's key> (the cart
# is emptied when it is the key this browser sent), PayPal returns with ?pagato=1 after a payment.
SENT_PARAMETER = "inviato"
PAID_PARAMETER = "pagato"


class CartError(ValueError):
    """A line names no offer on sale, or a quantity that is not a whole number from 1 to MAX_QUANTITY."""


@dataclass(frozen=True)
class PricedOffer:
    sku: str
    name: str
    price: Decimal
    shipping_class: str | None  # None: nothing is shipped (digital)
    purchasable: bool
    url: str
    image: str


@dataclass(frozen=True)
class Line:
    offer: PricedOffer
    quantity: int

    @property
    def total(self) -> Decimal:
        return self.offer.price * self.quantity


@dataclass(frozen=True)
class Totals:
    lines: tuple[Line, ...]
    subtotal: Decimal
    shipping: Decimal
    total: Decimal
    currency: str
    free_from: Decimal | None

    @property
    def free_shipping(self) -> bool:
        return self.shipping == 0 and any(line.offer.shipping_class for line in self.lines)


def _text(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal('0.01'))}"


@dataclass(frozen=True)
class PriceList:
    currency: str
    rates: dict  # shipping class -> Decimal
    free_from: Decimal | None
    offers: dict  # sku -> PricedOffer

    @classmethod
    def from_catalogue(cls, shop, absolute=lambda path: path) -> "PriceList":
        """From the build's catalogue (context["shop"]): one entry per offer sold, in catalogue order."""
        config = shop.settings
        offers = {}
        for product in shop.products:
            if getattr(product, "external", None):
                continue  # sold by someone else: never in a cart of ours
            for sold in product.sold:
                offers[sold.sku] = PricedOffer(
                    sold.sku, sold.name, sold.offer.price, None if product.digital else product.shipping_class,
                    sold.offer.availability.purchasable, absolute(sold.url), absolute(sold.image.src))
        rates = {name: shipping_class.rate for name, shipping_class in config.shipping_classes.items()}
        return cls(config.currency, rates, config.free_shipping_from, offers)

    def as_json(self) -> dict:
        """cart.json: prices and rates as text with a dot (never floats), offers as short arrays."""
        return {
            "currency": self.currency,
            "free_from": _text(self.free_from) if self.free_from is not None else None,
            "rates": {name: _text(rate) for name, rate in self.rates.items()},
            # sku: [name, price, shipping class or null, purchasable, url, image]
            "offers": {sku: [o.name, _text(o.price), o.shipping_class, o.purchasable, o.url, o.image]
                       for sku, o in self.offers.items()},
        }

    @classmethod
    def from_json(cls, data: dict) -> "PriceList":
        """Back from cart.json (what the order endpoint reads); ValueError when the file is not one."""
        try:
            offers = {sku: PricedOffer(sku, name, Decimal(price), shipping_class, bool(purchasable), url, image)
                      for sku, (name, price, shipping_class, purchasable, url, image) in data["offers"].items()}
            rates = {name: Decimal(rate) for name, rate in data["rates"].items()}
            free_from = Decimal(data["free_from"]) if data.get("free_from") is not None else None
            return cls(str(data["currency"]), rates, free_from, offers)
        except (KeyError, TypeError, ValueError, InvalidOperation) as error:
            raise ValueError(f"not a cart price list: {error}") from None

    def totals(self, quantities) -> Totals:
        """The cart of (sku, quantity) pairs priced: a sku given twice is one line with the quantities added."""
        merged: dict[str, int] = {}
        for sku, quantity in quantities:
            offer = self.offers.get(sku)
            if offer is None:
                raise CartError(f"{sku!r} is not sold in this shop")
            if not offer.purchasable:
                raise CartError(f"{sku!r} cannot be bought now")
            try:
                number = int(str(quantity).strip())
            except ValueError:
                raise CartError(f"the quantity of {sku!r} must be a whole number, not {quantity!r}") from None
            if not 1 <= number <= MAX_QUANTITY:
                raise CartError(f"the quantity of {sku!r} must be from 1 to {MAX_QUANTITY}, not {number}")
            merged[sku] = merged.get(sku, 0) + number
            if merged[sku] > MAX_QUANTITY:
                raise CartError(f"the quantity of {sku!r} must be from 1 to {MAX_QUANTITY}")
        if not merged:
            raise CartError("the cart is empty")
        if len(merged) > MAX_LINES:
            raise CartError(f"a cart holds at most {MAX_LINES} different items")
        lines = tuple(Line(self.offers[sku], quantity) for sku, quantity in merged.items())
        subtotal = sum((line.total for line in lines), Decimal("0"))
        shipped = [self.rates[line.offer.shipping_class] for line in lines if line.offer.shipping_class]
        free = not shipped or (self.free_from is not None and subtotal >= self.free_from)
        shipping = Decimal("0") if free else max(shipped)
        return Totals(lines, subtotal, shipping, subtotal + shipping, self.currency, self.free_from)
