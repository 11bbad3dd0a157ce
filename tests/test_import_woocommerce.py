"""WooCommerce's product CSV into product files: headers in two languages, variants, sales, images, re-runs."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import ROOT

from importers import products as products_module
from importers import woocommerce
from importers.session import ImportSession
from importers.wccsv import header_map, price, split_list
from shop import frontmatter, parse

FIXTURES = Path(__file__).parent / "fixtures" / "woocommerce"
UPLOADS = FIXTURES / "uploads"


@pytest.fixture
def shop(tmp_path) -> Path:
    """A shop folder with the demo's settings and an empty content folder: all an import needs."""
    folder = tmp_path / "negozio"
    (folder / "content").mkdir(parents=True)
    shutil.copy(ROOT / "pelicanconf.py", folder / "pelicanconf.py")
    return folder


def run(shop: Path, csv: str = "prodotti-it.csv", **options):
    return woocommerce.import_csv(shop, FIXTURES / csv, UPLOADS, stream=io.StringIO(), **options)


def product(shop: Path, slug: str, folder: str = "products") -> tuple[dict, str]:
    return frontmatter.split((shop / "content" / folder / f"{slug}.md").read_text(encoding="utf-8"))


def hashes(shop: Path) -> dict:
    """Each file's hash; and its mtime too for content/ (the session writes redirects/ again, with the same bytes)."""
    return {path.relative_to(shop).as_posix(): (hashlib.sha256(path.read_bytes()).hexdigest(),
                                                path.stat().st_mtime_ns if "content" in path.parts else None)
            for path in sorted(shop.rglob("*")) if path.is_file() and "imports" not in path.parts}


@pytest.fixture
def imported(shop):
    report = run(shop)
    return shop, report


# --- cells and headers ----------------------------------------------------------------------------------
@pytest.mark.parametrize("text, amount", [
    ("249", "249"), ("249.00", "249.00"), ("249,00", "249.00"), ("1.249,00", "1249.00"), ("1,249.00", "1249.00"),
    ("1.249.000", "1249000"), (" 9,90 € ", "9.90"), ("", None), ("gratis", None), ("-5", None),
])
def test_localised_prices(text, amount):
    assert price(text) == (Decimal(amount) if amount else None)


def test_list_cells_keep_escaped_commas():
    assert split_list("3 m, 6 m\\, connettore a L") == ["3 m", "6 m, connettore a L"]
    assert split_list("") == [] and split_list("a,, b") == ["a", "b"]


def test_headers_of_both_italian_translations_and_english_are_known():
    columns = header_map(["\ufeffID", "Tipo", "COD", "Termine data del prezzo di vendita", "Etichette", "URL esterna",
                          "Attributo 1 nome", "Attributo 1 valuta(e)", "Attributo 1 predefinito", "Peso (g)",
                          "Nome dell\u2019attributo 2", "Valore dell'attributo 2", "  prezzo   DI listino "])
    assert columns["id"] == 0 and columns["sku"] == 2 and columns["sale_to"] == 3 and columns["tags"] == 4
    assert columns["external_url"] == 5 and columns["weight"] == (9, "g") and columns["regular_price"] == 12
    assert columns["attributes"] == {1: {"name": 6, "values": 7, "default": 8}, 2: {"name": 10, "values": 11}}
    english = header_map(["Weight (lbs)", "Attribute 1 name", "Attribute 1 value(s)", "Attribute 1 visible"])
    assert english["weight"] == (0, "lbs") and english["attributes"] == {1: {"name": 1, "values": 2}}


# --- what the Italian export becomes --------------------------------------------------------------------
def test_simple_product_with_a_dated_sale(imported):
    shop, _ = imported
    fields, _ = product(shop, "chitarra-classica-alhambra-1c")
    assert fields["sku"] == "CL-CLA-01" and fields["price"] == "449.00" and fields["gtin"] == "8414460001234"
    assert fields["sale"] == {"price": "399.00", "start": "2026-11-20", "end": "2026-12-31"}
    assert fields["category"] == "Chitarre classiche" and fields["tags"] == ["chitarra", "classica", "studio"]
    assert fields["weight"] == 4.5 and fields["shipping_class"] == "strumenti" and fields["featured"] is True
    assert fields["brand"] == "Alhambra" and fields["availability"] == "in_stock" and "status" not in fields
    assert fields["summary"] == ("Chitarra classica da studio con top in cedro massello, controllata e regolata "
                                 "nel nostro laboratorio.")
    # The first image was a 600x600 copy: the original is the one copied.
    assert [image["src"] for image in fields["images"]] == ["images/wp/2024/03/chitarra-classica.jpg",
                                                            "images/wp/2024/03/chitarra-classica-retro.jpg"]
    assert all(image["alt"] for image in fields["images"])
    assert all((shop / "content" / image["src"]).is_file() for image in fields["images"])
    assert fields["related"] == ["felpa-corde-legni", "cavo-jack-intrecciato"]  # upsell, then cross-sell


