"""sitemap.xml (split behind a sitemap index when large) and robots.txt, built with an XML library. Pure."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
ET.register_namespace("", SITEMAP_NS)
ET.register_namespace("image", IMAGE_NS)


@dataclass(frozen=True)
class Entry:
    loc: str
    lastmod: dt.datetime | None = None
    images: tuple[str, ...] = ()


def _tag(name: str, ns: str = SITEMAP_NS) -> str:
    return f"{{{ns}}}{name}"


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def lastmod_text(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat()


def urlset(entries: list[Entry]) -> bytes:
    root = ET.Element(_tag("urlset"))
    for entry in entries:
        url = ET.SubElement(root, _tag("url"))
        ET.SubElement(url, _tag("loc")).text = entry.loc
        if entry.lastmod:
            ET.SubElement(url, _tag("lastmod")).text = lastmod_text(entry.lastmod)
        for image in entry.images:
            node = ET.SubElement(url, _tag("image", IMAGE_NS))
            ET.SubElement(node, _tag("loc", IMAGE_NS)).text = image
    return _serialise(root)


def sitemap_index(locations: list[tuple[str, dt.datetime | None]]) -> bytes:
    root = ET.Element(_tag("sitemapindex"))
    for loc, lastmod in locations:
        node = ET.SubElement(root, _tag("sitemap"))
        ET.SubElement(node, _tag("loc")).text = loc
        if lastmod:
            ET.SubElement(node, _tag("lastmod")).text = lastmod_text(lastmod)
    return _serialise(root)


def files(entries: list[Entry], site_url: str, max_urls: int) -> dict[str, bytes]:
    """{file name: XML}: one sitemap.xml, or sitemap.xml as an index of sitemap-N.xml parts."""
    entries = sorted(entries, key=lambda entry: entry.loc)
    if len(entries) <= max_urls:
        return {"sitemap.xml": urlset(entries)}
    parts, locations = {}, []
    for number, start in enumerate(range(0, len(entries), max_urls), start=1):
        chunk = entries[start : start + max_urls]
        name = f"sitemap-{number}.xml"
        parts[name] = urlset(chunk)
        dates = [entry.lastmod for entry in chunk if entry.lastmod]
        locations.append((f"{site_url}/{name}", max(dates) if dates else None))
    parts["sitemap.xml"] = sitemap_index(locations)
    return parts


def robots_txt(site_url: str, disallow: tuple[str, ...], extra: str = "") -> str:
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in disallow] or ["Disallow:"]
    if extra.strip():
        lines += ["", extra.strip()]
    if site_url.startswith("http"):
        lines += ["", f"Sitemap: {site_url}/sitemap.xml"]
    return "\n".join(lines) + "\n"
