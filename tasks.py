"""Vetrina's tasks: invoke build | serve | publish | new-post | new-product | check | newsletter | test | i18n."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

from invoke import task
from invoke.exceptions import Exit

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "plugins"))

OUTPUT = ROOT / "output"
CONTENT = ROOT / "content"
DEV_SETTINGS = ROOT / "pelicanconf.py"
PROD_SETTINGS = ROOT / "publishconf.py"
HOST = "127.0.0.1"
PYBABEL = Path(sys.executable).parent / "pybabel"


def run_pelican(settings: Path, output: Path, content: Path = CONTENT) -> bool:
    """Build the site into output with warnings fatal; True when the build succeeded."""
    command = [sys.executable, "-m", "pelican", str(content), "-s", str(settings), "-o", str(output),
               "--fatal", "warnings"]
    return subprocess.run(command, cwd=ROOT).returncode == 0


def build_site(settings: Path = DEV_SETTINGS, output: Path = OUTPUT, content: Path = CONTENT) -> bool:
    """Build into a fresh folder and swap it in only on success, so a failed build keeps the last good site."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}-building-", dir=output.parent))
    if not run_pelican(settings, staging, content):
        shutil.rmtree(staging, ignore_errors=True)
        return False
    previous = output.with_name(f".{output.name}-previous")
    shutil.rmtree(previous, ignore_errors=True)
    if output.exists():
        output.rename(previous)
    staging.rename(output)
    shutil.rmtree(previous, ignore_errors=True)
    return True


@task(help={"production": "build with publishconf.py (absolute URLs, canonical links)"})
def build(c, production=False):
    """Build the site into output/ (the last good output stays if the build fails)."""
    settings = PROD_SETTINGS if production else DEV_SETTINGS
    if not build_site(settings):
        raise Exit("Build failed: output/ still holds the last good build. See the errors above.", code=1)
    print(f"Built {sum(1 for _ in OUTPUT.rglob('*.html'))} pages into {OUTPUT.relative_to(ROOT)}/")


ISSO_DIR = ROOT / ".isso"
ISSO_PORT = 8080


def start_isso(site_port: int):
    """A local Isso for the dev server: SQLite in .isso/, moderation on, the dev server's exact origin."""
    from comments import server as isso_server

    config = isso_server.write_config(ISSO_DIR, f"http://{HOST}:{site_port}", ISSO_PORT, admin_password_for_dev())
    process = isso_server.start(config, ISSO_DIR / "isso.log")
    isso_server.wait_until_ready(f"http://{HOST}:{ISSO_PORT}", process)
    return process


def admin_password_for_dev() -> str:
    """One password per checkout, kept in the ignored .isso/ folder."""
    path = ISSO_DIR / "admin-password"
    if not path.exists():
        import secrets

        ISSO_DIR.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(12), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


@task(help={"port": "port on 127.0.0.1 (default 8000)", "comments": "start Isso for comments (default on)"})
def serve(c, port=8000, comments=True):
    """Build, then serve on http://127.0.0.1:8000 (with Isso comments) and rebuild when a file changes."""
    from livereload import Server

    isso = start_isso(int(port)) if comments else None
    # Stopped by a signal or by Ctrl+C, the dev server always stops Isso too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        build(c)
        server = Server()
        for watched in ("content", "theme", "plugins", "pelicanconf.py"):
            server.watch(str(ROOT / watched), lambda: build_site(DEV_SETTINGS), delay=0.5)
        if isso:
            print(f"Comments: Isso on http://{HOST}:{ISSO_PORT}/ (moderation links in .isso/isso.log, "
                  f"admin at http://{HOST}:{ISSO_PORT}/admin/ with the password in .isso/admin-password)")
        print(f"Serving the shop on http://{HOST}:{port}/ (Ctrl+C to stop)")
        server.serve(host=HOST, port=int(port), root=str(OUTPUT), open_url_delay=None)
    finally:
        if isso:
            from comments import server as isso_server

            isso_server.stop(isso)


