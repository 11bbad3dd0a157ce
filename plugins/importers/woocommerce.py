"""`vetrina import-woocommerce`: WooCommerce's product CSV (Products → Export) into product files.

The CSV's reading (headers in English or Italian, localised prices, `\\n` and `\\,`) is in wccsv; this module
turns its rows into ImportedProducts and writes them with products.write_product:

- `simple` (with `downloadable`/`virtual`: a digital product), `variable` with its `variation` rows (joined by
  `Parent`: a SKU or `id:N`), `external` (a link to the seller), `grouped` (a keyword list of its products);
- a variation's empty attribute value means "any value" in WooCommerce: the shop sells a version per value, so
  the variation becomes one variant per value of the parent's attribute (SKU `<sku>-<value>`), unless another
  variation already is that combination;
- every row that cannot be imported is listed with the line where its record starts, and why.

Products are written in two passes: the first finds which ones the build will publish (a price, an image,
fields the shop's parser accepts), so that upsells, cross-sells and grouped lists name only those (the build
fails on a reference to no product); the second writes them.
"""

from __future__ import annotations

import sys
from pathlib import Path

from . import products as model
from .products import ImportedProduct, ImportedVariant
from .report import Report
from .session import ImportSession, load_settings
from .slugs import safe_slug
from .uploads import ImageCopier, Uploads
from .wccsv import Row, day, price, read_rows

SOURCE = "woocommerce"
REPORT_FILE = "imports/woocommerce-report.txt"
BASE_TYPES = {"simple", "variable", "grouped", "external"}
FLAGS = {"downloadable", "virtual"}
SKIPPED = model.NOT_IMPORTED


def import_csv(shop: Path, csv_path: Path, uploads: Path | None = None, force: bool = False,
               stream=None) -> Report:
    """Import the products of a WooCommerce CSV into the shop folder; the report is printed and written."""
    shop, csv_path = Path(shop).resolve(), Path(csv_path)
    settings = load_settings(shop)
    report = Report(f"WooCommerce import of {csv_path.name}", stream=stream)
    rows = read_rows(csv_path)
    with ImportSession(shop, SOURCE, settings, report, force=force) as session:
        Importer(session, ImageCopier(session, Uploads(uploads)), report).run(rows)
    report.write(shop / REPORT_FILE)
    print(report.render(), file=stream if stream is not None else sys.stdout)
    return report


def skip(report, row: Row, why: str) -> None:
    report.count("rows", "skipped")
    report.note(SKIPPED, f"line {row.line}: {row.label}: {why}")


