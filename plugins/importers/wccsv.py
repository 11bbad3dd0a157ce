"""Reading WooCommerce's product CSV: its columns in English or Italian, and its cells' small conventions.

WooCommerce writes the headers in the admin's language, so a column is known by its English name or its
Italian ones (today's translation and the older one: `Data in cui termina l'offerta` and `Termine data del
prezzo di vendita`), compared without case and with spacing and apostrophes made uniform. Cells: lists are
separated by commas, a comma inside a value is `\\,`; newlines in texts are a literal `\\n`; prices may be
localised (`1.249,00`); the weight's unit is in its header (`Weight (lbs)`); the file starts with a BOM.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from pathlib import Path

COLUMNS = {
    "id": ["ID"],
    "type": ["Type", "Tipo"],
    "sku": ["SKU", "COD", "Codice"],
    "gtin": ["GTIN, UPC, EAN, or ISBN", "GTIN, UPC, EAN, o ISBN", "GTIN, UPC, EAN o ISBN"],
    "name": ["Name", "Nome"],
    "published": ["Published", "Pubblicato"],
    "featured": ["Is featured?", "In primo piano?", "In evidenza?"],
    "short": ["Short description", "Breve descrizione", "Descrizione breve"],
    "description": ["Description", "Descrizione"],
    "sale_from": ["Date sale price starts", "Data di partenza del prezzo in saldo", "Data di inizio dell'offerta"],
    "sale_to": ["Date sale price ends", "Data in cui termina l'offerta", "Termine data del prezzo di vendita"],
    "in_stock": ["In stock?", "Disponibile?", "In magazzino?"],
    "backorders": ["Backorders allowed?", "Abilita gli ordini arretrati?", "Ordini arretrati consentiti?"],
    "sale_price": ["Sale price", "Prezzo in offerta", "Prezzo scontato"],
    "regular_price": ["Regular price", "Prezzo di listino", "Prezzo regolare"],
    "categories": ["Categories", "Categorie"],
    "tags": ["Tags", "Tag", "Etichette"],
    "shipping_class": ["Shipping class", "Classe di spedizione"],
    "images": ["Images", "Immagine", "Immagini"],
    "parent": ["Parent", "Genitore"],
    "grouped": ["Grouped products", "Prodotti raggruppati"],
    "upsells": ["Upsells", "Up-sell", "Upsell"],
    "cross_sells": ["Cross-sells", "Cross-sell"],
    "external_url": ["External URL", "URL esterno", "URL esterna"],
    "button_text": ["Button text", "Testo del pulsante"],
    "brand": ["Brands", "Marchi", "Marchio", "Brand"],
}
# The header text (not markup) tells the unit or the attribute's number: a regex is the right tool for it.
WEIGHT = re.compile(r"^(?:weight|peso)\s*\(\s*(kg|g|lbs|lb|oz)\s*\)$")
NUMBER = re.compile(r"\b(\d+)\b")
TO_KG = {"kg": Decimal(1), "g": Decimal("0.001"), "lbs": Decimal("0.45359237"), "lb": Decimal("0.45359237"),
         "oz": Decimal("0.028349523125")}
ATTRIBUTE_PARTS = (("name", ("name", "nome")), ("values", ("value", "valor", "valut")),
                   ("default", ("default", "predefinit")))


def normal(header: str) -> str:
    """A header compared loosely: no BOM, lower case, one space, straight apostrophes."""
    text = unicodedata.normalize("NFKC", header.replace("\ufeff", "")).replace("\u2019", "'").lower()
    return " ".join(text.split())


KNOWN = {normal(alias): name for name, aliases in COLUMNS.items() for alias in aliases}


def attribute_part(header: str) -> tuple[int, str] | None:
    """`Attribute 2 value(s)`, `Nome dell'attributo 2`, `Attributo 2 valuta(e)` → (2, "values")."""
    number = NUMBER.search(header)
    if "attribut" not in header or number is None:
        return None
    for part, words in ATTRIBUTE_PARTS:
        if any(word in header for word in words):
            return int(number.group(1)), part
    return None  # visible, global: nothing the shop uses


def header_map(headers: list[str]) -> dict:
    """{"name": index, ..., "weight": (index, unit), "attributes": {number: {"name"|"values"|"default": index}}}."""
    columns: dict = {"attributes": {}}
    for index, raw in enumerate(headers):
        header = normal(raw)
        if header in KNOWN:
            columns.setdefault(KNOWN[header], index)
        elif weight := WEIGHT.match(header):
            columns["weight"] = (index, weight.group(1))
        elif found := attribute_part(header):
            columns["attributes"].setdefault(found[0], {})[found[1]] = index
    return columns


# --- cells --------------------------------------------------------------------------------------------------
def price(text: str) -> Decimal | None:
    """`249`, `249.00`, `249,00`, `1.249,00` or `1,249.00` as a Decimal; None when empty or not a price."""
    text = (text or "").strip().replace(" ", "").replace("\xa0", "").replace("€", "")
    if not text:
        return None
    if "," in text and "." in text:  # the last separator is the decimal one
        decimal_comma = text.rfind(",") > text.rfind(".")
        text = text.replace(".", "").replace(",", ".") if decimal_comma else text.replace(",", "")
    elif "," in text:
        text = text.replace(",", ".")
    elif text.count(".") > 1:  # 1.249.000
        text = text.replace(".", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 else None


def day(text: str) -> dt.date | None:
    """WooCommerce writes sale dates as `2026-11-20 00:00:00` (or a bare day)."""
    text = (text or "").strip()
    try:
        return dt.date.fromisoformat(text[:10]) if text else None
    except ValueError:
        return None


def split_list(text: str) -> list[str]:
    """A comma-separated cell, where `\\,` is a comma inside a value."""
    values, current, chars = [], [], iter(text or "")
    for char in chars:
        if char == "\\":
            following = next(chars, "")
            current.append("," if following == "," else char + following)
        elif char == ",":
            values.append("".join(current))
            current = []
        else:
            current.append(char)
    values.append("".join(current))
    return [value.strip() for value in values if value.strip()]


def long_text(text: str) -> str:
    """The exporter's literal `\\n` (and `\\r`) back to the newlines WordPress turns into paragraphs."""
    return (text or "").replace("\\r\\n", "\n").replace("\\n", "\n").replace("\\r", "")


