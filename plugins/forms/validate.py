"""The posted fields of each form checked and turned into data. Pure: field lists in, a form or problems out.

A problem is (field, message): the message is an English msgid that the answer page shows translated, next to
the form again with what the visitor wrote, so nothing typed is lost.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from newsletter.recipients import normalise


def N_(text: str) -> str:
    """Marks a message for the catalogues; it is translated where it is shown."""
    return text

LIMITS = {"name": 200, "email": 254, "address": 1000, "phone": 40, "note": 2000, "order": 100, "items": 2000,
          "order_date": 10, "total": 20, "nonce": 64, "key": 64, "lang": 5}
MAX_LINES = 50


class Problems(list):
    """(field, message) pairs; empty when the form is valid."""

    def add(self, name: str, message: str) -> None:
        self.append((name, message))

    @property
    def fields(self) -> set[str]:
        return {name for name, _ in self}


MULTILINE = ("address", "note", "items")


def one(fields: dict, name: str, problems: Problems, required: bool = True) -> str:
    """The field's single value, stripped (a one-line field on one line, since names go into mail headers);
    a missing required one or one too long is a problem."""
    values = fields.get(name) or [""]
    value = values[0].strip().replace("\r\n", "\n")
    if name not in MULTILINE:
        value = " ".join(value.split())
    if len(value) > LIMITS.get(name, 200):
        problems.add(name, N_("This is too long."))
    elif required and not value:
        problems.add(name, N_("Please fill in this field."))
    return value


def email(fields: dict, problems: Problems, name: str = "email") -> str:
    value = one(fields, name, problems)
    if value and name not in problems.fields:
        try:
            return normalise(value)
        except ValueError:
            problems.add(name, N_("This is not an e-mail address."))
    return value


def language(fields: dict, languages, default: str) -> str:
    value = (fields.get("lang") or [""])[0].strip().lower()
    return value if value in languages else default


@dataclass(frozen=True)
class OrderForm:
    lines: tuple  # (sku, quantity text) pairs, in the order posted
    name: str
    email: str
    address: str
    phone: str
    note: str
    seen_total: Decimal | None  # what the visitor's page showed, if it said
    nonce: str


def order(fields: dict) -> tuple[OrderForm, Problems]:
    problems = Problems()
    skus = [sku.strip() for sku in fields.get("sku", [])]
    quantities = [quantity.strip() for quantity in fields.get("quantity", [])]
    if not skus:
        problems.add("sku", N_("The cart is empty."))
    elif len(skus) != len(quantities):
        problems.add("quantity", N_("Each item needs its quantity."))
    elif len(skus) > MAX_LINES:
        problems.add("sku", N_("The cart has too many lines."))
    total_text = one(fields, "total", problems, required=False)
    seen = None
    if total_text:
        try:
            seen = Decimal(total_text)
            if not seen.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            seen = None  # the catalogue's total is the one that counts anyway
    form = OrderForm(tuple(zip(skus, quantities)), one(fields, "name", problems), email(fields, problems),
                     one(fields, "address", problems), one(fields, "phone", problems, required=False),
                     one(fields, "note", problems, required=False), seen, one(fields, "nonce", problems, False))
    return form, problems


@dataclass(frozen=True)
class WithdrawalForm:
    name: str
    order: str
    email: str
    items: str
    order_date: str  # ISO day, or ""


def withdrawal(fields: dict) -> tuple[WithdrawalForm, Problems]:
    problems = Problems()
    day = one(fields, "order_date", problems, required=False)
    if day and "order_date" not in problems.fields:
        try:
            day = dt.date.fromisoformat(day).isoformat()
        except ValueError:
            problems.add("order_date", N_("Write the date like 2026-11-22."))
    form = WithdrawalForm(one(fields, "name", problems), one(fields, "order", problems), email(fields, problems),
                          one(fields, "items", problems, required=False), day)
    return form, problems


def signup(fields: dict) -> tuple[str, Problems]:
    problems = Problems()
    address = email(fields, problems)
    if (fields.get("consent") or [""])[0] != "yes":
        problems.add("consent", N_("Please tick the box to agree."))
    return address, problems