class Importer:
    def __init__(self, session, images, report):
        self.session, self.images, self.report = session, images, report
        self.rows_by_reference: dict[str, Row] = {}
        self.keys: dict[int, str] = {}  # id(row) -> its product's key
        self.publishable: dict[str, str] = {}  # key -> slug, of the products the build will publish
        self.slugs_taken: dict[tuple[str, str], str] = {}  # (folder, slug) -> key

    def run(self, rows: list[Row]) -> None:
        for row in rows:
            for reference in row.references:
                self.rows_by_reference.setdefault(reference, row)
        parents, variations = self.sort_rows(rows)
        planned = [(row, self.product(row, variations.get(id(row), []))) for row in parents]
        planned = [(row, product) for row, product in planned if product is not None]
        for row, product in planned:  # pass 1: which products will the build publish?
            if product.kind != "grouped" and model.will_publish(self.session, self.images, product):
                self.publishable[product.key] = product.slug
        singles = [entry for entry in planned if entry[1].kind != "grouped"]
        groups = [entry for entry in planned if entry[1].kind == "grouped"]
        for number, (row, product) in enumerate(singles + groups, 1):  # pass 2: write
            if product.kind == "grouped":
                model.write_group(self.session, product, self.report, self.resolve)
            else:
                model.write_product(self.session, self.images, product, self.report, self.resolve)
            self.report.progress(number, len(planned), "products")

    def resolve(self, reference: str) -> str | None:
        row = self.rows_by_reference.get(reference.strip())
        return self.publishable.get(self.keys.get(id(row), "")) if row is not None else None

    # --- rows ---------------------------------------------------------------------------------------------
    def sort_rows(self, rows: list[Row]) -> tuple[list[Row], dict[int, list[Row]]]:
        """The product rows, and each variable product's variation rows; the others are reported here."""
        parents, variations = [], {}
        for row in rows:
            types = row.types
            if "variation" in types:
                parent = self.rows_by_reference.get(row.get("parent"))
                if parent is None or "variable" not in parent.types:
                    skip(self.report, row, f"variation whose parent {row.get('parent')!r} is not a variable "
                                           f"product of this file")
                else:
                    variations.setdefault(id(parent), []).append(row)
            elif not types & BASE_TYPES or types - BASE_TYPES - FLAGS or len(types & BASE_TYPES) > 1:
                skip(self.report, row, f"unknown type {row.get('type')!r}")
            elif not row.get("name"):
                skip(self.report, row, "no name")
            else:
                parents.append(row)
        return parents, variations

    def product(self, row: Row, variation_rows: list[Row]) -> ImportedProduct | None:
        kind = next(iter(row.types & BASE_TYPES))
        sku = row.get("sku")
        key = f"product:{sku}" if sku else f"product:id:{row.get('id') or row.line}"
        self.keys[id(row)] = key
        title = row.get("name")
        woo_slug = self.session.term_slug("product_category", title) or f"prodotto-{row.get('id') or row.line}"
        folder = "lists" if kind == "grouped" else "products"
        paths = row.category_paths()
        product = ImportedProduct(
            key=key, title=title, slug=self.slug(key, folder, woo_slug), sku=sku or f"WC-{row.get('id') or row.line}",
            kind=kind, published=row.published, summary_html=row.text("short"),
            description_html=row.text("description"),
            regular_price=price(row.get("regular_price")), sale_price=price(row.get("sale_price")),
            sale_from=day(row.get("sale_from")), sale_to=day(row.get("sale_to")), availability=row.availability(),
            weight_kg=row.weight_kg(), gtin=row.get("gtin"), brand=row.list("brand")[0] if row.list("brand") else "",
            category_path=paths[0] if paths else [], tags=row.list("tags") + [path[-1] for path in paths[1:]],
            images=[(url, "") for url in row.list("images")], external_url=row.get("external_url"),
            button_text=row.get("button_text"), children=row.list("grouped"), upsells=row.list("upsells"),
            cross_sells=row.list("cross_sells"), digital=bool(row.types & FLAGS), featured=row.get("featured") == "1",
            shipping_class=row.get("shipping_class") or None, old_urls=[f"/product/{woo_slug}/"], line=row.line)
        if len(paths) > 1:
            others = ", ".join(" > ".join(path) for path in paths[1:])
            self.report.note(model.CHANGED, f"line {row.line}: {title!r}: categories {others} kept as tags "
                                            f"(a product has one category)")
        if kind == "variable":
            product.variants = self.variants(row, variation_rows, product)
            if not product.variants:
                skip(self.report, row, "variable product without a variation that can be sold")
                return None
        return product

    def slug(self, key: str, folder: str, wanted: str) -> str:
        """A slug no other file of the folder has: the one given before, else the name's, numbered if taken."""
        slug = self.session.slug_of(key, wanted)
        path = self.session.path_for(key, f"content/{folder}/{slug}.md")
        slug = Path(path).stem
        self.slugs_taken[folder, slug] = key
        return slug

    # --- variations -----------------------------------------------------------------------------------------
    def variants(self, parent: Row, rows: list[Row], product: ImportedProduct) -> list[ImportedVariant]:
        offered = parent.attributes()  # name -> every value the product offers
        variants, seen = [], set()
        explicit = [(row, row.chosen_options()) for row in rows if self.sellable(row)]
        for row, chosen in explicit:  # the fully chosen ones first: an "any" expansion never shadows one
            if all(chosen.values()):
                seen.add(frozenset(chosen.items()))
        for row, chosen in explicit:
            for options, suffix in self.expanded(row, chosen, offered):
                if suffix and frozenset(options.items()) in seen:
                    continue
                seen.add(frozenset(options.items()))
                variants.append(self.variant(row, options, suffix, product))
        return variants

    def sellable(self, row: Row) -> bool:
        if not row.published:
            self.report.note(model.CHANGED, f"line {row.line}: {row.label}: variation not enabled in WooCommerce, "
                                            f"left out")
            return False
        if price(row.get("regular_price")) is None:
            skip(self.report, row, "variation without a price")
            return False
        if not row.chosen_options():
            skip(self.report, row, "variation without attributes")
            return False
        return True

    def expanded(self, row: Row, chosen: dict, offered: dict) -> list[tuple[dict, str]]:
        """(options, SKU suffix) of a variation: itself, or one per value of each attribute it leaves "any"."""
        combos = [({}, "")]
        for name, value in chosen.items():
            values = [value] if value else offered.get(name, [])
            if not values:
                continue  # "any" value of an attribute the product lists no value for: not an option
            combos = [({**options, name: each}, suffix + ("" if value else f"-{safe_slug(each).upper()}"))
                      for options, suffix in combos for each in values]
        if any(not value for value in chosen.values()):
            self.report.note(model.CHANGED, f"line {row.line}: {row.label}: 'any' value: one variant per value "
                                            f"({len(combos)})")
        return [(options, suffix) for options, suffix in combos if options]

    def variant(self, row: Row, options: dict, suffix: str, product: ImportedProduct) -> ImportedVariant:
        base = row.get("sku") or f"{product.sku}-{row.get('id') or row.line}"
        images = row.list("images")
        return ImportedVariant(
            sku=base + suffix, options=options, regular_price=price(row.get("regular_price")),
            sale_price=price(row.get("sale_price")), sale_from=day(row.get("sale_from")),
            sale_to=day(row.get("sale_to")), availability=row.availability(), image_url=images[0] if images else "",
            weight_kg=row.weight_kg(), gtin=row.get("gtin"))


def import_wxr_products(session: ImportSession, export, images, report) -> None:
    """WooCommerce products in a WordPress export: listed, not yet imported (the CSV export carries them)."""
    found = [item for item in export.items if item.post_type == "product"]
    if found:
        variations = sum(1 for item in export.items if item.post_type == "product_variation")
        report.note("products in the export (import them from WooCommerce's CSV export with import-woocommerce)",
                    f"{len(found)} products, {variations} variations")