class Row:
    """One record of the CSV, read through the header map; line is where it starts in the file."""

    def __init__(self, cells: list[str], columns: dict, line: int):
        self.cells, self.columns, self.line = cells, columns, line

    def cell(self, index) -> str:
        return self.cells[index].strip() if isinstance(index, int) and index < len(self.cells) else ""

    def get(self, name: str) -> str:
        return self.cell(self.columns.get(name))

    def text(self, name: str) -> str:
        return long_text(self.get(name))

    def list(self, name: str) -> list[str]:
        return split_list(self.get(name))

    @property
    def label(self) -> str:
        name = self.get("name") or "(no name)"
        return f"{name!r}" + (f" (SKU {self.get('sku')})" if self.get("sku") else "")

    @property
    def references(self) -> list[str]:
        """How other rows name this one: `id:N` and its SKU."""
        return [ref for ref in (f"id:{self.get('id')}" if self.get("id") else "", self.get("sku")) if ref]

    @property
    def types(self) -> set[str]:
        return {part.lower() for part in self.list("type")}

    @property
    def published(self) -> bool:
        """1 published; 0 private and -1 draft are drafts here; a row without the column is published."""
        return self.get("published") in ("1", "")

    def category_paths(self) -> list[list[str]]:
        """`A > B, C` → [["A", "B"], ["C"]]: each category from the root to the leaf."""
        paths = [[part.strip() for part in entry.split(">") if part.strip()] for entry in self.list("categories")]
        return [path for path in paths if path]

    def attributes(self) -> dict[str, list[str]]:
        """Each attribute's name and values, as the product row lists them."""
        found = {}
        for number in sorted(self.columns["attributes"]):
            parts = self.columns["attributes"][number]
            name = self.cell(parts.get("name"))
            if name:
                found[name] = split_list(self.cell(parts.get("values")))
        return found

    def chosen_options(self) -> dict[str, str]:
        """A variation's attribute values: one each; "" means "any value"."""
        return {name: (values[0] if values else "") for name, values in self.attributes().items()}

    def weight_kg(self) -> Decimal | None:
        index, unit = self.columns.get("weight", (None, "kg"))
        value = price(self.cell(index))
        return (value * TO_KG[unit]).quantize(Decimal("0.001")).normalize() if value else None

    def availability(self) -> str:
        stock, backorders = self.get("in_stock").lower(), self.get("backorders").lower()
        if stock in ("backorder", "onbackorder"):
            return "backorder"
        if stock in ("0", "no", "false", "outofstock"):
            return "backorder" if backorders in ("1", "notify", "yes") else "out_of_stock"
        return "in_stock"


def read_rows(path: Path) -> list[Row]:
    """Every non-empty record, with the physical line where it starts (a text cell may span lines)."""
    rows = []
    with open(path, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        columns = header_map(next(reader, []))
        while True:
            start = reader.line_num + 1
            cells = next(reader, None)
            if cells is None:
                return rows
            if any(cell.strip() for cell in cells):
                rows.append(Row(cells, columns, start))
