"""A synthetic shop for the bench: N posts and N products of Italian-like text, the same files for the same seed.

Every item is drawn from its own seeded generator (its kind, its number and the seed), so two runs with the
same sizes and seed write byte-identical files. The shop has what a real one
has: categories, tags, variants, sales with a price history, reviews, a few selections, the pages the
settings link to, and a fixed set of images reused by every item (or none at all).

`write_shop` writes the Vetrina layout (posts/, products/, reviews/, lists/, pages/, images/); `write_vanilla`
writes the same posts and products as plain Pelican articles, for vanilla Pelican on the same text.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from pathlib import Path

IMAGE_COUNT = 24
IMAGE_FOLDER = "images/synthetic"
IMAGE_SIZE = (1200, 800)
PLACEHOLDER = f"{IMAGE_FOLDER}/segnaposto.svg"
PLACEHOLDER_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">'
                   '<rect width="400" height="300" fill="#d9c3a5"/><circle cx="200" cy="150" r="90" fill="#7a4b2a"/>'
                   '</svg>\n')
TODAY = "2026-12-01"  # the shop's day: sales are drawn around it, every item is dated before it

WORDS = (
    "legno abete acero palissandro mogano corda tasto manico paletta ponte capotasto cassa tavola fondo fasce "
    "vernice suono timbro volume accordatura scalatura laboratorio negozio cliente musicista strumento chitarra "
    "basso violino archetto pianoforte tastiera amplificatore cavo custodia pedale plettro meccaniche pickup "
    "regolazione controllo prova misura umidità stagione inverno estate viaggio concerto lezione studio scuola "
    "usato ricondizionato nuovo garanzia spedizione prezzo offerta consiglio scelta dettaglio difetto segno "
    "graffio riparazione pulizia olio panno spazzola vite molla sella osso tensione altezza azione intonazione "
    "buono leggero pesante morbido brillante caldo scuro chiaro pulito asciutto stabile robusto comodo semplice "
    "preciso attento lento rapido utile raro antico moderno elettrico acustico classico piccolo grande giusto "
    "suonare provare controllare regolare cambiare pulire scegliere comprare vendere spedire riparare tenere "
    "ascoltare accordare montare smontare lucidare proteggere conservare misurare sentire capire consigliare"
).split()
LINKS = ("di", "e", "con", "per", "sul", "nel", "dal", "tra", "come", "anche", "poi", "senza", "sempre", "quando")
POST_CATEGORIES = ("Guide", "Manutenzione", "Comprare e vendere", "Storie dal laboratorio", "Strumenti ad arco",
                   "Tastiere", "Accessori", "Consigli per iniziare")
PRODUCT_CATEGORIES = ("Chitarre acustiche", "Chitarre elettriche", "Bassi", "Violini", "Pianoforti digitali",
                      "Amplificatori", "Corde", "Cavi", "Custodie", "Accordatori")
TAGS = tuple(WORDS[:60])
CONDITIONS = ("used", "refurbished", "new")
AVAILABILITY = ("in_stock", "in_stock", "in_stock", "out_of_stock", "preorder")
COLORS = ("Rossa", "Nera", "Bianca", "Naturale", "Sunburst", "Blu")
SIZES = ("3 m", "6 m", "010-046", "011-049", "4/4", "3/4")
PAGES = {  # slug: title; the settings link to these by slug (menu, footer, shipping page)
    "chi-siamo": "Chi siamo",
    "spedizioni-e-resi": "Spedizioni e resi",
    "contatti": "Contatti",
    "termini-e-condizioni": "Termini e condizioni",
    "privacy": "Privacy",
    "cookie": "Cookie",
    "newsletter": "Newsletter",
}


@dataclass(frozen=True)
class Shop:
    """What was written: the folder, the item counts, and each post's and product's page URL (for comments)."""

    folder: Path
    posts: int
    products: int
    post_urls: tuple[str, ...]
    product_urls: tuple[str, ...]

    @property
    def pages(self) -> int:
        return self.posts + self.products

    def post_file(self, number: int) -> Path:
        return self.folder / "posts" / f"{post_slug(number)}.md"


def item_random(kind: str, number: int, seed: int) -> random.Random:
    return random.Random(f"{kind}-{number}-{seed}")  # str seeds are hashed with SHA-512: stable everywhere


def post_slug(number: int) -> str:
    return f"articolo-{number:05d}"


def product_slug(number: int) -> str:
    return f"prodotto-{number:05d}"


def sentence(rng: random.Random, words: int) -> str:
    chosen = []
    for index in range(words):
        chosen.append(rng.choice(LINKS) if index % 3 == 2 else rng.choice(WORDS))
    text = " ".join(chosen)
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, words: int) -> str:
    sentences, left = [], words
    while left > 0:
        length = min(left, rng.randint(9, 16))
        sentences.append(sentence(rng, length))
        left -= length
    return " ".join(sentences)


def image_src(rng: random.Random) -> str:
    return f"{IMAGE_FOLDER}/foto-{rng.randrange(IMAGE_COUNT):02d}.jpg"


def body(rng: random.Random, posts: int, images: bool) -> str:
    """About 675 words: paragraphs under three headings, a list, a table, a link to a post and an image."""
    heading = lambda: sentence(rng, rng.randint(3, 5)).rstrip(".")  # noqa: E731
    target = post_slug(rng.randrange(posts)) if posts else None
    link = (f"[{' '.join(rng.choice(WORDS) for _ in range(3))}]({{filename}}/posts/{target}.md)" if target
            else "[il nostro negozio](https://example.com/)")
    rows = [f"| {rng.choice(WORDS)} | {rng.randint(1, 90)} | {rng.choice(WORDS)} {rng.choice(WORDS)} |"
            for _ in range(4)]
    parts = [
        paragraph(rng, 90),
        f"## {heading()}",
        paragraph(rng, 110),
        "\n".join(f"- {sentence(rng, rng.randint(5, 9))}" for _ in range(5)),
        paragraph(rng, 80),
        f"## {heading()}",
        "| Parte | Misura | Nota |\n|---|---:|---|\n" + "\n".join(rows),
        paragraph(rng, 100) + f" Ne parliamo anche in {link}.",
    ]
    if images:
        parts.append(f"![{sentence(rng, 6).rstrip('.')}]({{static}}/{image_src(rng)})")
    parts += [f"## {heading()}", paragraph(rng, 110), paragraph(rng, 60)]
    return "\n\n".join(parts) + "\n"


def summary(rng: random.Random) -> str:
    return sentence(rng, rng.randint(14, 20))


def uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _offset(start: str, minutes: int) -> str:
    moment = dt.datetime.strptime(start, "%Y-%m-%d %H:%M") + dt.timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%d %H:%M")


def tags(rng: random.Random) -> list[str]:
    return sorted(set(rng.sample(TAGS, rng.randint(2, 5))))


def post(number: int, posts: int, seed: int, images: bool) -> tuple[dict, str]:
    """(header fields, body) of post number."""
    rng = item_random("post", number, seed)
    title = sentence(rng, rng.randint(5, 9)).rstrip(".")
    fields = {
        "Title": title,
        "Slug": post_slug(number),
        "Date": _offset("2024-06-01 08:00", number * 97),
        "Category": rng.choice(POST_CATEGORIES),
        "Tags": ", ".join(tags(rng)),
        "Summary": summary(rng),
        "Lang": "it",
        "Uid": uid(rng),
    }
    if images:
        fields["Image"] = image_src(rng)
        fields["Image_alt"] = sentence(rng, 7).rstrip(".")
    return fields, body(rng, posts, images)


def post_text(fields: dict, text: str) -> str:
    return "".join(f"{name}: {value}\n" for name, value in fields.items()) + "\n" + text


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def product(number: int, posts: int, seed: int, images: bool) -> tuple[dict, str]:
    """(fields, body) of product number; fields also say how many reviews it gets."""
    rng = item_random("product", number, seed)
    price = rng.randint(900, 190000) / 100
    fields = {
        "title": sentence(rng, rng.randint(3, 6)).rstrip("."),
        "slug": product_slug(number),
        "date": _offset("2024-05-01 09:00", number * 89),
        "uid": uid(rng),
        "sku": f"SY-{number:05d}",
        "price": f"{price:.2f}",
        "currency": "EUR",
        "availability": rng.choice(AVAILABILITY),
        "condition": rng.choice(CONDITIONS),
        "brand": rng.choice(("Corde & Legni", "Liuteria Rossi", "Suono Chiaro", "Arco Blu")),
        "mpn": f"MP-{rng.randrange(10 ** 6):06d}",
        "category": rng.choice(PRODUCT_CATEGORIES),
        "tags": tags(rng),
        "summary": summary(rng),
        "weight": rng.randint(1, 120) / 10,
        "boost": rng.choice((1, 1, 1, 1.5, 2)),
        "featured": rng.random() < 0.02,
    }
    if fields["availability"] in ("preorder", "backorder"):
        fields["available_from"] = "2027-02-01"  # the day it ships (Google requires it); no draw of rng
    # A product needs a photo: without raster images, every product shows the same small SVG (never encoded).
    fields["images"] = [(image_src(rng) if images else PLACEHOLDER, sentence(rng, 6).rstrip("."))]
    on_sale = rng.random() < 0.15
    if on_sale:
        sale_price = round(price * rng.choice((0.8, 0.85, 0.9)), 2)
        fields["sale"] = (f"{sale_price:.2f}", "2026-11-20", "2027-01-10")
        fields["price_history"] = [("2026-09-01", f"{price + 20:.2f}"), ("2026-10-15", f"{price:.2f}")]
    if rng.random() < 0.3:
        kind, values = rng.choice((("color", COLORS), ("size", SIZES)))
        chosen = rng.sample(values, rng.randint(2, 3))
        fields["variants"] = [(f"SY-{number:05d}-{index}", kind, value) for index, value in enumerate(chosen)]
    fields["reviews"] = rng.choices((0, 1, 2, 3), weights=(70, 15, 10, 5))[0]
    return fields, body(rng, posts, images)


def product_text(fields: dict, text: str) -> str:
    lines = ["---"]
    for name in ("title", "slug", "date", "uid", "sku", "price", "currency", "availability", "condition",
                 "brand", "mpn", "category"):
        value = fields[name]
        lines.append(f"{name}: {_quoted(value) if name in ('title', 'price', 'brand', 'mpn') else value}")
        if name == "availability" and "available_from" in fields:
            lines.append(f"available_from: {fields['available_from']}")
    lines.append(f"tags: [{', '.join(fields['tags'])}]")
    lines.append(f"summary: {_quoted(fields['summary'])}")
    if "images" in fields:
        lines.append("images:")
        for src, alt in fields["images"]:
            lines += [f"  - src: {src}", f"    alt: {_quoted(alt)}"]
    lines += [f"weight: {fields['weight']}", f"featured: {str(fields['featured']).lower()}",
              f"boost: {fields['boost']}"]
    if "sale" in fields:
        price, start, end = fields["sale"]
        lines.append(f'sale: {{price: "{price}", start: {start}, end: {end}}}')
        lines.append("price_history:")
        lines += [f'  - {{date: {day}, price: "{value}"}}' for day, value in fields["price_history"]]
    if "variants" in fields:
        lines.append("variants:")
        for sku, kind, value in fields["variants"]:
            lines += [f"  - sku: {sku}", f'    options: {{{kind}: "{value}"}}']
    lines.append("---")
    return "\n".join(lines) + "\n\n" + text


def review_text(product_fields: dict, index: int, seed: int) -> str:
    rng = item_random(f"review-{index}", int(product_fields["sku"][3:]), seed)
    return (f"---\nproduct: {product_fields['sku']}\nauthor: {_quoted(sentence(rng, 2).rstrip('.'))}\n"
            f"date: 2026-11-{1 + index:02d}\nrating: {rng.randint(3, 5)}\n"
            f"title: {_quoted(sentence(rng, 4).rstrip('.'))}\n---\n{paragraph(rng, 50)}\n")


def list_text(number: int, seed: int) -> str:
    rng = item_random("list", number, seed)
    return (f"---\ntitle: {_quoted(sentence(rng, 5).rstrip('.'))}\nslug: selezione-{number:03d}\n"
            f"date: 2026-11-18 09:00\nsummary: {_quoted(summary(rng))}\n"
            f"keywords: [{', '.join(rng.sample(WORDS[:60], 3))}]\ntags: [{', '.join(rng.sample(TAGS, 2))}]\n"
            f"limit: 8\n---\n\n{paragraph(rng, 80)}\n")


def page_text(slug: str, title: str, seed: int) -> str:
    rng = item_random(f"page-{slug}", 0, seed)
    return (f"Title: {title}\nSlug: {slug}\nSummary: {summary(rng)}\nLang: it\n\n"
            f"{paragraph(rng, 80)}\n\n## {sentence(rng, 3).rstrip('.')}\n\n{paragraph(rng, 120)}\n")


def image_bytes(number: int, seed: int) -> bytes:
    """A JPEG of a few coloured bands and discs: the same bytes for the same number and seed."""
    import io

    from PIL import Image, ImageDraw

    rng = item_random("image", number, seed)
    image = Image.new("RGB", IMAGE_SIZE, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(IMAGE_SIZE[0]), rng.randrange(IMAGE_SIZE[1])
        radius = rng.randint(60, 300)
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=tuple(rng.randrange(256) for _ in range(3)))
    for row in range(0, IMAGE_SIZE[1], 40):
        draw.line((0, row, IMAGE_SIZE[0], row + rng.randint(-30, 30)), fill=(rng.randrange(256),) * 3, width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


def _write(path: Path, text: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")


def write_images(folder: Path, seed: int) -> None:
    for number in range(IMAGE_COUNT):
        _write(folder / IMAGE_FOLDER / f"foto-{number:02d}.jpg", image_bytes(number, seed))


def write_common(folder: Path, posts: int, seed: int, images: bool) -> None:
    """What the shop and its vanilla copy share: the posts, the pages and the images."""
    for number in range(posts):
        fields, text = post(number, posts, seed, images)
        _write(folder / "posts" / f"{fields['Slug']}.md", post_text(fields, text))
    for slug, title in PAGES.items():
        _write(folder / "pages" / f"{slug}.md", page_text(slug, title, seed))
    if images:
        write_images(folder, seed)
    else:
        _write(folder / PLACEHOLDER, PLACEHOLDER_SVG)


def write_shop(folder: Path, posts: int, products: int, seed: int = 0, images: bool = True) -> Shop:
    """The Vetrina content folder of a synthetic shop of posts + products items."""
    folder = Path(folder)
    write_common(folder, posts, seed, images)
    for number in range(products):
        fields, text = product(number, posts, seed, images)
        _write(folder / "products" / f"{fields['slug']}.md", product_text(fields, text))
        for index in range(fields["reviews"]):
            _write(folder / "reviews" / f"{fields['slug']}-{index + 1}.md", review_text(fields, index, seed))
    for number in range(max(1, products // 200) if products else 0):
        _write(folder / "lists" / f"selezione-{number:03d}.md", list_text(number, seed))
    return Shop(folder, posts, products, tuple(f"/blog/{post_slug(n)}/" for n in range(posts)),
                tuple(f"/prodotti/{product_slug(n)}/" for n in range(products)))


def write_vanilla(folder: Path, posts: int, products: int, seed: int = 0, images: bool = True) -> Path:
    """The same posts and products as plain Pelican articles (posts/, products/), the same pages and images."""
    folder = Path(folder)
    write_common(folder, posts, seed, images)
    for number in range(products):
        fields, text = product(number, posts, seed, images)
        header = {"Title": fields["title"], "Slug": fields["slug"], "Date": fields["date"],
                  "Category": fields["category"], "Tags": ", ".join(fields["tags"]), "Summary": fields["summary"]}
        _write(folder / "products" / f"{fields['slug']}.md", post_text(header, text))
    return folder


def edit_post(shop: Shop, round_number: int) -> Path:
    """Change one sentence of the shop's first post (its first product without posts), as an author saving an
    edit does; returns the file."""
    path = shop.post_file(0) if shop.posts else shop.folder / "products" / f"{product_slug(0)}.md"
    text = path.read_text(encoding="utf-8")
    marker = "\n\nRevisione del testo numero "
    text = text.split(marker)[0].rstrip("\n") + f"{marker}{round_number}.\n"
    path.write_text(text, encoding="utf-8")
    return path
