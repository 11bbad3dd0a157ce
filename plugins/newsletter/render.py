"""Render an issue: the e-mail template, UTM parameters on the shop's links, inlined CSS, a plain-text part."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlparse, urlunparse

import css_inline
import html2text
from bs4 import BeautifulSoup
from jinja2 import Environment, FileSystemLoader

from core import i18n
from shop.catalog import format_money


def environment(theme: Path, languages, default_lang: str) -> Environment:
    env = Environment(loader=FileSystemLoader(str(theme / "templates")), autoescape=True,
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    catalogs = i18n.load_catalogs(theme / "translations", languages)
    i18n.install(env, catalogs, default_lang)
    env.filters.update(i18n.make_date_filters(default_lang))
    env.filters["money"] = lambda amount, currency: format_money(amount, currency, default_lang)
    return env


def with_utm(html: str, site_url: str, params: dict) -> str:
    """Tag every link to the shop with UTM parameters (links elsewhere stay as they are)."""
    host = urlparse(site_url).netloc
    soup = BeautifulSoup(html, "html.parser")
    for link in soup.find_all("a", href=True):
        url = urlparse(link["href"])
        if url.netloc != host:
            continue
        query = [(k, v) for k, v in parse_qsl(url.query) if not k.startswith("utm_")] + list(params.items())
        link["href"] = urlunparse(url._replace(query=urlencode(query)))
    return str(soup)


def plain_text(html: str) -> str:
    """The text part: the same issue without layout tables, images or links that only wrap an image."""
    soup = BeautifulSoup(html, "html.parser")
    for image in soup.find_all("img"):
        image.decompose()
    for link in soup.find_all("a"):
        if not link.get_text(strip=True):
            link.decompose()
    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.ignore_tables = True
    converter.protect_links = True
    converter.unicode_snob = True
    return converter.handle(str(soup)).strip() + "\n"


def issue(env: Environment, context: dict, site_url: str, utm: dict) -> tuple[str, str]:
    """(html, text) of an issue; the HTML has every style inlined for e-mail clients."""
    html = env.get_template("email/digest.html").render(context)
    html = with_utm(html, site_url, utm)
    html = css_inline.inline(html)
    return html, plain_text(html)