@task(help={"port": "the port of the site that embeds the comments (default 8000)"})
def comments(c, port=8000):
    """Run Isso for development in the foreground; moderation links are printed as comments arrive."""
    from comments import server as isso_server

    config = isso_server.write_config(ISSO_DIR, f"http://{HOST}:{port}", ISSO_PORT, admin_password_for_dev())
    print(f"Isso on http://{HOST}:{ISSO_PORT}/ for the site at http://{HOST}:{port}/; "
          f"admin password: {admin_password_for_dev()} (Ctrl+C to stop)")
    c.run(" ".join([*isso_server.isso_command(), "-c", str(config), "run"]), pty=False)


@task(help={"target": "rsync destination (user@host:/path); default: $VETRINA_PUBLISH_TARGET"})
def publish(c, target=None):
    """Production build with publishconf.py, checked; uploads with rsync when a target is given."""
    build(c, production=True)
    check(c, skip_html=False)
    target = target or os.environ.get("VETRINA_PUBLISH_TARGET")
    if target:
        c.run(f"rsync -az --delete {OUTPUT}/ {target}")
    else:
        print("Production site ready in output/: upload it to your host, or set VETRINA_PUBLISH_TARGET.")


def slugify(text: str) -> str:
    from pelican.utils import slugify as pelican_slugify

    return pelican_slugify(text, regex_subs=[(r"[^\w\s-]", ""), (r"[-\s]+", "-")])


def write_new(path: Path, text: str) -> None:
    """Write a new content file, refusing to overwrite one that exists."""
    if path.exists():
        raise Exit(f"{path.relative_to(ROOT)} already exists: choose another title or edit that file.", code=1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"Wrote {path.relative_to(ROOT)}")


def now_minute() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


@task(help={"title": "the post's title", "category": "its category", "lang": "its language (default it)"})
def new_post(c, title, category="Dalla bottega", lang="it"):
    """Write content/posts/<slug>.md with every field filled in, as a draft."""
    slug = slugify(title)
    if not slug:
        raise Exit("The title has no letters or digits to make a slug from.", code=1)
    write_new(CONTENT / "posts" / f"{slug}.md", POST_TEMPLATE.format(
        title=title, slug=slug, date=now_minute(), category=category, lang=lang, uid=uuid.uuid4()))


POST_TEMPLATE = """\
Title: {title}
Slug: {slug}
Date: {date}
Category: {category}
Tags: bottega
Summary: Una o due frasi che dicono di cosa parla l'articolo: appaiono negli elenchi e nei motori di ricerca.
Lang: {lang}
Uid: {uid}
Status: draft
Image:
Image_alt:

Scrivi qui l'articolo in Markdown. Metti `Status: published` quando è pronto;
per un'immagine di apertura indica in `Image:` un file di content/images/ e descrivilo in `Image_alt:`.

## Un sottotitolo

Un paragrafo, un [link a un'altra pagina]({{filename}}/pages/chi-siamo.md).
"""


@task(help={"name": "the product's name", "price": "its price, dot decimal (default 0.00 to fill in)"})
def new_product(c, name, price="0.00"):
    """Write content/products/<slug>.md with every product field filled in."""
    slug = slugify(name)
    if not slug:
        raise Exit("The name has no letters or digits to make a slug from.", code=1)
    if not re.fullmatch(r"\d+(\.\d{1,2})?", price):
        raise Exit(f"Price {price!r}: write it with a dot and up to two decimals, e.g. 129.00", code=1)
    write_new(CONTENT / "products" / f"{slug}.md", PRODUCT_TEMPLATE.format(
        title=json.dumps(name, ensure_ascii=False), slug=slug, date=now_minute(), price=price, uid=uuid.uuid4(),
        sku=slug.upper().replace("-", "")[:12]))


