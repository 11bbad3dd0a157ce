"""The products generator: builds the catalogue from the shop's files, links it to posts, writes the shop's pages."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from pathlib import Path

from bs4 import BeautifulSoup
from pelican.contents import Article
from pelican.generators import Generator
from pelican.utils import slugify

from core import commentable, i18n, schedule
from core.parallel import map_inherited, workers_of
from core.urls import join

from . import cart, parse, related
from .catalog import (
    CONTEXT_KEY,
    DEFAULT_SORT,
    JSON_FILE,
    SORT_ORDERS,
    Catalog,
    ProductCategory,
    ProductListPage,
    ProductPage,
    mention_references,
    rating_of,
)
from .model import ProductError
from .reading import FrontMatterFiles, date_field, review

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class CartLink:
    lang: str
    url: str


@dataclasses.dataclass(frozen=True)
class CartPage:
    """The cart page of one language, as the templates see a page: indexable (an empty cart without JavaScript
    says nothing wrong), and out of the sitemap (nothing to list)."""

    title: str
    lang: str
    url: str
    save_as: str
    translations: tuple = ()
    slug: str = "cart"
    status: str = "published"
    template: str = "cart"
    in_sitemap: bool = False


class ProductsGenerator(Generator):
    """Reads content/products, reviews and lists into the catalogue; writes product, catalogue and list pages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One clock for the build: the shop's day (sales, priceValidUntil, shop.json) is the clock's day.
        self.now = schedule.clock(self.settings)
        self.zone = schedule.zone_of(self.settings)
        config = self.settings["SHOP_CONFIG"]
        self.config = config if config.today == self.now.date() else dataclasses.replace(config, today=self.now.date())
        self.shop = Catalog(settings=self.config)
        self.files = FrontMatterFiles(self.path, self.settings["MARKDOWN"], self.settings)
        self.scheduled: dict[str, ProductPage] = {}  # sku or slug -> a product dated after the clock
        self.product_read_failures: list[str] = []  # product files that could not be read at all
        self.broken_products = 0  # product files left out for their errors (reviews naming them say so)
        self.body_texts: dict[str, tuple[str, str]] = {}  # source -> (body HTML, its text), from the one parse
        self.list_candidates: list[related.Candidate] | None = None  # the products as keyword lists rank them
        self.list_by_slug: dict[str, ProductPage] = {}  # the same products by slug
        self.related_scored = 0  # candidate pairs the related items scored (every pair: n x (n - 1) per kind)

    # --- reading -------------------------------------------------------
    def generate_context(self):
        self.read_products()
        self.read_reviews()
        self.read_lists()
        self.files.save_cache()
        self.link_mentions()
        self.recommend()
        self.context[CONTEXT_KEY] = self.shop
        commentable.register(self.context, "product", self.shop.products)

    def _files(self, paths, failures: list | None = None, demote: bool = False):
        # In path order, so that of two files claiming one sku or slug the same one wins on every build.
        return self.files.published(sorted(self.get_files(paths, extensions=("md", "markdown"))), failures, demote)

    def unknown_product(self, reference: str) -> str:
        """Why a reference finds no product: a typo, or a product file that has errors of its own."""
        if self.broken_products:
            return (f"no product has the sku or slug {reference} (or it is in one of the {self.broken_products} "
                    f"product file(s) with errors listed here: fix those first)")
        return f"no product has the sku or slug {reference}"

    def _image_exists(self, src: str) -> bool:
        return (Path(self.path) / src).is_file()

    def _hold_back(self, page) -> bool:
        """Whether a product or list is dated after the clock: then it waits, recorded, for a later build."""
        if not schedule.is_scheduled(page.date, self.now):
            return False
        self.context.setdefault(schedule.CONTEXT_KEY, {})[page.source_path] = page.date
        # Known to Pelican but resolving to nothing: a {filename} link to it is reported, never a 404 link.
        self.context["generated_content"][page.get_relative_source_path()] = None
        logger.info("Scheduled: %s goes live on %s", schedule.shown_path(page.source_path, self.path),
                    page.date.isoformat())
        return True

    def read_products(self):
        pages = {}
        rejected = 0
        for fields, body, mentions, text, source in self._files(self.config.product_paths, self.product_read_failures,
                                                                 demote=True):
            page = self._product(fields, body, mentions, text, source)
            if page is not None:
                pages[source] = page
            else:
                rejected += 1
        self.broken_products = rejected + len(self.product_read_failures)
        for sku, first, second in parse.duplicate_skus({s: p.model for s, p in pages.items()}):
            logger.error("%s: field 'sku': %s is already used by %s", second, sku, first)
            pages.pop(second, None)
        slugs: dict[str, str] = {}
        for source, page in list(pages.items()):
            if page.slug in slugs:
                logger.error("%s: field 'slug': %s is already used by %s", source, page.slug, slugs[page.slug])
                pages.pop(source)
            else:
                slugs[page.slug] = source
        for source, page in list(pages.items()):
            if self._hold_back(page):
                pages.pop(source)
                for key in page.skus + (page.slug,):
                    self.scheduled.setdefault(key, page)
        products = sorted(pages.values(), key=lambda p: p.title.lower())
        self.shop.products = products
        self.shop.categories = self._categories(products)
        for page in products:
            self.add_source_path(page)
            for key in page.skus + (page.slug,):
                self.shop.by_reference.setdefault(key, page)

    def _product(self, fields, body, mentions, text, source) -> ProductPage | None:
        try:
            model = parse.product(fields, default_currency=self.config.currency, today=self.config.today,
                                  image_exists=self._image_exists, shipping_classes=self.config.shipping_classes,
                                  default_shipping_class=self.config.default_shipping_class, zone=self.zone,
                                  now=self.now)
            date = date_field(fields, source)
            if date is None or not self._check_checkout_links(model, source):
                return None
            metadata = {"title": model.title, "slug": str(fields.get("slug")), "date": date,
                        "lang": fields.get("lang", self.settings["DEFAULT_LANG"]), "product_mentions": mentions}
            if fields.get("modified"):
                modified = date_field(fields, source, "modified")
                if modified is None:
                    return None
                metadata["modified"] = modified
        except ProductError as error:
            logger.error("%s: %s", source, error)
            return None
        self.body_texts[source] = (body, text)
        return ProductPage(body, model, metadata=metadata, settings=self.settings,
                           source_path=source, context=self.context)

    def _check_checkout_links(self, model, source: str) -> bool:
        provider = self.config.checkout
        if provider not in parse.CHECKOUT_LINK_PROVIDERS or model.external:
            return True  # a product sold elsewhere is paid there
        if model.variants:  # each variant is bought on its own: its link, or the product's
            sellers = [(f"variants[{i}].checkout", {**model.links, **v.links}, v.offer)
                       for i, v in enumerate(model.variants)]
        else:
            sellers = [("checkout", model.links, model.offer)]
        missing = [name for name, links, offer in sellers
                   if offer.availability.purchasable and provider not in links]
        for name in missing:
            logger.error("%s: field '%s.%s': SHOP_CHECKOUT is %s, so a payment link is needed",
                         source, name, provider, provider)
        return not missing

    def _categories(self, products) -> list:
        categories: dict[str, ProductCategory] = {}
        for page in products:
            name = page.model.category_name
            slug = slugify(name, regex_subs=self.settings["SLUG_REGEX_SUBSTITUTIONS"])
            if slug not in categories:
                categories[slug] = ProductCategory(name, slug, self.config.category_url.format(slug=slug))
            categories[slug].products.append(page)
            page.category = categories[slug]
        return sorted(categories.values(), key=lambda c: c.name.lower())

    def read_reviews(self):
        """Attach each review file to its product (a variant's sku: a review of that variant); the newest first."""
        for fields, html, _, _, source in self._files(self.config.review_paths):
            item = review(fields, html, source)
            if item is None:
                continue
            product = self.shop.find(item.product)
            if product is None and item.product in self.scheduled:
                continue  # its product is not live yet: the review joins it when it is
            if product is None:
                logger.error("%s: field 'product': %s", source, self.unknown_product(item.product))
                continue
            product.reviews.append(item)
        for page in self.shop.products:
            page.reviews.sort(key=lambda r: r.date, reverse=True)
            page.rating = rating_of(page.reviews)

    def read_lists(self):
        for fields, html, mentions, _, source in self._files(self.config.list_paths):
            try:
                query = self._list_query(fields)
            except ProductError as error:
                logger.error("%s: %s", source, error)
                continue
            missing = [ref for ref in query.pinned if ref not in self.shop.by_reference and ref not in self.scheduled]
            if missing:
                logger.error("%s: field 'pinned': %s", source, self.unknown_product(", ".join(missing)))
                continue
            # A pinned product that is not live yet joins the list when it is.
            query = dataclasses.replace(query, pinned=tuple(ref for ref in query.pinned if ref in self.shop.by_reference))
            date = date_field(fields, source)
            if date is None:
                continue
            page = ProductListPage(html, metadata={"title": parse.text(fields, "title"), "slug": str(fields["slug"]),
                                                   "date": date, "lang": self.settings["DEFAULT_LANG"],
                                                   "product_mentions": mentions},
                                   settings=self.settings, source_path=source, context=self.context)
            if self._hold_back(page):
                continue
            page.description = parse.text(fields, "summary", required=False) or page.title
            page.products = self._rank(query)
            self.add_source_path(page)
            self.shop.lists.append(page)

    def _list_query(self, fields) -> related.ListQuery:
        parse.text(fields, "title", required=True)
        parse.text(fields, "slug", required=True)

        def strings(name):
            value = fields.get(name) or []
            return tuple(str(v).strip() for v in (value.split(",") if isinstance(value, str) else value))

        keywords, tags = strings("keywords"), strings("tags")
        if not keywords and not tags and not fields.get("pinned"):
            raise ProductError("keywords", "a list needs keywords, tags or pinned products")
        max_price = fields.get("max_price")
        limit = fields.get("limit", 12)
        if not isinstance(limit, int) or limit < 1:
            raise ProductError("limit", f"must be a whole number above 0, not {limit!r}")
        return related.ListQuery(keywords=keywords, tags=tags, pinned=strings("pinned"),
                                 max_price=parse.money(max_price, "max_price") if max_price else None, limit=limit)

    def _rank(self, query: related.ListQuery) -> list:
        pinned = tuple(self.shop.by_reference[ref].slug for ref in query.pinned)
        query = related.ListQuery(query.keywords, query.tags, pinned, query.max_price, query.limit)
        if self.list_candidates is None:  # once per build, for every list
            self.list_candidates = [related.Candidate(
                key=p.slug, title=p.title, tags=frozenset(t.lower() for t in p.model.tags),
                text=f"{p.summary} {self._body_text(p)}",
                price=p.lowest_offer.price, boost=p.boost, available=p.available) for p in self.shop.products]
            self.list_by_slug = {p.slug: p for p in self.shop.products}
        return [self.list_by_slug[key] for key in related.rank_list(query, self.list_candidates)]

    def _body_text(self, page) -> str:
        """The text of a product's body: from the parse that demoted its headings, unless the body changed since."""
        body, text = self.body_texts.get(page.source_path, (None, ""))
        if body is not None and body == page._content:
            return text
        return BeautifulSoup(page._content, "html.parser").get_text(" ")

    # --- cross links -----------------------------------------------------
    def _writings(self):
        """Every post, page, product and list whose body may show product cards, translations and drafts included."""
        seen: dict[int, object] = {}
        for key in ("articles", "drafts", "hidden_articles", "pages", "hidden_pages", "draft_pages"):
            for item in self.context.get(key, []):
                for writing in (item, *getattr(item, "translations", [])):
                    seen.setdefault(id(writing), writing)
        for item in self.shop.products + self.shop.lists:
            seen.setdefault(id(item), item)
        return list(seen.values())

    def link_mentions(self):
        """From the references the Markdown extension recorded: which products each writing shows, and back.

        Only published posts count as posts that talk about a product (not pages, products or drafts).
        """
        mentioning: dict[int, set[int]] = {}  # id(product) -> ids of the posts already in its mentioned_in
        for writing in self._writings():
            writing.mentions, writing.mentions_by_reference = [], {}
            shown: set[int] = set()
            for reference in mention_references(writing.metadata):
                product = self.shop.find(reference)
                writing.mentions_by_reference[reference] = product  # None: the card is left out
                if product is None and reference in self.scheduled:
                    self._check_card_of_scheduled(writing, reference)
                    continue
                if product is None:
                    logger.error("%s: product card [[prodotto: %s]]: no product has this sku or slug",
                                 writing.source_path, reference)
                    continue
                if id(product) not in shown:
                    shown.add(id(product))
                    writing.mentions.append(product)
                if isinstance(writing, Article) and writing.status == "published":
                    posts = mentioning.setdefault(id(product), {id(post) for post in product.mentioned_in})
                    if id(writing) not in posts:
                        posts.add(id(writing))
                        product.mentioned_in.append(writing)

    def _check_card_of_scheduled(self, writing, reference: str) -> None:
        """A live writing that shows the card of a product not live yet is an error naming both files."""
        if getattr(writing, "status", "published") == "draft":
            return  # a draft may well prepare the product's launch
        product = self.scheduled[reference]
        logger.error("%s: product card [[prodotto: %s]]: %s goes live only on %s; date this file on or after "
                     "it, or remove the card", writing.source_path, reference, product.source_path,
                     product.date.isoformat())

    def recommend(self):
        """Related products and posts for every product and post, from tags, category and words."""
        articles = list(self.context.get("articles", []))
        count = self.config.related_count

        def profile(item, key, tags, category):
            text = getattr(item, "description", "") or ""
            return related.Profile(key, frozenset(str(t).lower() for t in tags), category,
                                   related.keywords(item.title, text))

        product_profiles = [profile(p, p.slug, p.model.tags, p.category.name) for p in self.shop.products]
        article_profiles = [profile(a, a.url, getattr(a, "tags", []) or [], str(getattr(a, "category", "") or ""))
                            for a in articles]
        by_slug = {p.slug: p for p in self.shop.products}
        by_url = {a.url: a for a in articles}
        listed = {id(a) for a in by_url.values()}
        products, posts = related.RelatedIndex(product_profiles), related.RelatedIndex(article_profiles)
        mentioned = [[a for a in page.mentioned_in if id(a) in listed] for page in self.shop.products]
        embedded = [list(getattr(article, "mentions", [])) for article in articles]
        # (profile, how many products, how many posts) per item: the lists that may lose some to its cards
        queries = [(own, count, count + len(shown)) for own, shown in zip(product_profiles, mentioned)]
        queries += [(own, count + len(shown), count) for own, shown in zip(article_profiles, embedded)]
        answers = map_inherited(related.answer_queries, (products, posts), queries, workers_of(self.settings))
        for page, shown, (product_keys, post_keys, _) in zip(self.shop.products, mentioned, answers):
            page.related_products = [by_slug[k] for k in product_keys]
            left_out = {id(a) for a in shown}
            page.related_posts = (shown + [by_url[k] for k in post_keys if id(by_url[k]) not in left_out])[:count]
            if page.model.related:
                page.related_products = self._related_first(page, page.related_products, count)
        for article, shown, (product_keys, post_keys, _) in zip(articles, embedded, answers[len(mentioned):]):
            article.related_posts = [by_url[k] for k in post_keys]
            left_out = {id(p) for p in shown}
            article.related_products = [by_slug[k] for k in product_keys if id(by_slug[k]) not in left_out][:count]
        self.related_scored = sum(scored for *_, scored in answers)  # candidate pairs scored, for the benchmark

    def _related_first(self, page, computed: list, count: int) -> list:
        """The products the file names in `related` (its upsells and cross-sells), then the computed ones."""
        chosen = []
        for reference in page.model.related:
            product = self.shop.find(reference)
            if product is None and reference not in self.scheduled:
                logger.error("%s: field 'related': %s", page.source_path, self.unknown_product(reference))
            elif product is not None and product is not page and product not in chosen:
                chosen.append(product)
        filling = [product for product in computed if product not in chosen]
        return chosen + filling[:max(count - len(chosen), 0)]

    # --- writing -------------------------------------------------------
    def generate_output(self, writer):
        for page in self.shop.products:
            writer.write_file(page.save_as, self.get_template(page.template), self.context,
                              product=page, relative_urls=self.settings["RELATIVE_URLS"], url=page.url)
        self._write_listing(writer, "catalog", self.config.catalog_url, self.shop.products,
                            SORT_ORDERS[DEFAULT_SORT], sort_slug=DEFAULT_SORT)
        for slug, key in list(SORT_ORDERS.items())[1:]:
            self._write_listing(writer, "catalog", self.config.sort_url.format(slug=slug), self.shop.products,
                                key, sort_slug=slug)
        for category in self.shop.categories:
            self._write_listing(writer, "product_category", category.url, category.products,
                                SORT_ORDERS[DEFAULT_SORT], category=category)
        for page in self.shop.lists:
            writer.write_file(page.save_as, self.get_template(page.template), self.context,
                              page=page, relative_urls=self.settings["RELATIVE_URLS"], url=page.url)
        self._write_catalogue_file()
        self._write_price_list()
        if self.config.cart:
            self._write_cart_pages(writer)
        if self.config.checkout == "snipcart":
            self._write_snipcart_json()

    def _write_listing(self, writer, template, url, products, key, **extra):
        ordered = sorted(products, key=key)
        writer.write_file(url + "index.html", self.get_template(template), self.context,
                          paginated={"products": ordered}, template_name=template, url=url,
                          relative_urls=self.settings["RELATIVE_URLS"], listing_url=url,
                          sort_slugs=list(SORT_ORDERS), **extra)

    def _absolute(self, path: str) -> str:
        """Absolute URLs in shop.json, also in development builds (where SITEURL is empty)."""
        return join(self.settings["SITE_CONFIG"].public_url, path)

    def _write_catalogue_file(self):
        """shop.json: the catalogue as data, for the newsletter and anything that runs after the build."""
        data = self.shop.as_json(self._absolute)
        target = Path(self.output_path) / JSON_FILE
        target.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")

    def _write_price_list(self):
        """cart.json: every offer sold with its price and shipping class, for the cart page and the order endpoint."""
        site = self.settings["SITEURL"]
        data = cart.PriceList.from_catalogue(self.shop, lambda path: join(site, path)).as_json()
        target = Path(self.output_path) / cart.FILE
        target.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    def _write_cart_pages(self, writer):
        """The cart page once per language (/carrello/, /en/cart/): filled in the browser from cart.json."""
        site = self.settings["SITE_CONFIG"]
        catalogs = i18n.load_catalogs(Path(self.theme) / "translations", site.languages)
        links = tuple(CartLink(lang, self.config.cart_page_url(lang, site.default_lang)) for lang in site.languages)
        for link in links:
            title = i18n.catalog_of(catalogs, link.lang, site.default_lang).gettext("Cart")
            page = CartPage(title, link.lang, link.url, link.url + "index.html",
                            tuple(other for other in links if other is not link))
            writer.write_file(page.save_as, self.get_template("cart"), self.context, page=page,
                              relative_urls=self.settings["RELATIVE_URLS"], url=page.url,
                              sent_parameter=cart.SENT_PARAMETER, paid_parameter=cart.PAID_PARAMETER)

    def _write_snipcart_json(self):
        """The {id, price, url} file Snipcart's JSON crawler reads, one entry per sku that can be bought."""
        # The crawler wants a JSON number: the float of the one serialised text, so the digits are the page's.
        entries = [{"id": sold.sku, "price": float(sold.offer.price_text), "url": join(self.settings["SITEURL"], sold.url)}
                   for page in self.shop.products if not page.external for sold in page.sold]
        target = Path(self.output_path) / "snipcart-products.json"
        target.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")


