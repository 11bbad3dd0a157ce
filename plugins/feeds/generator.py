"""The feeds generator: every feed from the same content objects and product records as the pages."""

from __future__ import annotations

import datetime as dt
import logging
import mimetypes
import uuid
from pathlib import Path

from feedgen.feed import FeedGenerator
from markupsafe import Markup, escape
from pelican.generators import Generator

from core import schedule
from core.pagepool import fork_map
from core.parallel import workers_of
from core.urls import join
from shop.catalog import CONTEXT_KEY, with_cards

from . import events, html, merchant

logger = logging.getLogger(__name__)

# Below this many feed-safe bodies to make, forking costs more than it saves.
MIN_FORKED_BODIES = 64
LEAD_IMAGE_WIDTH = 600  # px: the width of an e-mail's column


def post_guid(item) -> str:
    """urn:uuid from the file's Uid field; a file without one gets a uuid5 of its source path (stable until renamed)."""
    uid = item.metadata.get("uid")
    if uid:
        return f"urn:uuid:{uuid.UUID(str(uid))}"
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'vetrina:{item.relative_source_path}')}"


def post_terms(article) -> list[str]:
    """The post's category, then its tags, each once."""
    terms = [str(term) for term in [article.category, *getattr(article, "tags", [])] if term]
    return list(dict.fromkeys(terms))