def test_every_written_product_is_accepted_by_the_shop(imported):
    shop, _ = imported
    for path in sorted((shop / "content" / "products").glob("*.md")):
        fields, _ = frontmatter.split(path.read_text(encoding="utf-8"))
        if fields.get("status") == "draft":
            continue
        parse.product(fields, default_currency="EUR", today=dt.date(2026, 11, 22),
                      image_exists=lambda src: (shop / "content" / src).is_file(),
                      shipping_classes=("strumenti", "accessori", "pianoforti"), default_shipping_class="strumenti")


def test_variable_product_has_its_variations_with_google_option_names(imported):
    shop, report = imported
    fields, _ = product(shop, "felpa-corde-legni")
    variants = {variant["sku"]: variant for variant in fields["variants"]}
    assert list(variants) == ["CL-FEL-R-S", "CL-FEL-R-M", "CL-FEL-B-S", "CL-FEL-B-M"]
    assert variants["CL-FEL-R-S"]["options"] == {"color": "Rosso", "size": "S"}
    assert variants["CL-FEL-B-S"]["options"] == {"color": "Blu notte", "size": "S"}
    assert variants["CL-FEL-R-S"]["image"]["src"] == "images/wp/2024/03/felpa-rossa.jpg"
    assert "image" not in variants["CL-FEL-R-M"]
    assert variants["CL-FEL-B-S"]["price"] == "42.00" and variants["CL-FEL-B-S"]["sale"]["price"] == "35.00"
    assert variants["CL-FEL-R-M"]["availability"] == "out_of_stock"
    # On back-order without the day it ships: out of stock here, and the report says what to add.
    assert variants["CL-FEL-B-M"]["availability"] == "out_of_stock"
    assert any("CL-FEL-B-M" in line and "available_from" in line
               for line in report.notes[products_module.CHANGED])
    assert fields["price"] == "39.00" and fields["weight"] == 0.45


def test_an_attribute_value_with_an_escaped_comma_and_a_free_option_name(imported):
    shop, _ = imported
    fields, _ = product(shop, "cavo-jack-intrecciato")
    assert [variant["options"] for variant in fields["variants"]] == [
        {"Lunghezza": "3 m"}, {"Lunghezza": "6 m, connettore a L"}]
    assert fields["category"] == "Cavi"


def test_a_downloadable_virtual_product_is_digital(imported):
    shop, _ = imported
    fields, _ = product(shop, "guida-alla-manutenzione-della-chitarra-e-book")
    assert fields["digital"] is True and "weight" not in fields and fields["price"] == "12.00"
    assert fields["summary"] == "Un PDF di 32 pagine: pulizia, corde, umidità e piccole regolazioni."


def test_an_external_product_keeps_its_link_and_button(imported):
    shop, _ = imported
    fields, _ = product(shop, "mixer-digitale-a-16-canali")
    assert fields["external"] == {"url": "https://www.example.com/mixer-16", "button": "Compra dal produttore"}
    assert fields["price"] == "1249.00" and fields["category"] == "Mixer"


def test_a_grouped_product_becomes_a_list_of_its_published_products(imported):
    shop, report = imported
    fields, body = product(shop, "kit-del-chitarrista", "lists")
    assert fields["pinned"] == ["chitarra-classica-alhambra-1c", "cavo-jack-intrecciato"]
    assert fields["limit"] == 2 and body.strip() == fields["summary"]
    # Its third product is a draft (no image): naming it would break the build.
    assert any("CL-PLE" in line for line in report.notes[products_module.CHANGED])


def test_a_product_without_its_image_is_a_listed_draft_and_so_is_an_unpublished_one(imported):
    shop, report = imported
    fields, _ = product(shop, "plettri-in-celluloide-12-pezzi")
    assert fields["status"] == "draft" and fields["images"] == []
    assert report.notes[products_module.NO_IMAGE] == [
        "line 15: 'Plettri in celluloide (12 pezzi)' (images: "
        "https://negozio-vecchio.example/wp-content/uploads/2024/03/plettri-600x600.jpg)"]
    assert product(shop, "accordatore-cromatico")[0]["status"] == "draft"


def test_rows_that_cannot_be_imported_are_listed_with_their_line(imported):
    shop, report = imported
    lines = sorted(report.notes[products_module.NOT_IMPORTED])
    assert len(lines) == 3
    assert lines[0].startswith("line 16: 'Leggio pieghevole'") and "price" in lines[0]
    assert lines[1].startswith("line 17: 'Variante orfana'") and "CL-NON-ESISTE" in lines[1]
    assert lines[2].startswith("line 18: 'Pacchetto sconto'") and "woosb" in lines[2]
    written = (shop / "imports" / "woocommerce-report.txt").read_text(encoding="utf-8")
    assert all(line in written for line in lines)
    assert not (shop / "content" / "products" / "leggio-pieghevole.md").exists()


