"""Feeds: parsed with feedparser and lxml; absolute URLs; stable GUIDs; the newsletter and Merchant feeds."""

from __future__ import annotations

from decimal import Decimal
from email.utils import parsedate_to_datetime
from urllib.parse import urlparse

import feedparser
import pytest
from bs4 import BeautifulSoup
from conftest import parse, post
from lxml import etree
from shop_fixtures import catalogue

NS = {"content": "http://purl.org/rss/1.0/modules/content/", "media": "http://search.yahoo.com/mrss/",
      "atom": "http://www.w3.org/2005/Atom", "g": "http://base.google.com/ns/1.0"}
SITE = "https://www.cordeelegni.example"
UID_A = "11111111-2222-4333-8444-555555555555"
UID_B = "66666666-7777-4888-9999-aaaaaaaaaaaa"
TODAY = "2026-11-22"


def fixture_posts(slug_a="prima"):
    return {
        "posts/a.md": post(title="Prima & <ultima>", slug=slug_a, date="2026-11-01 10:00", uid=UID_A,
                           body="Un [link](/blog/).\n\n[[prodotto: cavo-jack]]\n\n[[prodotto: basso]]\n\n![foto](/images/p.png)"),
        "posts/b.md": post(title="Seconda", slug="seconda", date="2026-11-10 09:00", uid=UID_B, category="Guide",
                           tags="corde"),
    }


@pytest.fixture
def feeds(build_site):
    return build_site({**catalogue(), **fixture_posts()}, "publishconf.py", SHOP_TODAY=TODAY) / "feeds"


def all_feeds(folder):
    return sorted(folder.rglob("*.xml"))


def test_every_feed_parses_cleanly(feeds):
    names = {path.relative_to(feeds).as_posix() for path in all_feeds(feeds)}
    assert {"atom.xml", "rss.xml", "prodotti.xml", "newsletter.xml", "merchant.xml", "categoria/guide.xml",
            "tag/corde.xml"} <= names
    for path in all_feeds(feeds):
        parsed = feedparser.parse(path.read_bytes())
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.entries, path
        etree.fromstring(path.read_bytes())  # well-formed XML


def test_every_url_in_every_feed_is_absolute(feeds):
    for path in all_feeds(feeds):
        for entry in feedparser.parse(path.read_bytes()).entries:
            assert entry.link.startswith(SITE + "/"), (path, entry.link)
            for content in entry.get("content", []):
                soup = BeautifulSoup(content.value, "html.parser")
                for tag, attribute in (("a", "href"), ("img", "src")):
                    for element in soup.find_all(tag):
                        assert urlparse(element[attribute]).scheme in ("https", "mailto"), (path, element)
                assert not soup.find(srcset=True) and not soup.find("source") and not soup.find(loading=True)
                assert not soup.find(["script", "iframe"])


def test_posts_feeds_are_full_content_newest_first_with_real_dates(feeds):
    for name in ("rss.xml", "atom.xml"):
        entries = feedparser.parse((feeds / name).read_bytes()).entries
        assert [e.title for e in entries] == ["Seconda", "Prima & <ultima>"]
        assert entries[1].published_parsed[:5] == (2026, 11, 1, 9, 0)  # 10:00 in Rome is 09:00 UTC
        body = BeautifulSoup(entries[1].content[0].value, "html.parser")
        assert len(body.select("aside.product-embed")) == 2  # the cards, as on the page
        assert body.find("a", string="link")["href"] == f"{SITE}/blog/"
        assert body.find("img", alt="foto")["src"] == f"{SITE}/images/p.png"
        assert "Redazione Corde & Legni" in entries[0].author
        assert {t.term for t in entries[0].tags} == {"Guide", "corde"}


def test_guids_survive_a_new_domain_and_a_new_slug(build_site, tmp_path):
    first = build_site({**catalogue(), **fixture_posts()}, "publishconf.py", SHOP_TODAY=TODAY)
    before = {e.title: e.id for e in feedparser.parse((first / "feeds" / "newsletter.xml").read_bytes()).entries}
    second = build_site({**catalogue(), **fixture_posts(slug_a="nuovo-slug")}, "publishconf.py",
                        SHOP_TODAY=TODAY, SITEURL="https://nuovo-dominio.example")
    after = {e.title: e.id for e in feedparser.parse((second / "feeds" / "newsletter.xml").read_bytes()).entries}
    assert before == after
    assert before["Prima & <ultima>"] == f"urn:uuid:{UID_A}"
    links = [e.link for e in feedparser.parse((second / "feeds" / "rss.xml").read_bytes()).entries]
    assert "https://nuovo-dominio.example/blog/nuovo-slug/" in links