class FeedsGenerator(Generator):
    """Writes feeds/ with feedgen; Pelican's own FEED_* settings stay None."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = self.settings["FEEDS_CONFIG"]
        self.site = self.settings["SITE_CONFIG"]
        self.site_url = self.site.public_url  # feeds need absolute URLs, in development builds too
        # Each item's feed-safe body, computed once per build and shared by every feed it appears in:
        # (card kind, source path) -> HTML. Page cards in the site's feeds, e-mail cards in the newsletter's.
        self.safe_bodies: dict[tuple[str, str], str] = {}
        self.email_cards: dict[str, str] = {}  # product source path -> its e-mail card
        self._events: list[events.Event] | None = None

    def generate_context(self):
        self.context["feeds"] = self.feed_links()
        missing = [a.relative_source_path for a in self.context.get("articles", []) if not a.metadata.get("uid")]
        if missing:
            logger.info("Posts without a Uid field get a GUID from their file path: %s", ", ".join(missing))

    # --- helpers ---------------------------------------------------------
    def url(self, relative: str) -> str:
        return join(self.site_url, relative)

    @property
    def shop(self):
        return self.context.get(CONTEXT_KEY)

    def feed_path(self, name: str) -> str:
        return f"{self.config.path}/{name}"

    def feed_links(self) -> dict:
        """Relative URLs of the feeds, for the pages' <link rel="alternate">."""
        return {"atom": self.feed_path("atom.xml"), "rss": self.feed_path("rss.xml"),
                "products": self.feed_path("prodotti.xml"), "newsletter": self.feed_path("newsletter.xml"),
                "merchant": self.feed_path("merchant.xml"),
                "category": self.feed_path("categoria/{slug}.xml"), "tag": self.feed_path("tag/{slug}.xml")}

    def new_feed(self, name: str, title: str, description: str, page_url: str, rss: bool = True) -> FeedGenerator:
        feed = FeedGenerator()
        feed.id(self.url(page_url))
        feed.title(title)
        feed.description(description or title)
        feed.language(self.settings["DEFAULT_LANG"])
        feed.author({"name": self.settings["SITENAME"], "email": self.site.business.email or None})
        feed.link(href=self.url(self.feed_path(name)), rel="self",
                  type="application/rss+xml" if rss else "application/atom+xml")
        # The channel link is the last link added: the page the feed belongs to.
        feed.link(href=self.url(page_url), rel="alternate")
        feed.logo(self.url(self.site.logo))
        feed.generator("Vetrina")
        feed.updated(self.built_at())  # lastBuildDate / <updated>: the build's clock, so a rebuild is reproducible
        feed.load_extension("media")
        return feed

    def built_at(self) -> dt.datetime:
        return schedule.clock(self.settings)

    def add_post(self, feed: FeedGenerator, article, email_cards: bool = False, max_terms: int | None = None) -> None:
        entry = feed.add_entry(order="append")
        link = self.url(article.url)
        entry.id(post_guid(article))
        entry.guid(post_guid(article), permalink=False)
        entry.title(article.title)
        entry.link(href=link)
        entry.published(article.date)
        entry.updated(getattr(article, "modified", None) or article.date)
        entry.author({"name": article.author.name, "email": self.site.business.email or None,
                      "uri": self.url(article.author.url)})
        terms = post_terms(article)[:max_terms]
        if terms:
            # One call with the whole list: feedgen rebuilds its RSS list on every call.
            entry.category([{"term": term, "label": term} for term in terms])
        entry.description(article.description)
        entry.content(self.post_body(article, link, email_cards), type="html")
        image = getattr(article, "image", None)
        if image:
            self.add_image(entry, image, getattr(article, "image_size", None))

    def add_image(self, entry, src: str, size) -> None:
        path = Path(self.path) / src
        mime = mimetypes.guess_type(src)[0] or "image/jpeg"
        entry.enclosure(url=self.url(src), length=str(path.stat().st_size), type=mime)
        media = {"url": self.url(src), "medium": "image", "type": mime}
        if size:
            media.update(width=str(size[0]), height=str(size[1]))
        entry.media.content(media, group=None)

    def post_body(self, article, link: str, email_cards: bool) -> str:
        """The post's content with its product cards, feed-safe; parsed once per post and card kind."""
        key = ("email" if email_cards else "page", article.source_path)
        if key not in self.safe_bodies:
            body = with_cards(article.content, article, self.email_card if email_cards else self.page_card(article))
            if email_cards:  # services that make e-mails of the feed take the content's first image as the item's
                body = self.lead_image(article) + body
            self.safe_bodies[key] = html.email_safe(body, link)
        return self.safe_bodies[key]

    def lead_image(self, article) -> str:
        """The post's lead image as the first element of its newsletter item: absolute, with its alt and a width
        an e-mail column holds (the height in proportion)."""
        src = getattr(article, "image", None)
        if not src:
            return ""
        size = getattr(article, "image_size", None)
        dimensions = ""
        if size:
            width, height = size
            if width > LEAD_IMAGE_WIDTH:
                width, height = LEAD_IMAGE_WIDTH, round(height * LEAD_IMAGE_WIDTH / width)
            dimensions = f' width="{width}" height="{height}"'
        alt = escape(str(article.metadata.get("image_alt") or ""))
        return (f'<p><img src="{escape(self.url(src))}" alt="{alt}"{dimensions} '
                f'style="max-width:100%;height:auto"></p>\n')

    def event_body(self, product, link: str) -> str:
        """A catalogue event's content (the product's e-mail card), feed-safe; once per product."""
        key = ("event", product.source_path)
        if key not in self.safe_bodies:
            self.safe_bodies[key] = html.email_safe(self.email_card(product), link)
        return self.safe_bodies[key]

    def email_card(self, product) -> str:
        """A product card for e-mail (a table with inline styles), from the catalogue's record; once per product."""
        if product.source_path not in self.email_cards:
            template = self.get_template("email/product_card")
            card = template.make_module(self.context).product_card(self.shop.record(product, self.url))
            self.email_cards[product.source_path] = str(card)
        return self.email_cards[product.source_path]

    def page_card(self, article):
        """Cards as the post's page shows them (made feed-safe with the rest of the body)."""
        template = self.get_template("partials/product_embed")
        return lambda product: template.render({**self.context, "article": article, "embedded": product})

    # --- writing ---------------------------------------------------------
    def generate_output(self, writer):
        """Every feed file. The feed-safe bodies are made first, each once, then the files are written, both
        shared out between this process and forks of it (core.pagepool): the same files as one by one."""
        articles = list(self.context.get("articles", []))
        workers = workers_of(self.settings)
        self.make_bodies(self.wanted_bodies(articles), workers)
        fork_map(lambda job: getattr(self, job[0])(*job[1]), self.feed_jobs(articles), self.context, workers)

    def feed_jobs(self, articles) -> list[tuple[str, tuple]]:
        """(method, arguments) of each feed file, the longest first (the newsletter and the catalogue's)."""
        site, shop = self.settings["SITENAME"], self.shop
        jobs = [("write_newsletter", (articles, shop))]
        if shop is not None:
            jobs += [("write_merchant", (shop,)), ("write_products", (shop,))]
        jobs.append(("write_posts", (articles[: self.config.max_items], site)))
        for folder, term, posts in self.segments():
            jobs.append(("write_segment", (f"{folder}/{term.slug}.xml", f"{site} – {term.name}", term.url, posts)))
        return jobs

    def segments(self):
        """(folder, term, its posts) for each category and tag: the newsletter's segments."""
        for folder, key in (("categoria", "categories"), ("tag", "tags")):
            for term, posts in self.context.get(key, []):
                yield folder, term, posts

    def wanted_bodies(self, articles) -> list[tuple[str, object]]:
        """(kind, item) of every body a feed shows, each once, in the order the feeds first show them."""
        wanted = [("page", a) for a in articles[: self.config.max_items]]
        wanted += [("page", a) for _, _, posts in self.segments() for a in posts[: self.config.max_items]]
        if self.shop is not None:
            wanted += [("event", e.product) for e in self.product_events()[: self.config.max_items]]
        wanted += [("email", item) if kind == "post" else ("event", item.product)
                   for _, kind, item in self.newsletter_items(articles, self.shop)]
        return list({(kind, item.source_path): (kind, item) for kind, item in wanted}.values())

    def make_bodies(self, wanted: list, workers: int) -> None:
        """The feed-safe bodies, shared out with forks when there are enough to be worth it."""
        wanted = [(kind, item) for kind, item in wanted if (kind, item.source_path) not in self.safe_bodies]
        workers = workers if len(wanted) >= MIN_FORKED_BODIES else 1
        for (kind, item), body in zip(wanted, fork_map(lambda pair: self.body(*pair), wanted, self.context, workers)):
            self.safe_bodies[(kind, item.source_path)] = body

    def body(self, kind: str, item) -> str:
        link = self.url(item.url)
        return self.event_body(item, link) if kind == "event" else self.post_body(item, link, kind == "email")

    def write_segment(self, name: str, title: str, page_url: str, posts) -> None:
        """One category's or tag's posts: a newsletter segment."""
        feed = self.new_feed(name, title, self.settings.get("SITE_DESCRIPTION", ""), page_url)
        for article in posts[: self.config.max_items]:
            self.add_post(feed, article, max_terms=self.config.segment_max_terms)
        self.write_rss(feed, name)

    def write_rss(self, feed: FeedGenerator, name: str) -> None:
        target = Path(self.output_path) / self.feed_path(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        feed.rss_file(str(target), pretty=True)

    def write_posts(self, articles, site: str) -> None:
        description = self.settings.get("SITE_DESCRIPTION", "")
        atom = self.new_feed("atom.xml", site, description, self.settings.get("BLOG_URL", ""), rss=False)
        rss = self.new_feed("rss.xml", site, description, self.settings.get("BLOG_URL", ""))
        for article in articles:
            self.add_post(atom, article)
            self.add_post(rss, article)
        target = Path(self.output_path) / self.feed_path("atom.xml")
        target.parent.mkdir(parents=True, exist_ok=True)
        atom.atom_file(str(target), pretty=True)
        self.write_rss(rss, "rss.xml")

    def translate(self, message: str) -> str:
        """A UI string in the site's language, as plain text."""
        return Markup(self.env.from_string("{{ _(message) }}").render(message=message)).unescape()

    def today(self) -> dt.date:
        """The build's day: the shop's, else the day of the build's one clock (SITE_NOW...), never the machine's."""
        return self.shop.today if self.shop is not None else schedule.clock(self.settings).date()

    def event_day(self, day: dt.date) -> dt.datetime:
        zone = next((a.date.tzinfo for a in self.context.get("articles", [])), None) or dt.timezone.utc
        return dt.datetime.combine(day, dt.time(8, 0), tzinfo=zone)

    def add_event(self, feed: FeedGenerator, event: events.Event) -> None:
        product = event.product
        link = self.url(product.url)
        context = {**self.context, "product": product, "event": event}
        title = Markup(self.get_template("email/event_title").render(context).strip()).unescape()
        entry = feed.add_entry(order="append")
        entry.id(event.guid)
        entry.guid(event.guid, permalink=False)
        entry.title(title)
        entry.link(href=link)
        entry.published(self.event_day(event.day))
        entry.updated(self.event_day(event.day))
        entry.category(term=product.category.name, label=product.category.name)
        entry.description(product.description)
        entry.content(self.event_body(product, link), type="html")
        self.add_image(entry, product.images[0].src, None)

    def product_events(self) -> list[events.Event]:
        """The catalogue's news (new products, sales, restocks), newest first; once per build."""
        if self._events is None:
            self._events = events.product_events(self.shop.products, self.today(), self.config.new_product_days)
        return self._events

    def write_products(self, shop) -> None:
        feed = self.new_feed("prodotti.xml", f"{self.settings['SITENAME']} – {self.translate('Products')}",
                             self.settings.get("SITE_DESCRIPTION", ""), shop.settings.catalog_url)
        for event in self.product_events()[: self.config.max_items]:
            self.add_event(feed, event)
        self.write_rss(feed, "prodotti.xml")

    def newsletter_items(self, articles, shop) -> list[tuple]:
        """(date, "post" or "event", the post or event) of the newsletter: a month of them, at least a few."""
        since = self.today() - dt.timedelta(days=self.config.newsletter_days)
        items = [(a.date, "post", a) for a in articles]
        if shop is not None:
            items += [(self.event_day(e.day), "event", e) for e in self.product_events()]
        items.sort(key=lambda item: item[0], reverse=True)
        recent = [item for item in items if item[0].date() >= since]
        return recent if len(recent) >= self.config.newsletter_min_items else items[: self.config.newsletter_min_items]

    def write_newsletter(self, articles, shop) -> None:
        """The newsletter's source: a month of posts and catalogue news, full content, newest first."""
        feed = self.new_feed("newsletter.xml", f"{self.settings['SITENAME']} – newsletter",
                             self.settings.get("SITE_DESCRIPTION", ""), "")
        for _, kind, item in self.newsletter_items(articles, shop):
            if kind == "post":
                self.add_post(feed, item, email_cards=True)
            else:
                self.add_event(feed, item)
        self.write_rss(feed, "newsletter.xml")

    def write_merchant(self, shop) -> None:
        """Every product and every variant, every time: an item missing from the feed leaves the listing."""
        feed = FeedGenerator()
        feed.title(f"{self.settings['SITENAME']} – Google Merchant Center")
        feed.link(href=self.url(self.feed_path("merchant.xml")), rel="self")
        feed.link(href=self.url(""), rel="alternate")
        feed.description(self.settings.get("SITE_DESCRIPTION", "") or self.settings["SITENAME"])
        feed.updated(self.built_at())
        feed.register_extension("g", merchant.GoogleMerchantExtension, merchant.GoogleMerchantEntryExtension,
                                atom=False)
        for product in shop.products:
            if product.external:
                continue  # Merchant Center lists what is bought here; another seller's product is theirs to list
            for sold in product.sold:
                entry = feed.add_entry(order="append")
                entry.title(sold.name)
                entry.link(href=self.url(sold.url))
                entry.description(product.description)
                entry.pubDate(getattr(product, "modified", None) or product.date)
                sku_guid = f"urn:uuid:{uuid.uuid5(uuid.UUID(events.product_uid(product)), sold.sku)}"
                entry.guid(sku_guid, permalink=False)
                merchant.item_fields(entry, product, sold, self.url)
        self.write_rss(feed, "merchant.xml")

