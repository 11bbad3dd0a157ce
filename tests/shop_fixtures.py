"""Fixture products for the shop tests: a tiny catalogue written as real product files."""

from __future__ import annotations

import copy
import struct
import zlib

import yaml


def tiny_png(width: int = 16, height: int = 16) -> bytes:
    """A real, valid PNG of one colour, made without an imaging library."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xa8\x67\x2e" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


PNG = tiny_png()

BASE_PRODUCT = {
    "title": "Chitarra di prova",
    "slug": "chitarra-di-prova",
    "date": "2026-06-12 10:00",
    "uid": "0b7f5c1e-0000-4000-8000-000000000001",
    "sku": "T-1",
    "price": "249.00",
    "currency": "EUR",
    "availability": "in_stock",
    "condition": "used",
    "brand": "Marca",
    "mpn": "M-1",
    "category": "Chitarre",
    "tags": ["chitarra", "usato"],
    "summary": "Una chitarra di prova usata, controllata in laboratorio.",
    "images": [{"src": "images/p.png", "alt": "Una chitarra"}],
    "weight": 3.5,
}


def product_file(body: str = "Descrizione della chitarra.", **fields) -> str:
    """A product file: BASE_PRODUCT with fields replaced (a field set to None is removed)."""
    data = product_fields(**fields)
    return "---\n" + yaml.safe_dump(data, allow_unicode=True, sort_keys=False) + "---\n\n" + body + "\n"


def catalogue() -> dict:
    """Four products: one with variants, one on sale with a price history, one out of stock, one digital."""
    return {
        "images/p.png": PNG,
        "products/chitarra.md": product_file(),
        "products/cavo.md": product_file(
            title="Cavo jack", slug="cavo-jack", sku="CAB", price="12.00", category="Cavi",
            tags=["cavo", "accessori", "regalo"], condition="new", summary="Un cavo jack intrecciato per chitarra.",
            variants=[
                {"sku": "CAB-3", "options": {"size": "3 m"}},
                {"sku": "CAB-6", "options": {"size": "6 m"}, "price": "16.50",
                 "image": {"src": "images/p.png", "alt": "Cavo da 6 metri"}},
            ]),
        "products/basso.md": product_file(
            title="Basso in offerta", slug="basso", sku="B-1", price="1219.00", category="Bassi",
            tags=["basso"], condition="refurbished", summary="Un basso ricondizionato in offerta.",
            sale={"price": "1189.00", "start": "2026-11-15", "end": "2027-06-30"},
            price_history=[{"date": "2026-09-01", "price": "1249.00"}, {"date": "2026-10-20", "price": "1199.00"},
                           {"date": "2026-11-01", "price": "1219.00"}]),
        "products/piano.md": product_file(
            title="Pianoforte esaurito", slug="piano", sku="P-1", price="299.00", category="Pianoforti",
            availability="out_of_stock", tags=["pianoforte"], summary="Un pianoforte digitale esaurito."),
        "products/ebook.md": product_file(
            title="Guida in e-book", slug="ebook", sku="EB-1", price="9.00", category="Guide digitali",
            condition="new", digital=True, weight=None, tags=["guida", "regalo"],
            summary="Una guida digitale all'acquisto dell'usato."),
    }


def product_fields(**fields) -> dict:
    """The fields parse.product gets for product_file(**fields): a deep copy of BASE_PRODUCT, None removes a field."""
    data = copy.deepcopy(BASE_PRODUCT)
    for key, value in fields.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def record(model, reviews=(), url="p/"):
    """A catalogue record of a parsed product, as the shop builds it, without a whole build."""
    import datetime as dt

    from pelican.settings import DEFAULT_CONFIG

    from shop.catalog import ProductCategory, ProductPage, rating_of

    settings = {**DEFAULT_CONFIG, "SHOP_PRODUCT_URL": url, "SHOP_PRODUCT_SAVE_AS": f"{url}index.html"}
    page = ProductPage("", model, metadata={"title": model.title, "slug": model.slug,
                                            "date": dt.datetime(2026, 6, 12, 10, 0)}, settings=settings)
    page.category = ProductCategory(model.category_name, "c", "c/", [page])
    page.reviews = list(reviews)
    page.rating = rating_of(page.reviews)
    return page