def test_old_addresses_redirect_to_the_new_pages(imported):
    shop, _ = imported
    lines = (shop / "redirects" / "woocommerce.txt").read_text(encoding="utf-8").splitlines()
    rules = dict(line.split(" ") for line in lines if not line.startswith("#"))
    assert rules["/product/chitarra-classica-alhambra-1c/"] == "/prodotti/chitarra-classica-alhambra-1c/"
    classical = "/product-category/strumenti/chitarre/chitarre-classiche/"
    assert rules[classical] == "/prodotti/categoria/chitarre-classiche/"
    assert rules["/product/kit-del-chitarrista/"] == "/prodotti/selezioni/kit-del-chitarrista/"
    # Drafts have no page to lead to, and each category is listed once.
    assert "/product/plettri-in-celluloide-12-pezzi/" not in rules
    assert "/product-category/accessori/plettri/" not in rules
    assert len([line for line in lines if line.startswith("/product-category/abbigliamento/")]) == 1


def test_the_description_keeps_its_html_structure_and_newlines(imported):
    shop, _ = imported
    _, body = product(shop, "chitarra-classica-alhambra-1c")
    assert "\\n" not in body and "Top in cedro massello" in body and "Il suono" in body
    assert "tensione normale" in body


def test_the_description_is_markdown_once_the_converter_exists(imported):
    pytest.importorskip("importers.htmlmd")
    shop, _ = imported
    _, body = product(shop, "chitarra-classica-alhambra-1c")
    assert "## Il suono" in body and "- Top in cedro massello" in body and "<p>" not in body


# --- the English export -----------------------------------------------------------------------------------
def test_english_headers_pounds_and_any_value_variations(shop):
    report = run(shop, "products-en.csv")
    ukulele, _ = product(shop, "concert-ukulele-in-mahogany")
    assert ukulele["price"] == "1249.00" and ukulele["sale"]["price"] == "1099.00"
    assert ukulele["sale"]["start"] == ukulele["date"].date().isoformat()  # a sale without dates runs from now
    assert ukulele["weight"] == 1.0  # 2.2 lbs
    strap, _ = product(shop, "leather-strap")
    assert [(v["sku"], v["options"]) for v in strap["variants"]] == [
        ("EN-STRAP-BLK-SHORT", {"color": "Black", "size": "Short"}),
        ("EN-STRAP-BLK-LONG", {"color": "Black", "size": "Long"}),
        ("EN-STRAP-BRN-L", {"color": "Brown", "size": "Long"})]
    assert product(shop, "polishing-cloth")[0]["status"] == "draft"  # private in WooCommerce
    assert report.total("new") == 6 and not report.notes[products_module.NOT_IMPORTED]


# --- re-runs ----------------------------------------------------------------------------------------------
def test_a_second_import_changes_no_byte(imported):
    shop, first = imported
    before = hashes(shop)
    again = run(shop)
    assert hashes(shop) == before
    assert again.total("new") == 0 and again.total("updated") == 0
    assert again.total("unchanged") == first.total("new")


def test_a_file_edited_by_hand_is_kept_unless_forced(imported):
    shop, _ = imported
    path = shop / "content" / "products" / "felpa-corde-legni.md"
    edited = path.read_text(encoding="utf-8").replace("Felpa con cappuccio", "La nostra felpa con cappuccio")
    path.write_text(edited, encoding="utf-8")
    kept = run(shop)
    assert kept.counts["products", "kept"] == 1 and path.read_text(encoding="utf-8") == edited
    forced = run(shop, force=True)
    assert forced.counts["products", "updated"] == 1 and "La nostra felpa" not in path.read_text(encoding="utf-8")


def test_a_killed_import_resumes_without_duplicates(shop, monkeypatch):
    original, written = products_module.write_product, []

    def dies_after_three(*args, **kwargs):
        if len(written) == 3:
            raise KeyboardInterrupt
        written.append(args[2].slug)
        return original(*args, **kwargs)

    def killed(self, *error):  # a killed process saves no manifest: only the journal is left
        self._journal.close()
        self._lock.close()

    monkeypatch.setattr(woocommerce.model, "write_product", dies_after_three)
    monkeypatch.setattr(ImportSession, "__exit__", killed)
    with pytest.raises(KeyboardInterrupt):
        run(shop)
    assert not (shop / "imports" / "woocommerce.json").exists() and (shop / "imports" / "woocommerce.journal").is_file()
    monkeypatch.undo()
    report = run(shop)
    files = sorted(path.name for path in (shop / "content" / "products").glob("*.md"))
    assert len(files) == 7 and not [name for name in files if name.endswith("-2.md")]
    assert report.counts["products", "unchanged"] == 3 and report.counts["products", "new"] == 4
    images = sorted(path.name for path in (shop / "content" / "images" / "wp").rglob("*.jpg"))
    assert len(images) == len(set(images)) == 7
