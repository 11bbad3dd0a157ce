"""Prices shown right: formatted for the page's language with Babel."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, format_decimal
from jinja2 import pass_context


def format_money(amount: Decimal, currency: str, locale: str) -> str:
    """it: 1.299,00 €; en: €1,299.00."""
    return format_currency(amount, currency, locale=locale)


def make_filters(page_lang, default_lang: str) -> dict:
    @pass_context
    def money(context, offer_or_amount, currency=None):
        amount = getattr(offer_or_amount, "price", offer_or_amount)
        currency = currency or getattr(offer_or_amount, "currency")
        return format_money(Decimal(amount), currency, page_lang(context, default_lang))

    @pass_context
    def rating(context, value):
        """An average rating with one decimal, in the page's language (4,7 / 4.7)."""
        return format_decimal(value, format="0.0", locale=page_lang(context, default_lang))

    return {"money": money, "rating": rating}
