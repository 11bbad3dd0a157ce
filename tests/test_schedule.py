"""Scheduled content and the one clock: future posts, pages and products wait; times are DST-correct."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import feedparser
import pytest
from conftest import BuildFailed, parse, post, run_build, write_content
from invoke import Context
from lxml import etree
from pelican import signals
from shop_fixtures import catalogue, product_fields, product_file

import tasks
from core import schedule
from shop import parse as shop_parse

ROME = ZoneInfo("Europe/Rome")
SITE = "https://www.cordeelegni.example"
NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "g": "http://base.google.com/ns/1.0"}
BEFORE = "2026-11-22 12:00"  # the clock of a build made before the launch
LAUNCH = "2027-03-01 09:00"  # the date of the scheduled post, page and product (winter time: +01:00)


# --- the clock -------------------------------------------------------------------------------------
def clock(setting=None, variable=None, shop_today=None):
    return schedule.site_now(setting, variable, shop_today, ROME, dt.datetime(2026, 12, 1, 18, 0, tzinfo=dt.timezone.utc))


@pytest.mark.parametrize("setting, variable, shop_today, expected", [
    (None, None, None, "2026-12-01T19:00:00+01:00"),  # the real time, in the site's zone
    ("2027-07-01 10:00", None, None, "2027-07-01T10:00:00+02:00"),  # SITE_NOW, read as Rome's summer time
    (None, "2027-01-15T08:30", None, "2027-01-15T08:30:00+01:00"),  # $VETRINA_NOW
    ("2027-07-01T08:00Z", "2030-01-01", None, "2027-07-01T10:00:00+02:00"),  # the setting wins; Z is an instant
    (None, None, "2026-11-22", "2026-11-22T23:59:59+01:00"),  # SHOP_TODAY: the whole day has come
    ("2026-11-22 09:00", None, dt.date(2026, 11, 22), "2026-11-22T09:00:00+01:00"),  # the same day: fine
])
def test_one_clock_from_setting_variable_shop_today_or_real_time(setting, variable, shop_today, expected):
    assert clock(setting, variable, shop_today).isoformat() == expected


@pytest.mark.parametrize("setting, shop_today, words", [
    ("domani", None, ["SITE_NOW", "'domani'", "2027-03-01 09:00"]),
    ("2027-07-01", "2026-11-22", ["SITE_NOW", "SHOP_TODAY", "2026-11-22", "two different days"]),
    (None, "22/11/2026", ["SHOP_TODAY", "22/11/2026"]),
])
def test_a_clock_that_cannot_be_read_is_one_clear_error(setting, shop_today, words):
    with pytest.raises(schedule.ClockError) as error:
        clock(setting, None, shop_today)
    assert all(word in str(error.value) for word in words), error.value
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("written, expected", [
    ("2027-06-30T23:59", "2027-06-30T23:59:00+02:00"),  # summer time: Rome is two hours ahead of UTC
    ("2027-01-15T23:59", "2027-01-15T23:59:00+01:00"),  # winter time
    ("2027-03-28 03:00", "2027-03-28T03:00:00+02:00"),  # the night the clocks go forward
    ("2027-10-31 01:00", "2027-10-31T01:00:00+02:00"),  # the last hour of summer time
    ("2027-10-31 04:00", "2027-10-31T04:00:00+01:00"),
    (dt.datetime(2027, 6, 30, 21, 59, tzinfo=dt.timezone.utc), "2027-06-30T23:59:00+02:00"),  # an instant stays one
])
def test_naive_times_take_the_offset_of_their_own_instant(written, expected):
    assert schedule.moment(written, ROME).isoformat() == expected


def test_scheduled_means_dated_after_the_clock():
    now = clock("2027-03-01 09:00")
    assert schedule.is_scheduled(dt.datetime(2027, 3, 1, 9, 1, tzinfo=ROME), now)
    assert not schedule.is_scheduled(dt.datetime(2027, 3, 1, 9, 0, tzinfo=ROME), now)  # at its time it is live
    assert not schedule.is_scheduled(dt.datetime(2027, 3, 1, 7, 30, tzinfo=dt.timezone.utc), now)  # 08:30 in Rome
    assert schedule.is_scheduled(dt.datetime(2027, 3, 1, 8, 30, tzinfo=dt.timezone.utc), now)  # 09:30 in Rome
    assert not schedule.is_scheduled(None, now)


# --- sales: aware instants, DST-correct ------------------------------------------------------------
def sale_offer(sale: dict, now: str):
    fields = product_fields(price="249.00", sale=sale)
    return shop_parse.product(fields, default_currency="EUR", today=dt.date(2026, 11, 22), image_exists=lambda _: True,
                              zone=ROME, now=schedule.moment(now, ROME)).offer


@pytest.mark.parametrize("end, offset", [("2027-06-30T23:59", "+02:00"), ("2027-01-15T23:59", "+01:00"),
                                         ("2027-06-30", "+02:00"), ("2027-01-15", "+01:00")])
def test_a_sale_ends_with_the_offset_rome_has_on_its_last_day(end, offset):
    offer = sale_offer({"price": "199.00", "start": "2026-11-15", "end": end}, "2026-11-22 12:00")
    assert offer.on_sale
    assert offer.sale_ends_at.isoformat() == f"{end[:10]}T23:59:00{offset}"
    assert offer.sale_ends == dt.date.fromisoformat(end[:10])  # the day, for priceValidUntil and the page
    assert offer.sale_effective_date == f"2026-11-15T00:00+01:00/{end[:10]}T23:59{offset}"


@pytest.mark.parametrize("now, on_sale", [
    ("2026-11-14 23:59", False), ("2026-11-15 00:00", True),
    ("2027-06-30 23:59:30", True),  # its last minute still counts
    ("2027-07-01 00:00", False), ("2027-06-30T22:00Z", False),  # midnight in Rome, 22:00 in UTC
])
def test_a_sale_runs_from_its_first_to_its_last_minute_in_rome(now, on_sale):
    offer = sale_offer({"price": "199.00", "start": "2026-11-15", "end": "2027-06-30"}, now)
    assert offer.on_sale is on_sale
    assert offer.price == (Decimal("199.00") if on_sale else Decimal("249.00"))


def test_a_sale_may_start_and_end_at_a_time_of_day():
    sale = shop_parse.sale({"price": "10.00", "start": "2026-11-27 09:00", "end": "2026-11-30T18:00"},
                           Decimal("20.00"), "sale", ROME)
    assert (sale.starts_at.isoformat(), sale.ends_at.isoformat()) == ("2026-11-27T09:00:00+01:00",
                                                                      "2026-11-30T18:00:00+01:00")
    assert sale.over_at.isoformat() == "2026-11-30T18:01:00+01:00"


def test_a_bad_sale_time_names_the_field():
    with pytest.raises(shop_parse.ProductError) as error:
        shop_parse.sale({"price": "10.00", "start": "2026-11-27", "end": "fine giugno"}, Decimal("20.00"), "sale", ROME)
    assert error.value.field == "sale.end" and "2026-11-30T23:59" in error.value.message


def test_structured_data_and_merchant_feed_carry_the_sale_end_of_rome(tmp_path):
    content = {**catalogue(), "products/basso.md": product_file(
        title="Basso in offerta", slug="basso", sku="B-1", price="1219.00", category="Bassi",
        sale={"price": "1189.00", "start": "2026-11-15", "end": "2027-06-30T23:59"})}
    write_content(tmp_path / "content", content)
    output = run_build(tmp_path / "content", tmp_path / "output", "publishconf.py", SITE_NOW=BEFORE)
    page = parse(output / "prodotti" / "basso" / "index.html")
    graph = json.loads(page.find("script", type="application/ld+json").string)
    product = next(node for node in graph["@graph"] if node.get("@type") == "Product")
    assert product["offers"]["priceValidUntil"] == "2027-06-30"
    merchant = etree.parse(str(output / "feeds" / "merchant.xml"))
    item = next(i for i in merchant.iter("item") if i.findtext("g:id", namespaces=NS) == "B-1")
    assert item.findtext("g:sale_price_effective_date", namespaces=NS) == \
        "2026-11-15T00:00+01:00/2027-06-30T23:59+02:00"


# --- scheduled items: left out of every output, then in ---------------------------------------------
def scheduled_site() -> dict:
    body = "Arriva la nuova chitarra.\n\n[[prodotto: nuova-chitarra]]"
    return {
        **catalogue(),
        "posts/oggi.md": post(title="Già uscito", slug="gia-uscito", date="2026-11-10 09:00"),
        "posts/oggi-en.md": post(title="Out already", slug="gia-uscito", date=LAUNCH, lang="en"),  # its translation
        "posts/domani.md": post(title="In arrivo", slug="in-arrivo", date=LAUNCH, category="Annunci",
                                tags="lancio", body=body),
        "pages/saldi.md": "Title: Saldi di primavera\nSlug: saldi\nDate: 2027-03-01 09:00\n\nI saldi.\n",
        "products/nuova.md": product_file(title="Chitarra nuova", slug="nuova-chitarra", sku="N-1", date=LAUNCH,
                                          category="Novità", tags=["novità"],
                                          summary="Una chitarra che arriva a marzo."),
    }


@pytest.fixture
def build_scheduled(tmp_path, caplog):
    """build(now) -> (output, scheduled_items, info lines) of the scheduled site built at that clock."""
    seen = {}

    def remember(generators):
        seen["scheduled"] = dict(generators[0].context[schedule.CONTEXT_KEY])

    def build(now: str, folder: str):
        content = tmp_path / "content"
        write_content(content, scheduled_site())
        caplog.clear()
        signals.all_generators_finalized.connect(remember)
        try:
            with caplog.at_level(logging.INFO):
                output = run_build(content, tmp_path / folder, "publishconf.py", SITE_NOW=now)
        finally:
            signals.all_generators_finalized.disconnect(remember)
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("Scheduled:")]
        return output, seen["scheduled"], lines

    return build


def everything_published(output) -> dict:
    """Where each of the three scheduled items would show, as sets of what was found."""
    feeds = {name: {e.link for e in feedparser.parse((output / "feeds" / name).read_bytes()).entries}
             for name in ("atom.xml", "rss.xml", "newsletter.xml", "prodotti.xml")}
    sitemap = {loc.text for loc in etree.parse(str(output / "sitemap.xml")).getroot().iterfind("s:url/s:loc", NS)}
    merchant = {i.findtext("g:id", namespaces=NS) for i in etree.parse(str(output / "feeds" / "merchant.xml")).iter("item")}
    shop = {p["id"] for p in json.loads((output / "shop.json").read_text(encoding="utf-8"))["products"]}
    links = {name: {a["href"] for a in parse(output / name).find_all("a", href=True)}
             for name in ("index.html", "blog/index.html", "prodotti/index.html", "blog/tag/prova/index.html",
                          "blog/categoria/prove/index.html", "prodotti/categoria/chitarre/index.html")}
    return {"feeds": feeds, "sitemap": sitemap, "merchant": merchant, "shop": shop, "links": links}


def test_future_post_page_and_product_are_in_no_output_before_their_date(build_scheduled):
    output, scheduled, lines = build_scheduled(BEFORE, "before")
    for missing in ("blog/in-arrivo", "saldi", "prodotti/nuova-chitarra", "blog/tag/lancio", "blog/categoria/annunci",
                    "prodotti/categoria/novita", "bozze", "en/blog/gia-uscito"):
        assert not (output / missing).exists(), missing
    original = parse(output / "blog" / "gia-uscito" / "index.html")
    assert not [tag for tag in original.find_all(["a", "link"], href=True) if "/en/" in tag["href"]]
    found = everything_published(output)
    for name, links in found["feeds"].items():
        assert not [link for link in links if "in-arrivo" in link or "nuova-chitarra" in link], name
    assert f"{SITE}/blog/gia-uscito/" in found["feeds"]["atom.xml"]
    assert not [loc for loc in found["sitemap"] if "in-arrivo" in loc or "saldi" in loc or "nuova" in loc
                or "lancio" in loc or "annunci" in loc]
    assert f"{SITE}/blog/gia-uscito/" in found["sitemap"]
    assert "N-1" not in found["merchant"] and "T-1" in found["merchant"]
    assert "N-1" not in found["shop"] and "T-1" in found["shop"]
    for name, links in found["links"].items():
        assert not [link for link in links if "in-arrivo" in link or "nuova-chitarra" in link or "saldi" in link], name
    tags = {a.get_text(strip=True) for a in parse(output / "blog" / "tag" / "index.html").find_all("a")}
    assert "lancio" not in tags
    # The record other plugins read: absolute source paths and aware publish times; one info line each.
    assert {path.rsplit("/", 2)[-2] + "/" + path.rsplit("/", 1)[-1]: when.isoformat()
            for path, when in scheduled.items()} == {"posts/domani.md": "2027-03-01T09:00:00+01:00",
                                                      "posts/oggi-en.md": "2027-03-01T09:00:00+01:00",
                                                      "pages/saldi.md": "2027-03-01T09:00:00+01:00",
                                                      "products/nuova.md": "2027-03-01T09:00:00+01:00"}
    assert all(path.startswith("/") for path in scheduled)
    assert sorted(line.split(" goes live on ")[1] for line in lines) == ["2027-03-01T09:00:00+01:00"] * 4
    assert {line.split()[1] for line in lines} == {"content/posts/domani.md", "content/posts/oggi-en.md",
                                                   "content/pages/saldi.md", "content/products/nuova.md"}


def test_once_the_clock_reaches_their_date_they_are_everywhere(build_scheduled):
    output, scheduled, lines = build_scheduled(LAUNCH, "after")
    assert scheduled == {} and lines == []
    for present in ("blog/in-arrivo", "saldi", "prodotti/nuova-chitarra", "blog/tag/lancio", "blog/categoria/annunci",
                    "prodotti/categoria/novita", "en/blog/gia-uscito"):
        assert (output / present / "index.html").is_file(), present
    original = parse(output / "blog" / "gia-uscito" / "index.html")
    assert [tag for tag in original.find_all(["a", "link"], href=True) if "/en/blog/gia-uscito/" in tag["href"]]
    found = everything_published(output)
    assert f"{SITE}/blog/in-arrivo/" in found["feeds"]["atom.xml"] and f"{SITE}/blog/in-arrivo/" in found["feeds"]["rss.xml"]
    assert f"{SITE}/blog/in-arrivo/" in found["feeds"]["newsletter.xml"]
    assert f"{SITE}/prodotti/nuova-chitarra/" in found["feeds"]["prodotti.xml"]
    assert {f"{SITE}/blog/in-arrivo/", f"{SITE}/saldi/", f"{SITE}/prodotti/nuova-chitarra/"} <= found["sitemap"]
    assert "N-1" in found["merchant"] and "N-1" in found["shop"]
    assert f"{SITE}/blog/in-arrivo/" in found["links"]["index.html"]
    assert f"{SITE}/prodotti/nuova-chitarra/" in found["links"]["prodotti/index.html"]
    card = parse(output / "blog" / "in-arrivo" / "index.html").find("a", href=f"{SITE}/prodotti/nuova-chitarra/")
    assert card is not None  # the post's card of the product, now that both are out


def test_a_live_post_showing_a_scheduled_product_names_both_files(tmp_path):
    content = {**scheduled_site(), "posts/oggi.md": post(title="Già uscito", slug="gia-uscito", date="2026-11-10 09:00",
                                                         body="Presto in negozio:\n\n[[prodotto: N-1]]")}
    write_content(tmp_path / "content", content)
    with pytest.raises(BuildFailed) as failed:
        run_build(tmp_path / "content", tmp_path / "output", SITE_NOW=BEFORE)
    [message] = failed.value.messages
    assert "posts/oggi.md" in message and "products/nuova.md" in message and "2027-03-01T09:00:00+01:00" in message


def test_a_review_or_pin_of_a_scheduled_product_waits_for_it(tmp_path):
    content = {**scheduled_site(),
               "reviews/n-1.md": "---\nproduct: N-1\nauthor: Anna\ndate: 2027-03-02\nrating: 5\n---\n\nBella.\n",
               "lists/novita.md": ("---\ntitle: Le novità\nslug: le-novita\ndate: 2026-11-01\npinned: [N-1, T-1]\n"
                                   "---\n\nScelte.\n")}
    write_content(tmp_path / "content", content)
    output = run_build(tmp_path / "content", tmp_path / "output", SITE_NOW=BEFORE)
    page = parse(output / "prodotti" / "selezioni" / "le-novita" / "index.html")
    listed = {a["href"] for a in page.find_all("a", href=True)}
    assert "/prodotti/chitarra-di-prova/" in listed and "/prodotti/nuova-chitarra/" not in listed


# --- next-build ------------------------------------------------------------------------------------
@pytest.fixture
def small_content(tmp_path, monkeypatch):
    content = tmp_path / "content"
    write_content(content, {
        "images/p.png": b"",
        "posts/uscito.md": post(title="Uscito", slug="uscito", date="2026-11-10 09:00"),
        "posts/domani.md": post(title="In arrivo", slug="in-arrivo", date="2027-03-01 09:00"),
        "posts/bozza.md": post(title="Bozza", slug="bozza", date="2027-01-10 09:00", status="draft"),
        "products/basso.md": product_file(slug="basso", sku="B-1", sale={"price": "199.00", "start": "2027-02-01",
                                                                          "end": "2027-06-30"}),
        "products/rotto.md": "---\ntitle: [non chiuso\n---\n",
    })
    monkeypatch.setattr(tasks, "CONTENT", content)
    return content


def next_build(capsys, **options) -> str:
    tasks.next_build(Context(), **options)
    return capsys.readouterr().out.strip()


def test_next_build_names_the_next_change(small_content, capsys):
    out = next_build(capsys, now="2026-11-22 12:00")
    assert out.splitlines()[0] == ("2027-02-01T00:00:00+01:00 (UTC 2027-01-31T23:00:00Z): "
                                   "sale on content/products/basso.md starts")
    assert next_build(capsys, now="2027-02-10", format="iso") == "2027-03-01T09:00:00+01:00"  # the post
    data = json.loads(next_build(capsys, now="2026-11-22 12:00", format="json"))
    assert [(c["when"], c["what"].split(" content/")[0]) for c in data["changes"]][:3] == [
        ("2027-02-01T00:00:00+01:00", "sale on"), ("2027-03-01T09:00:00+01:00", "post"),
        ("2027-07-01T00:00:00+02:00", "sale on")]
    assert data["changes"][2]["utc"] == "2027-06-30T22:00:00Z"  # the sale's last minute is 23:59 summer time
    assert data["next"] == "2027-02-01T00:00:00+01:00" and data["next_utc"] == "2027-01-31T23:00:00Z"
    assert all("bozza" not in c["source"] for c in data["changes"])  # a draft is not scheduled


def test_next_build_with_nothing_ahead(tmp_path, monkeypatch, capsys):
    content = tmp_path / "content"
    write_content(content, {"posts/uscito.md": post(title="Uscito", slug="uscito", date="2026-11-10 09:00")})
    monkeypatch.setattr(tasks, "CONTENT", content)
    monkeypatch.setenv("VETRINA_NOW", "2026-11-22 12:00")
    assert next_build(capsys) == "nothing scheduled"
    assert next_build(capsys, format="iso") == ""
    assert json.loads(next_build(capsys, format="json"))["next"] is None


# --- every clock reader takes the build's clock -----------------------------------------------------
@pytest.mark.parametrize("settings", [
    {"SITE_NOW": dt.datetime(2020, 6, 1, 23, 30, tzinfo=ROME)},  # as core resolves it at the start of a build
    {"SITE_NOW": "2020-06-01 23:30", "TIMEZONE": "Europe/Rome"},  # read from the settings
    {"SHOP_TODAY": "2020-06-01", "TIMEZONE": "Europe/Rome"},
])
def test_the_feeds_of_a_site_without_a_shop_take_the_day_of_the_build_clock(settings):
    """Without a catalogue to ask, the newsletter's window still ends on the clock's day, not the machine's."""
    from feeds.generator import FeedsGenerator

    generator = SimpleNamespace(shop=None, settings=settings)
    assert FeedsGenerator.today(generator) == dt.date(2020, 6, 1)