# --- what the published site waits for (`invoke next-build`) -------------------------------------
def timed_changes(settings: dict, content_path: str, now) -> list[schedule.Change]:
    """Every dated change of the content after now, read from the files' fields without a build.

    Posts and pages go through Pelican's own readers; products and lists through the shop's reader: items
    going live, sales starting and ending, restocks announced, and the day the regular prices' promised
    priceValidUntil (a build at now plus SHOP_PRICE_VALID_DAYS) runs out.
    """
    from pelican.readers import Readers

    from .settings import ShopSettings

    zone, config = schedule.zone_of(settings), ShopSettings.from_settings(settings)
    lister = Generator.__new__(Generator)  # only Pelican's file rules (paths, excludes, IGNORE_FILES)
    lister.path, lister.settings = content_path, settings

    changes = []
    readers = Readers(settings)
    for kind, key in (("post", "ARTICLE"), ("page", "PAGE")):
        for path in sorted(lister.get_files(settings[f"{key}_PATHS"], exclude=settings[f"{key}_EXCLUDES"],
                                            extensions=readers.extensions)):
            source = os.path.join(content_path, path)
            _, metadata = readers.readers[os.path.splitext(path)[1][1:]].read(source)
            status = str(metadata.get("status", "published")).lower()
            if metadata.get("date") and status in ("published", "hidden"):
                shown = schedule.shown_path(source, content_path)
                changes.append(schedule.Change(schedule.aware(metadata["date"], zone), f"{kind} {shown} goes live", shown))
    files = FrontMatterFiles(content_path, settings["MARKDOWN"])
    products = 0
    for kind, paths in (("product", config.product_paths), ("list", config.list_paths)):
        for fields, _, _, _, source in files.published(sorted(lister.get_files(paths, extensions=("md", "markdown")))):
            date = date_field(fields, source)  # read as the build reads it
            if date is not None:
                changes += _file_changes(kind, fields, schedule.aware(date, zone), schedule.shown_path(source, content_path),
                                         zone)
            products += kind == "product"
    if products:
        last_day = now.date() + dt.timedelta(days=config.price_valid_days)
        changes.append(schedule.Change(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=zone),
                                       f"the regular prices' priceValidUntil ({last_day}) runs out"))
    return schedule.upcoming(changes, now)


def _file_changes(kind: str, fields: dict, date, shown: str, zone) -> list[schedule.Change]:
    """The dated changes one product or list file announces; a bad sale or restock field announces only the date."""
    changes = [schedule.Change(date, f"{kind} {shown} goes live", shown)]
    if kind != "product":
        return changes
    try:
        for name, sale in parse.timed_sales(fields, zone):
            where = f"{shown} ({name})" if name != "sale" else shown
            changes.append(schedule.Change(sale.starts_at, f"sale on {where} starts", shown))
            if sale.over_at:
                changes.append(schedule.Change(sale.over_at, f"sale on {where} ends (its last minute: "
                                                             f"{sale.ends_at.isoformat(timespec='minutes')})", shown))
        if fields.get("restocked"):
            restocked = parse.instant(fields["restocked"], "restocked", zone, dt.time(0))
            changes.append(schedule.Change(restocked, f"{shown} is announced back in stock", shown))
    except ProductError:
        return changes[:1]  # the build reports the bad field
    return changes