PRODUCT_TEMPLATE = """\
---
# A product of the shop. Fields marked (optional) may be deleted. Remove `status: draft` to publish.
title: {title}
slug: {slug}
date: {date}
uid: {uid}                  # permanent id: never change it
status: draft
sku: {sku}                        # unique across the catalogue
price: "{price}"                  # dot decimal, VAT included
currency: EUR
availability: in_stock            # in_stock | out_of_stock | preorder | backorder
condition: used                   # new | used | refurbished
brand: ""                         # (optional) maker
mpn: ""                           # (optional) maker's part number
gtin: ""                          # (optional) EAN/UPC barcode, only if the product has one
category: Strumenti
tags: [usato]
summary: "Una frase che descrive il prodotto: appare nel catalogo e nei motori di ricerca."
images:                           # the first is the main one; files live in content/images/
  - src: images/products/{slug}.jpg
    alt: "Descrivi la foto per chi non la vede"
weight: 1.0                       # (optional) shipping weight in kg
shipping_class: strumenti              # a class of SHOP_SHIPPING_CLASSES
digital: false                    # true for e-books and downloads: nothing is shipped
featured: false                   # shown on the home page
boost: 1                          # (optional) weight in keyword lists: above 1 favours it
# sale:                           # (optional) a promotion
#   price: "99.00"
#   start: 2026-12-01
#   end: 2026-12-31
# price_history:                  # (optional) past prices, to show the lowest of the 30 days before a sale
#   - date: 2026-10-01
#     price: "129.00"
# variants:                       # (optional) versions with their own sku, price, availability, image
#   - sku: {sku}-R
#     options: {{color: Rosso}}      # color | size | material | pattern
#     price: "129.00"
#     availability: in_stock
#     image: {{src: images/products/{slug}-rosso.jpg, alt: "La versione rossa"}}
# checkout:                       # (optional) payment links, for SHOP_CHECKOUT stripe or paypal
#   stripe: https://buy.stripe.com/...
---

Descrivi lo strumento: condizioni, cosa ha fatto il laboratorio, cosa è incluso.
"""


@task(help={"skip_html": "skip the W3C validator (needs Java)"})
def check(c, skip_html=False):
    """The project's own checks on output/: links and assets, unique titles and descriptions, valid HTML."""
    from core import checks

    if not OUTPUT.is_dir():
        raise Exit("No output/ yet: run `invoke build` first.", code=1)
    site_url = read_setting(PROD_SETTINGS, "SITEURL")
    sections = {
        "links and assets": lambda: checks.broken_links(OUTPUT, site_url),
        "titles and descriptions": lambda: checks.duplicate_heads(OUTPUT),
    }
    if not skip_html:
        sections["HTML validity (W3C Nu)"] = lambda: checks.invalid_html(OUTPUT)
    failed = False
    for name, run in sections.items():
        problems = run()
        print(f"{name}: {len(problems)} problem(s)")
        for problem in problems:
            print(f"  {problem}")
        failed = failed or bool(problems)
    if failed:
        raise Exit("Checks failed.", code=1)


def read_setting(settings: Path, name: str):
    from pelican.settings import read_settings

    return read_settings(str(settings)).get(name)


@task(help={"send": "send it through SMTP (VETRINA_SMTP_* variables); without it, only a preview is written",
            "build": "make a production build first (default); --no-build uses output/ as it is"})
def newsletter(c, send=False, build=True):
    """The next newsletter issue from the newsletter feed: preview by default, --send to send it once."""
    from newsletter import NewsletterError, run
    from newsletter.settings import NewsletterConfigurationError
    from pelican.settings import read_settings

    if build and not build_site(PROD_SETTINGS):
        raise Exit("Build failed: no newsletter. See the errors above.", code=1)
    try:
        result = run(ROOT, read_settings(str(PROD_SETTINGS)), OUTPUT, send=send)
    except (NewsletterError, NewsletterConfigurationError, FileNotFoundError) as error:
        raise Exit(f"Newsletter: {error}", code=1) from None
    print(result.message)
    for path in result.preview:
        print(f"  {path.relative_to(ROOT)}")


VANILLA_SETTINGS = """\
AUTHOR = "Redazione"
SITENAME = "Vanilla Pelican"
SITEURL = ""
PATH = {content!r}
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
DEFAULT_PAGINATION = 6
"""


def vanilla_settings(folder: Path) -> Path:
    """Pelican's own defaults (notmyidea theme, no plugins) on the same posts, pages and images."""
    path = folder / "vanilla.py"
    path.write_text(VANILLA_SETTINGS.format(content=str(CONTENT)), encoding="utf-8")
    return path


