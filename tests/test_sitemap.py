"""sitemap.xml and robots.txt, parsed and cross-checked against the files in the output."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from conftest import html_pages, parse, post
from lxml import etree

from core import checks

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "i": "http://www.google.com/schemas/sitemap-image/1.1"}
SITE = "https://www.cordeelegni.example"
ISO_8601 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")


def sitemap_urls(output):
    tree = etree.parse(str(output / "sitemap.xml"))
    return {url.findtext("s:loc", namespaces=NS): url for url in tree.getroot().findall("s:url", NS)}


def test_sitemap_lists_exactly_the_indexable_pages(demo_production):
    urls = sitemap_urls(demo_production)
    indexable = set()
    for path in html_pages(demo_production):
        robots = parse(path).find("meta", attrs={"name": "robots"})
        if not robots:
            indexable.add(SITE + checks.page_url(demo_production, path))
    assert set(urls) == indexable
    for loc in urls:
        assert checks.resolve(demo_production, urlparse(loc).path), loc


def test_sitemap_has_iso_lastmod_and_images(demo_production):
    urls = sitemap_urls(demo_production)
    post_url = urls[f"{SITE}/blog/comprare-chitarra-usata/"]
    assert post_url.findtext("s:lastmod", namespaces=NS) == "2026-03-10T18:00:00+01:00"  # its Modified field
    assert [i.text for i in post_url.findall("i:image/i:loc", NS)] == [
        f"{SITE}/images/posts/comprare-chitarra-usata.jpg"]
    product = urls[f"{SITE}/prodotti/chitarra-elettrica-squier-stratocaster/"]
    images = [i.text for i in product.findall("i:image/i:loc", NS)]
    assert len(images) == 3 and all(checks.resolve(demo_production, urlparse(i).path) for i in images)
    for url in urls.values():
        lastmod = url.findtext("s:lastmod", namespaces=NS)
        assert lastmod is None or ISO_8601.match(lastmod), lastmod


def test_noindex_pages_stay_out_of_the_sitemap(demo_production):
    urls = sitemap_urls(demo_production)
    assert f"{SITE}/404.html" not in urls
    assert not [u for u in urls if "/blog/tag/" in u and u != f"{SITE}/blog/tag/"]
    assert not [u for u in urls if "/pagina/" in u or "/ordine/" in u]
    tag_page = next((demo_production / "blog" / "tag").glob("*/index.html"))
    assert parse(tag_page).find("meta", attrs={"name": "robots"})["content"] == "noindex,follow"


def test_robots_txt_points_to_the_sitemap(demo_production):
    lines = (demo_production / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert "User-agent: *" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    assert "Disallow: /bozze/" in lines


def test_large_sitemaps_are_split_behind_an_index(build_site):
    posts = {f"posts/p{i}.md": post(title=f"Post {i}", slug=f"p{i}") for i in range(5)}
    output = build_site(posts, settings_file="publishconf.py", SEO_SITEMAP_MAX_URLS=3)
    index = etree.parse(str(output / "sitemap.xml")).getroot()
    assert index.tag == f"{{{NS['s']}}}sitemapindex"
    parts = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    assert parts and all(p.startswith(f"{SITE}/sitemap-") for p in parts)
    listed = []
    for part in parts:
        tree = etree.parse(str(output / urlparse(part).path.lstrip("/")))
        locs = [loc.text for loc in tree.getroot().findall("s:url/s:loc", NS)]
        assert 0 < len(locs) <= 3
        listed += locs
    assert len(listed) == len(set(listed))
    assert {f"{SITE}/blog/p{i}/" for i in range(5)} <= set(listed)


def test_noindex_is_configurable(build_site):
    output = build_site({"posts/a.md": post()}, settings_file="publishconf.py", SEO_NOINDEX_TAGS=False)
    assert parse(output / "blog" / "tag" / "prova" / "index.html").find("meta", attrs={"name": "robots"}) is None
    assert f"{SITE}/blog/tag/prova/" in sitemap_urls(output)


def test_development_build_writes_robots_without_sitemap(demo_output):
    assert not (demo_output / "sitemap.xml").exists()
    assert "Sitemap:" not in (demo_output / "robots.txt").read_text(encoding="utf-8")