# --- holding back: the same pairs as Pelican's, in linear time ---------------------------------------
class Writing:
    """What pairing reads of a post or page: its translation id, language and metadata; it counts == calls."""

    compared = 0

    def __init__(self, slug: str, lang: str, late: bool = False, translation: str | None = None):
        self.slug, self.lang, self.in_default_lang = slug, lang, lang == "it"
        self.metadata = {"translation": translation} if translation else {}
        self.source_path = f"/negozio/content/posts/{slug}-{lang}.md"
        self.date = dt.datetime(2027 if late else 2026, 3, 1, 9, 0, tzinfo=ROME)

    def __eq__(self, other):
        Writing.compared += 1
        return self is other

    __hash__ = object.__hash__

    def get_relative_source_path(self) -> str:
        return self.source_path.split("/content/", 1)[1]

    def __repr__(self) -> str:
        return f"{self.slug}-{self.lang}"


def writings(rows) -> tuple[list, list]:
    """(originals, translations) as Pelican's first pass leaves them, from (slug, lang, late, translation) rows."""
    from pelican.utils import process_translations

    return process_translations([Writing(*row) for row in rows], "slug")


GROUPS = [
    ("uno", "it", False, None), ("uno", "en", False, None),  # nothing held back
    ("due", "it", True, None), ("due", "en", False, None),  # the original waits: the translation stands alone
    ("tre", "it", False, None), ("tre", "en", True, None), ("tre", "fr", False, None),  # one translation waits
    ("quattro", "en", False, None), ("quattro", "it", False, "true"), ("quattro", "fr", True, None),
    ("cinque", "it", True, None),  # all of it waits
]


