"""The search generator: starts the index once everything is read, writes the search pages, then the index."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

from pelican.generators import ArticlesGenerator, Generator

from core.i18n import load_catalogs
from core.urls import join
from shop.catalog import CONTEXT_KEY, format_money

from . import records
from .index import IndexRun, SearchIndexError

logger = logging.getLogger(__name__)

IMAGES_KEY = "SITE_RESPONSIVE_IMAGES"  # core's register of responsive images
DISALLOWED_KEY = "SEO_ROBOTS_DISALLOWED"  # seo's register of the paths robots.txt keeps crawlers out of
THUMBNAIL_WIDTH = 160  # the smallest copy at least this wide is a result's picture


@dataclass(frozen=True)
class SearchPage:
    """The search page of one language, as the templates and the SEO plugin read a page."""

    lang: str
    title: str
    description: str
    url: str
    save_as: str
    slug: str = "search"
    status: str = "published"
    translations: tuple = ()
    # Indexable (its canonical is the page without a query), not listed in the sitemap; its result URLs, endless
    # and thin, are kept out of the crawl by robots.txt.
    in_sitemap: bool = False


class SearchGenerator(Generator):
    """Writes each language's search page; feeds Pagefind the catalogue and the posts while the pages render."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.config = self.settings["SEARCH_CONFIG"]
        self.run: IndexRun | None = None
        self.labels: dict[str, records.Labels] = {}
        self.catalogs: dict = {}
        self.handed_over = 0.0  # seconds this process spent making the records and sending them

    def generate_context(self):
        if not self.config.enabled:
            return
        self.catalogs = load_catalogs(Path(self.theme) / "translations", self.config.languages)
        self.labels = {lang: records.labels_for(lang, self.catalogs[lang].gettext) for lang in self.config.languages}
        # Results (the page with a query) are not crawled: an endless space of thin pages (seo's robots.txt).
        self.settings.setdefault(DISALLOWED_KEY, {})["search"] = tuple(f"/{url}?" for _, url in self.config.pages)

    # --- the index: started as soon as everything is read ----------------------------------------------------
    def start_index(self, generators) -> None:
        if not self.config.enabled:
            return
        began = time.monotonic()
        try:
            self.run = IndexRun(Path(self.output_path), self.config.output, self.entries(generators))
            self.handed_over = time.monotonic() - began
        except SearchIndexError as error:
            logger.error("Search: %s", error)
            self.cancel()

    def entries(self, generators) -> list[records.Entry]:
        href = lambda path: join(self.settings["SITEURL"], path)  # noqa: E731
        found = []
        shop = self.context.get(CONTEXT_KEY)
        if self.config.products and shop is not None:
            for product in shop.products:
                found.append(records.product_entry(product, self.labels, self.config.price_bands, href,
                                                   self._thumbnail, format_money, product._content,
                                                   self.settings["DEFAULT_LANG"]))
        if self.config.posts:
            for generator in generators:
                if isinstance(generator, ArticlesGenerator):
                    for post in chain(generator.articles, generator.translations):
                        labels = self.labels.get(post.lang)
                        if labels is not None and post.status == "published":
                            found.append(records.post_entry(post, labels, href, self._thumbnail))
        return found

    def _thumbnail(self, src: str) -> str:
        """The URL of a small WebP copy of a content image (the same copies the cards use), else of the image."""
        images = self.settings.get(IMAGES_KEY)
        copies = sorted(images.sources(src), key=lambda copy: copy[1]) if images is not None else []
        chosen = next((url for url, width in copies if width >= THUMBNAIL_WIDTH), copies[-1][0] if copies else src)
        return join(self.settings["SITEURL"], chosen)

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()
            self.run = None

    # --- the pages, then the index -------------------------------------------------------------------------
    def generate_output(self, writer):
        if not self.config.enabled:
            return
        try:
            self.write_pages(writer)
        except BaseException:
            self.cancel()
            raise
        self.write_index()

    def write_pages(self, writer) -> None:
        shop = self.context.get(CONTEXT_KEY)
        products = shop.products if shop is not None and self.config.products else []
        currency = shop.settings.currency if shop is not None else "EUR"
        template = self.get_template("search")
        for lang, url in self.config.pages:
            labels = self.labels[lang]
            page = SearchPage(lang=lang, title=self.catalogs[lang].gettext("Search"), description="", url=url,
                              save_as=f"{url}index.html")
            writer.write_file(page.save_as, template, self.context, page=page, url=url,
                              relative_urls=self.settings["RELATIVE_URLS"],
                              search_facets=records.facets(products, labels, self.config.price_bands, currency))

    def write_index(self) -> None:
        if self.run is None:
            return
        run, self.run = self.run, None
        waited = time.monotonic()
        try:
            count = run.finish()
        except SearchIndexError as error:
            logger.error("Search: %s (the index is not replaced)", error)
            return
        kept = ", ".join(sorted(run.kept)) or "none"
        logger.info("Search: %s records of %s items, %s of them indexed in %.1f s (bundles unchanged: %s); the build "
                    "spent %.2f s making and sending them, and waited %.2f s for the index at the end", count,
                    run.entries, run.indexed, time.monotonic() - run.started, kept, self.handed_over,
                    time.monotonic() - waited)