def test_newsletter_feed_follows_the_rss_to_email_checklist(feeds):
    tree = etree.parse(str(feeds / "newsletter.xml"))
    channel = tree.getroot().find("channel")
    assert channel.find("atom:link[@rel='self']", NS).get("href") == f"{SITE}/feeds/newsletter.xml"
    items = channel.findall("item")
    dates = [parsedate_to_datetime(item.findtext("pubDate")) for item in items]
    assert dates == sorted(dates, reverse=True)
    post_item = next(i for i in items if i.findtext("title") == "Prima & <ultima>")
    assert post_item.findtext("description") and post_item.findtext("content:encoded", namespaces=NS)
    assert post_item.find("guid").get("isPermaLink") == "false"
    body = BeautifulSoup(post_item.findtext("content:encoded", namespaces=NS), "html.parser")
    cards = body.find_all("table", attrs={"role": "presentation"})
    assert len(cards) == 2 and all("style" in c.attrs for c in cards)  # e-mail-safe product cards
    assert "1.189,00" in cards[1].get_text()
    titles = [i.findtext("title") for i in items]
    assert "In offerta: Basso in offerta" in titles
    for item in items:
        media = item.findall("media:content", NS)
        enclosures = item.findall("enclosure")
        assert len(enclosures) <= 1
        if enclosures:
            assert len(media) == 1 and media[0].get("medium") == "image"
            assert media[0].get("url") == enclosures[0].get("url").strip() and int(enclosures[0].get("length")) > 0


def test_merchant_feed_has_every_product_and_variant_with_the_page_prices(feeds):
    from test_checkout import EXPECTED

    tree = etree.parse(str(feeds / "merchant.xml"))
    items = tree.getroot().find("channel").findall("item")
    found = {}
    for item in items:
        g = {child.tag.split("}")[1]: child.text for child in item if child.tag.startswith("{" + NS["g"])}
        for required in ("id", "image_link", "availability", "price", "condition"):
            assert g.get(required), (required, g)
        assert item.findtext("title") and item.findtext("link").startswith(SITE) and item.findtext("description")
        assert g.get("brand") or g.get("identifier_exists") == "no"
        assert g.get("gtin") or g.get("mpn") or g.get("identifier_exists") == "no"
        amount, currency = (g.get("sale_price") or g["price"]).split()
        found[g["id"]] = Decimal(amount)
        assert currency == "EUR"
        if g["id"].startswith("CAB-"):
            assert g["item_group_id"] == "CAB" and g["size"] in ("3 m", "6 m")
    assert found == EXPECTED
    bass = next(i for i in items if i.find("g:id", NS).text == "B-1")
    assert bass.find("g:price", NS).text == "1219.00 EUR" and bass.find("g:sale_price", NS).text == "1189.00 EUR"
    assert bass.find("g:sale_price_effective_date", NS).text == "2026-11-15T00:00+01:00/2027-06-30T23:59+02:00"
    piano = next(i for i in items if i.find("g:id", NS).text == "P-1")
    assert piano.find("g:availability", NS).text == "out_of_stock"


def test_products_feed_announces_new_products_and_sales(feeds):
    titles = [e.title for e in feedparser.parse((feeds / "prodotti.xml").read_bytes()).entries]
    assert "In offerta: Basso in offerta" in titles
    assert not [t for t in titles if t.startswith("Nuovo")]  # the fixture products were listed in June


def test_pages_link_their_feeds(build_site):
    output = build_site({**catalogue(), **fixture_posts()}, "publishconf.py", SHOP_TODAY=TODAY)
    home = parse(output / "index.html")
    types = {link["type"]: link["href"] for link in home.find_all("link", rel="alternate") if link.get("type")}
    assert types == {"application/atom+xml": f"{SITE}/feeds/atom.xml", "application/rss+xml": f"{SITE}/feeds/rss.xml"}
    category = parse(output / "blog" / "categoria" / "guide" / "index.html")
    hrefs = [link["href"] for link in category.find_all("link", rel="alternate")]
    assert f"{SITE}/feeds/categoria/guide.xml" in hrefs
    for href in hrefs:
        assert (output / urlparse(href).path.lstrip("/")).is_file()


