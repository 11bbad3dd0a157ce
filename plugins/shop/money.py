"""Prices and ratings shown right: formatted for the page's language with Babel."""

from __future__ import annotations

from babel.numbers import format_decimal
from jinja2 import pass_context

from .catalog import format_money


def make_filters(page_lang, default_lang: str) -> dict:
    @pass_context
    def money(context, offer_or_amount, currency=None):
        """An Offer's price, or an amount with its currency: it 1.299,00 €; en €1,299.00."""
        amount = getattr(offer_or_amount, "price", offer_or_amount)
        currency = currency or getattr(offer_or_amount, "currency")
        return format_money(amount, currency, page_lang(context, default_lang))

    @pass_context
    def rating(context, value):
        """An average rating with one decimal, in the page's language (4,7 / 4.7)."""
        return format_decimal(value, format="0.0", locale=page_lang(context, default_lang))

    return {"money": money, "rating": rating}
