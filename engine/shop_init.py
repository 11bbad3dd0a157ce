"""`vetrina init DIR`: a new shop of one's own, made of settings and content only, that uses the installed engine.

The shop's pelicanconf.py imports the engine's settings (`from vetrina.defaults import *`) and states only the
shop's own; the legal pages are written as drafts to review, and a production build refuses to publish while
any of them still is one. Nothing of the engine is copied into the shop, so upgrading Vetrina never touches it.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from . import skeleton


class InitError(ValueError):
    """A value that cannot make a shop (a partita IVA that does not check out, a folder already in use)."""


LANGUAGES = ("it", "en")
CURRENCY = re.compile(r"[A-Z]{3}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def vat_number(text: str) -> str:
    """An Italian partita IVA as `IT` + 11 digits, when its check digit is right (Luhn-like, as the Agenzia's)."""
    digits = re.sub(r"[\s.-]", "", str(text)).upper().removeprefix("IT")
    if not re.fullmatch(r"\d{11}", digits):
        raise InitError(f"partita IVA {text!r}: write its 11 digits, like IT03947120378")
    total = 0
    for index, digit in enumerate(int(char) for char in digits[:10]):
        if index % 2:
            digit *= 2
            digit -= 9 if digit > 9 else 0
        total += digit
    if (10 - total % 10) % 10 != int(digits[10]):
        raise InitError(f"partita IVA {text!r}: its check digit is wrong; copy it again from the chamber of commerce")
    return "IT" + digits


@dataclass(frozen=True)
class ShopFacts:
    name: str
    legal_name: str
    street: str
    postal_code: str
    city: str
    region: str
    vat_id: str
    email: str
    phone: str
    url: str
    lang: str = "it"
    currency: str = "EUR"

    @classmethod
    def checked(cls, **values) -> "ShopFacts":
        """The facts with every value checked; all the problems are said together."""
        problems = []
        for name in ("name", "legal_name", "street", "postal_code", "city", "email", "phone", "url"):
            if not str(values.get(name) or "").strip():
                problems.append(f"--{name.replace('_', '-')} is missing")
        try:
            values["vat_id"] = vat_number(values.get("vat_id") or "")
        except InitError as error:
            problems.append(str(error))
        if values.get("email") and not EMAIL.fullmatch(values["email"]):
            problems.append(f"e-mail {values['email']!r}: write it like negozio@example.it")
        if values.get("url") and not re.fullmatch(r"https://[^\s/]+(/[^\s]*)?", values["url"]):
            problems.append(f"site URL {values['url']!r}: write the https address, like https://www.negozio.it")
        if values.get("lang", "it") not in LANGUAGES:
            problems.append(f"language {values.get('lang')!r}: use one of {', '.join(LANGUAGES)}")
        values["currency"] = str(values.get("currency") or "EUR").upper()
        if not CURRENCY.fullmatch(values["currency"]):
            problems.append(f"currency {values['currency']!r}: write its ISO 4217 code, like EUR")
        if problems:
            raise InitError("; ".join(problems))
        values["url"] = values["url"].rstrip("/")
        values.setdefault("region", "")
        return cls(**{key: str(value).strip() for key, value in values.items()})


def plan(facts: ShopFacts, today: dt.date | None = None) -> dict[str, bytes]:
    """Every file of the new shop, by path relative to its folder."""
    today = today or dt.date.today()
    files = {path: text.encode("utf-8") for path, text in skeleton.texts(facts, today, str(uuid.uuid4()),
                                                                         str(uuid.uuid4())).items()}
    files["content/images/products/esempio.jpg"] = files["content/images/posts/benvenuti.jpg"] = \
        skeleton.example_photo()
    return files


def create(folder: Path, facts: ShopFacts, force: bool = False, today: dt.date | None = None) -> list[str]:
    """Write the shop into folder; without force, refuse when any of its files is already there."""
    folder = Path(folder)
    files = plan(facts, today)
    existing = sorted(path for path in files if (folder / path).exists())
    if existing and not force:
        raise InitError(f"{folder}: {len(existing)} of the shop's files are already there (first: {existing[0]}); "
                        "choose an empty folder, or add --force to overwrite them")
    for path, data in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return sorted(files)


QUESTIONS = (("name", "Nome del negozio"), ("legal_name", "Ragione sociale"), ("street", "Via e numero"),
             ("postal_code", "CAP"), ("city", "Città"), ("region", "Provincia (sigla)"), ("vat_id", "Partita IVA"),
             ("email", "E-mail del negozio"), ("phone", "Telefono"), ("url", "Indirizzo del sito (https://...)"))


def ask_missing(values: dict, ask) -> dict:
    """The values with each missing one asked for (at a terminal; scripts give flags)."""
    values = dict(values)
    for key, question in QUESTIONS:
        while not str(values.get(key) or "").strip():
            values[key] = ask(f"{question}: ").strip()
            if key == "region":
                break
    return values