def test_a_post_with_many_tags_costs_one_category_call_per_feed_entry(build_site, monkeypatch):
    """feedgen rebuilds an entry's whole category list on every category() call, so one call per entry
    keeps a post with hundreds of tags linear; its tag feeds carry a capped list of terms."""
    from feedgen.entry import FeedEntry

    calls = []
    original = FeedEntry.category

    def counted(self, category=None, replace=False, **kwargs):
        if category is not None or kwargs:
            calls.append(len(category) if isinstance(category, list) else 1)
        return original(self, category, replace, **kwargs)

    monkeypatch.setattr(FeedEntry, "category", counted)
    tags = ", ".join(f"etichetta {n}" for n in range(60))
    out = build_site({"posts/a.md": post(tags=tags, uid=UID_A)}, "publishconf.py", FEEDS_SEGMENT_MAX_TERMS=5,
                     SITE_WORKERS=1)  # counted in this process: no feed written by a fork
    entries = 0
    for path in all_feeds(out / "feeds"):
        parsed = feedparser.parse(path.read_bytes())
        entries += sum(1 for entry in parsed.entries if entry.get("id") == f"urn:uuid:{UID_A}")
        if "/tag/" in str(path) or "/categoria/" in str(path):
            assert [len(entry.tags) for entry in parsed.entries] == [5], path.name
    main = feedparser.parse((out / "feeds" / "rss.xml").read_bytes()).entries[0]
    assert len(main.tags) == 61  # the category and every tag, in the site's own feeds
    assert entries == 3 + 60 + 1  # atom, rss and newsletter, 60 tag feeds, one category feed
    assert len(calls) == entries


def test_each_item_is_made_feed_safe_once_however_many_feeds_carry_it(build_site, monkeypatch):
    """A post appears in the posts feeds, its category's and tags' feeds and the newsletter: its body is parsed
    once per card kind (page cards in the site's feeds, e-mail cards in the newsletter), a product's event once."""
    import feeds.html

    calls = []
    original = feeds.html.email_safe

    def counted(html, base_url):
        calls.append(base_url)
        return original(html, base_url)

    monkeypatch.setattr(feeds.html, "email_safe", counted)
    content = {**catalogue(), **fixture_posts()}
    content["posts/b.md"] = content["posts/b.md"].replace("Tags: corde", "Tags: corde, basso, guida")
    out = build_site(content, "publishconf.py", SHOP_TODAY=TODAY) / "feeds"
    post_ids = {f"urn:uuid:{UID_A}", f"urn:uuid:{UID_B}"}
    distinct, entries = set(), 0
    for path in all_feeds(out):
        if path.name == "merchant.xml":
            continue  # plain fields, no HTML body
        for entry in feedparser.parse(path.read_bytes()).entries:
            entries += 1
            is_post = entry.id in post_ids
            kind = "page" if is_post and path.name != "newsletter.xml" else "email"
            distinct.add((kind, entry.link))
    assert entries > len(distinct) + 5  # the same items really are in several feeds
    assert len(calls) == len(distinct)
    assert sorted(calls) == sorted(link for _, link in distinct)


def test_a_newsletter_post_begins_with_its_lead_image_absolute_with_alt_and_an_e_mail_width(demo_production):
    """Services that make e-mails of a feed take the content's first image: the post's own, not a card's."""
    channel = etree.parse(str(demo_production / "feeds" / "newsletter.xml")).getroot().find("channel")
    checked = 0
    for item in channel.findall("item"):
        media = item.find("media:content", NS)
        body = BeautifulSoup(item.findtext("content:encoded", namespaces=NS), "html.parser")
        first = body.find(True)
        if media is None or item.findtext("link").rstrip("/").split("/")[-2] != "blog":
            continue  # catalogue news: the product's card is its content
        image = first.find("img") if first.name == "p" else None
        assert image is not None and image["src"] == media.get("url"), item.findtext("title")
        page = BeautifulSoup((demo_production / item.findtext("link").split("/", 3)[3] / "index.html")
                             .read_text(encoding="utf-8"), "html.parser")
        assert image["alt"] and image["alt"] == page.select_one("article img")["alt"]
        width, height = int(image["width"]), int(image["height"])
        assert width == min(600, int(media.get("width")))
        assert abs(height - int(media.get("height")) * width / int(media.get("width"))) <= 1
        checked += 1
    assert checked >= 3
