"""The products generator: reads products and keyword lists, links them to posts, writes the shop's pages."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import markdown
from bs4 import BeautifulSoup
from pelican.generators import Generator
from pelican.utils import get_date, slugify

from . import frontmatter, parse, related
from .contents import ProductListPage, ProductPage
from .embeds import PLACEHOLDER_ATTRIBUTE
from .model import ProductError, average_rating

logger = logging.getLogger(__name__)

SORT_ORDERS = {
    # URL slug: sort key; the first is the catalogue's default order. Labels live in catalog.html.
    "in-evidenza": lambda p: (not p.featured, not p.available, -p.date.timestamp()),
    "novita": lambda p: -p.date.timestamp(),
    "prezzo-crescente": lambda p: (p.lowest_offer.price, p.title),
    "prezzo-decrescente": lambda p: (-p.lowest_offer.price, p.title),
}


@dataclass
class ProductCategory:
    name: str
    slug: str
    url: str
    products: list = field(default_factory=list, repr=False)

    def __str__(self):
        return self.name


@dataclass
class Shop:
    """Everything the templates need about the shop, in context["shop"]."""

    settings: object
    products: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    lists: list = field(default_factory=list)
    by_reference: dict = field(default_factory=dict)

    @property
    def featured(self) -> list:
        ordered = sorted(self.products, key=SORT_ORDERS["in-evidenza"])
        return ordered[: self.settings.home_featured]

    def find(self, reference: str):
        return self.by_reference.get(reference)


class ProductsGenerator(Generator):
    """Reads content/products and content/lists; writes product, catalogue, category and list pages."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = self.settings["SHOP_CONFIG"]
        self.shop = Shop(settings=self.config)

    # --- reading -------------------------------------------------------
    def generate_context(self):
        self.read_products()
        self.read_reviews()
        self.read_lists()
        self.link_posts()
        self.recommend()
        self.context["shop"] = self.shop

    def _markdown(self, text: str) -> str:
        config = dict(self.settings["MARKDOWN"])
        config["extensions"] = [e for e in config.get("extensions", []) if e != "markdown.extensions.meta"]
        return markdown.Markdown(**config).convert(text)

    def _read(self, path: str):
        """(fields, html body, source path) of a front-matter file, or None after logging why."""
        source = os.path.join(self.path, path)
        try:
            with open(source, encoding="utf-8") as handle:
                fields, body = frontmatter.split(handle.read())
        except frontmatter.FrontMatterError as error:
            logger.error("%s: %s", source, error)
            return None
        return fields, self._markdown(body), source

    def _published_files(self, paths):
        """(fields, html body, source path) of every readable front-matter file in paths that is not a draft."""
        for path in self.get_files(paths, extensions=("md", "markdown")):
            read = self._read(path)
            if read is None:
                continue
            if str(read[0].get("status", "published")).lower() == "draft":
                continue
            yield read

    def _image_exists(self, src: str) -> bool:
        return (Path(self.path) / src).is_file()

    def _date(self, fields: dict, source: str) -> dt.datetime | None:
        value = fields.get("date")
        if value is None:
            logger.error("%s: field 'date': is required", source)
            return None
        try:
            return get_date(str(value)) if not isinstance(value, dt.datetime) else value
        except (ValueError, TypeError):
            logger.error("%s: field 'date': %r is not a date such as 2026-05-10 10:00", source, value)
            return None

    def read_products(self):
        pages = {}
        for fields, html, source in self._published_files(self.config.product_paths):
            try:
                model = parse.product(fields, default_currency=self.config.currency, today=self.config.today,
                                      image_exists=self._image_exists,
                                      shipping_classes=self.config.shipping_classes,
                                      default_shipping_class=self.config.default_shipping_class)
            except ProductError as error:
                logger.error("%s: %s", source, error)
                continue
            date = self._date(fields, source)
            if date is None or not self._check_checkout_links(model, source):
                continue
            try:
                metadata = self._metadata(fields, model.title, date)
            except ProductError as error:
                logger.error("%s: %s", source, error)
                continue
            page = ProductPage(demote_headings(html), metadata=metadata, settings=self.settings,
                               source_path=source, context=self.context)
            page.model = model
            page.description = model.summary
            page.image = model.images[0].src
            pages[source] = page
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
        products = sorted(pages.values(), key=lambda p: p.title.lower())
        self.shop.products = products
        self.shop.categories = self._categories(products)
        for page in products:
            self.add_source_path(page)
            for key in (page.sku, page.slug, *page.skus):
                self.shop.by_reference.setdefault(key, page)
            page.posts = []
            page.reviews = []
            page.average_rating = None

    def _metadata(self, fields: dict, title: str, date) -> dict:
        metadata = {"title": title, "slug": str(fields.get("slug")), "date": date,
                    "lang": fields.get("lang", self.settings["DEFAULT_LANG"])}
        if fields.get("modified"):
            value = fields["modified"]
            try:
                metadata["modified"] = value if isinstance(value, dt.datetime) else get_date(str(value))
            except (ValueError, TypeError):
                raise ProductError("modified", f"{value!r} is not a date such as 2026-05-10 10:00") from None
        return metadata

    def _check_checkout_links(self, model, source: str) -> bool:
        provider = self.config.checkout
        if provider not in parse.CHECKOUT_LINK_PROVIDERS:
            return True
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
            slug = slugify(page.category, regex_subs=self.settings["SLUG_REGEX_SUBSTITUTIONS"])
            if slug not in categories:
                categories[slug] = ProductCategory(page.category, slug, self.config.category_url.format(slug=slug))
            categories[slug].products.append(page)
            page.category = categories[slug]
        return sorted(categories.values(), key=lambda c: c.name.lower())

    def read_reviews(self):
        """Attach each review file to its product; the newest first."""
        for fields, html, source in self._published_files(self.config.review_paths):
            try:
                item = parse.review(fields, html, BeautifulSoup(html, "html.parser").get_text(" ").strip(), source)
            except ProductError as error:
                logger.error("%s: %s", source, error)
                continue
            product = self.shop.find(item.product)
            if product is None:
                logger.error("%s: field 'product': no product has the sku or slug %s", source, item.product)
                continue
            product.reviews.append(item)
        for page in self.shop.products:
            page.reviews.sort(key=lambda r: r.date, reverse=True)
            page.average_rating = average_rating(page.reviews)

    def read_lists(self):
        for fields, html, source in self._published_files(self.config.list_paths):
            try:
                query = self._list_query(fields)
            except ProductError as error:
                logger.error("%s: %s", source, error)
                continue
            missing = [ref for ref in query.pinned if ref not in self.shop.by_reference]
            if missing:
                logger.error("%s: field 'pinned': no product with sku or slug %s", source, ", ".join(missing))
                continue
            date = self._date(fields, source)
            if date is None:
                continue
            page = ProductListPage(html, metadata={"title": parse.text(fields, "title"), "slug": str(fields["slug"]),
                                                   "date": date, "lang": self.settings["DEFAULT_LANG"]},
                                   settings=self.settings, source_path=source, context=self.context)
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
        candidates = [related.Candidate(
            key=p.slug, title=p.title, tags=frozenset(t.lower() for t in p.tags),
            text=f"{p.summary} {BeautifulSoup(p._content, 'html.parser').get_text(' ')}",
            price=p.lowest_offer.price, boost=p.boost, available=p.available) for p in self.shop.products]
        by_slug = {p.slug: p for p in self.shop.products}
        return [by_slug[key] for key in related.rank_list(query, candidates)]

    # --- cross links -----------------------------------------------------
    def _writings(self):
        """Every post and page that may embed product cards, translations and drafts included."""
        seen = []
        for key in ("articles", "drafts", "pages", "hidden_pages", "draft_pages"):
            for item in self.context.get(key, []):
                for writing in (item, *getattr(item, "translations", [])):
                    if writing not in seen:
                        seen.append(writing)
        for item in self.shop.products + self.shop.lists:
            seen.append(item)
        return seen

    def link_posts(self):
        """Replace product placeholders with cards; remember which products each writing mentions, and back."""
        template = self.get_template("partials/product_embed")
        for writing in self._writings():
            writing.mentions = []
            html = getattr(writing, "_content", "") or ""
            if PLACEHOLDER_ATTRIBUTE not in html:
                continue
            soup = BeautifulSoup(html, "html.parser")
            for placeholder in soup.find_all(attrs={PLACEHOLDER_ATTRIBUTE: True}):
                reference = placeholder[PLACEHOLDER_ATTRIBUTE]
                product = self.shop.find(reference)
                if product is None:
                    logger.error("%s: product card [[prodotto: %s]]: no product has this sku or slug",
                                 writing.source_path, reference)
                    placeholder.decompose()
                    continue
                card = template.render({**self.context, "product": product, "article": writing})
                placeholder.replace_with(BeautifulSoup(card, "html.parser"))
                if product not in writing.mentions:
                    writing.mentions.append(product)
                if writing not in product.posts and hasattr(writing, "category") and writing.status == "published":
                    product.posts.append(writing)
            writing._content = str(soup)

    def recommend(self):
        """Related products and posts for every product and post, from tags, category and words."""
        articles = list(self.context.get("articles", []))
        count = self.config.related_count

        def profile(item, key):
            tags = frozenset(str(t).lower() for t in getattr(item, "tags", []) or [])
            category = str(getattr(item, "category", "") or "")
            text = getattr(item, "description", "") or ""
            return related.Profile(key, tags, category, related.keywords(item.title, text))

        product_profiles = [profile(p, p.slug) for p in self.shop.products]
        article_profiles = [profile(a, a.url) for a in articles]
        by_slug = {p.slug: p for p in self.shop.products}
        by_url = {a.url: a for a in articles}
        for page, own in zip(self.shop.products, product_profiles):
            page.related_products = [by_slug[k] for k in related.most_related(own, product_profiles, count)]
            mentioned = [a for a in page.posts if a in articles]
            others = [by_url[k] for k in related.most_related(own, article_profiles, count + len(mentioned))
                      if by_url[k] not in mentioned]
            page.related_posts = (mentioned + others)[:count]
        for article, own in zip(articles, article_profiles):
            article.related_posts = [by_url[k] for k in related.most_related(own, article_profiles, count)]
            embedded = list(getattr(article, "mentions", []))
            others = [by_slug[k] for k in related.most_related(own, product_profiles, count + len(embedded))
                      if by_slug[k] not in embedded]
            article.related_products = others[:count]

    # --- writing -------------------------------------------------------
    def generate_output(self, writer):
        for page in self.shop.products:
            writer.write_file(page.save_as, self.get_template(page.template), self.context,
                              product=page, relative_urls=self.settings["RELATIVE_URLS"], url=page.url)
        self._write_listing(writer, "catalog", self.config.catalog_url, self.shop.products,
                            SORT_ORDERS["in-evidenza"], sort_slug="in-evidenza")
        for slug, key in list(SORT_ORDERS.items())[1:]:
            self._write_listing(writer, "catalog", self.config.sort_url.format(slug=slug), self.shop.products,
                                key, sort_slug=slug)
        for category in self.shop.categories:
            self._write_listing(writer, "product_category", category.url, category.products,
                                SORT_ORDERS["in-evidenza"], category=category)
        for page in self.shop.lists:
            writer.write_file(page.save_as, self.get_template(page.template), self.context,
                              page=page, relative_urls=self.settings["RELATIVE_URLS"], url=page.url)
        if self.config.checkout == "snipcart":
            self._write_snipcart_json()

    def _write_listing(self, writer, template, url, products, key, **extra):
        ordered = sorted(products, key=key)
        writer.write_file(url + "index.html", self.get_template(template), self.context,
                          paginated={"products": ordered}, template_name=template, url=url,
                          relative_urls=self.settings["RELATIVE_URLS"], listing_url=url,
                          sort_slugs=list(SORT_ORDERS), **extra)

    def _write_snipcart_json(self):
        """The {id, price, url} file Snipcart's JSON crawler reads, one entry per sku that can be bought."""
        site = self.settings["SITEURL"]
        entries = []
        for page in self.shop.products:
            for offer in page.offers:
                entries.append({"id": offer.sku, "price": float(offer.price_text), "url": f"{site}/{page.url}"})
        target = Path(self.output_path) / "snipcart-products.json"
        target.write_text(json.dumps(entries, ensure_ascii=False, indent=1), encoding="utf-8")



def demote_headings(html: str) -> str:
    """A product's body sits under the page's "Description" h2: its headings start at h3."""
    soup = BeautifulSoup(html, "html.parser")
    for level in range(5, 1, -1):
        for heading in soup.find_all(f"h{level}"):
            heading.name = f"h{level + 1}"
    return str(soup)