def test_holding_back_pairs_translations_as_pelican_does():
    """What stays is paired as Pelican's process_translations pairs it: the same lists, order and translations."""
    from pelican.utils import order_content, process_translations

    originals, translations = writings(GROUPS)
    expected_index, expected_others = process_translations(
        [w for w in [*originals, *translations] if w.date.year == 2026], "slug")
    expected = {"articles": [repr(w) for w in order_content(expected_index, "reversed-date")],
                "translations": [repr(w) for w in expected_others],
                "pairs": {repr(w): [repr(t) for t in w.translations] for w in expected_index + expected_others}}
    originals, translations = writings(GROUPS)  # afresh: the reference above re-paired the first ones
    generator = SimpleNamespace(articles=originals, translations=translations, hidden_articles=[],
                                hidden_translations=[], context={"articles": originals, "generated_content": {}})
    held = schedule.hold_back(generator, clock(BEFORE), schedule.ARTICLE_GROUPS, "slug", "reversed-date")
    assert sorted(map(repr, held)) == ["cinque-it", "due-it", "quattro-fr", "tre-en"]
    assert [repr(w) for w in generator.articles] == expected["articles"]
    assert "due-en" in expected["articles"]  # as before: a live translation of a held-back original is listed
    assert [repr(w) for w in generator.translations] == expected["translations"]
    assert {repr(w): [repr(t) for t in w.translations]
            for w in generator.articles + generator.translations} == expected["pairs"]
    assert generator.context["articles"] is generator.articles
    assert set(generator.context["generated_content"]) == {w.get_relative_source_path() for w in held}


def test_holding_back_compares_each_item_a_bounded_number_of_times():
    """10,000 posts with a translation each: no list-membership test of every item against every other."""
    originals = [Writing(f"post-{n}", "it", late=n % 10 == 0) for n in range(5000)]
    translations = [Writing(f"post-{n}", "en") for n in range(5000)]
    for original, translation in zip(originals, translations):  # as Pelican's first pass pairs them
        original.translations, translation.translations = [translation], [original]
    generator = SimpleNamespace(articles=originals, translations=translations, hidden_articles=[],
                                hidden_translations=[], context={"generated_content": {}})
    Writing.compared = 0
    held = schedule.hold_back(generator, clock(BEFORE), schedule.ARTICLE_GROUPS, "slug", "reversed-date")
    assert len(held) == 500 and len(generator.articles) == 5000 and len(generator.translations) == 4500
    assert Writing.compared < 10_000  # Pelican's pairing makes about 10,000 × 9,500 / 2 of them