def timed_build(settings: Path, output: Path) -> float:
    import time

    shutil.rmtree(output, ignore_errors=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "pelican", str(CONTENT), "-s", str(settings), "-o", str(output), "-q"]
    subprocess.run(command, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


@task(help={"runs": "builds of each kind (default 5); the median is reported"})
def bench(c, runs=5):
    """Build time of the demo against vanilla Pelican on the same content, as a ratio (no absolute claims)."""
    import statistics

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        vanilla = vanilla_settings(folder)
        timed_build(DEV_SETTINGS, folder / "warm")  # fills the image cache, as a second build finds it
        ours = [timed_build(DEV_SETTINGS, folder / "vetrina") for _ in range(int(runs))]
        theirs = [timed_build(vanilla, folder / "vanilla") for _ in range(int(runs))]
    median_ours, median_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"vanilla Pelican: median {median_theirs:.2f} s over {runs} builds (posts and pages only)")
    print(f"Vetrina:         median {median_ours:.2f} s over {runs} builds (+ products, feeds, sitemap, JSON-LD, images)")
    print(f"ratio Vetrina / vanilla: {median_ours / median_theirs:.2f}")


def page_weights(output: Path) -> list[int]:
    """Gzip size of each HTML page plus the same-site CSS and JS it loads (each file counted once per page)."""
    import gzip

    from bs4 import BeautifulSoup

    weights = []
    for page in sorted(output.rglob("*.html")):
        html = page.read_bytes()
        soup = BeautifulSoup(html, "html.parser")
        assets = {tag.get("href") for tag in soup.find_all("link", rel="stylesheet")}
        assets |= {tag.get("src") for tag in soup.find_all("script", src=True)}
        total = len(gzip.compress(html, 6))
        for asset in filter(None, assets):
            path = output / asset.split("?")[0].lstrip("/")
            if path.is_file():
                total += len(gzip.compress(path.read_bytes(), 6))
        weights.append(total)
    return weights


@task
def audit(c):
    """Page weight of the demo (gzip HTML + CSS + JS per page) against vanilla Pelican, as ratios."""
    import statistics

    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        timed_build(DEV_SETTINGS, folder / "vetrina")
        timed_build(vanilla_settings(folder), folder / "vanilla")
        ours, theirs = page_weights(folder / "vetrina"), page_weights(folder / "vanilla")
    for name, weights in (("vanilla Pelican", theirs), ("Vetrina", ours)):
        print(f"{name}: {len(weights)} pages, median {statistics.median(weights) / 1024:.1f} kB, "
              f"heaviest {max(weights) / 1024:.1f} kB (gzip HTML+CSS+JS, images apart)")
    print(f"ratio of medians Vetrina / vanilla: {statistics.median(ours) / statistics.median(theirs):.2f}")


@task(help={"args": "extra pytest arguments, e.g. '-k feeds -x'"})
def test(c, args=""):
    """Run the test suite."""
    c.run(f"{sys.executable} -m pytest {args}", pty=False)


@task
def i18n(c):
    """Extract the theme's UI strings and update the it/en catalogues (compiled at build time)."""
    translations = ROOT / "theme" / "translations"
    pot = translations / "messages.pot"
    c.run(f"{PYBABEL} extract -F babel.cfg -o {pot} --width 100 --no-location --sort-output "
          f"--project=Vetrina --copyright-holder='Vetrina contributors' .")
    c.run(f"{PYBABEL} update -i {pot} -d {translations} --width 100 --no-fuzzy-matching")
    for catalog in [pot, *translations.glob("*/LC_MESSAGES/messages.po")]:
        drop_placeholder_headers(catalog)


def drop_placeholder_headers(path: Path) -> None:
    """Babel writes placeholder names and addresses into catalogue headers; the project keeps none."""
    placeholders = ("FIRST AUTHOR", "EMAIL@ADDRESS", "FULL NAME", "LL@li.org")
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(line for line in lines if not any(p in line for p in placeholders)), encoding="utf-8")
