"""`vetrina import-wordpress`: a WordPress export (WXR) into the shop: posts, pages, comments, redirects.

Two passes over the export: the first gives every imported post and page its key, slug, file and new URL (so
links between posts can be rewritten to Pelican's `{filename}` links, whatever order the export has); the second
writes the files, copies the images, puts the approved comments into Isso and records the redirects.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from . import isso_import, phpserial, wpmarkup, wxr
from .report import Report
from .session import ImportSession, load_settings, old_path
from .slugs import safe_slug, slug_for
from .uploads import ImageCopier, Uploads

SKIPPED_TYPES_SILENTLY = {"attachment", "revision", "nav_menu_item", "custom_css", "customize_changeset",
                          "oembed_cache", "wp_block", "wp_template", "wp_template_part", "wp_global_styles",
                          "wp_navigation", "user_request", "wp_font_family", "wp_font_face", "shop_order",
                          "shop_coupon", "scheduled-action", "product", "product_variation"}
DRAFT_STATUSES = {"draft", "pending", "private"}
MAX_TAGS = 20  # a post with hundreds of terms keeps the first twenty as tags; the rest are listed in the report
MAX_TITLE = 200
# WooCommerce's pages (shop, cart, checkout, my account) are made of its shortcodes or blocks: the shop has its own.
WOOCOMMERCE_PAGE = re.compile(r"\[woocommerce_\w+|<!-- wp:woocommerce/|\[products\b|\[shop_messages")


@dataclass
class Planned:
    item: wxr.Item
    kind: str  # article | page
    key: str
    slug: str
    path: str  # relative to the shop
    url: str  # root-relative new URL


def one_line(text: str) -> str:
    return " ".join(str(text or "").split())


def plain(text: str) -> str:
    return one_line(BeautifulSoup(text or "", "html.parser").get_text(" "))


def plan(export: wxr.Export, session: ImportSession, report: Report) -> list[Planned]:
    planned = []
    for item in export.items:
        if item.post_type not in ("post", "page"):
            if item.post_type not in SKIPPED_TYPES_SILENTLY:
                report.note("skipped: not a post or a page", f"{item.post_type} {item.post_id} {one_line(item.title)!r}")
            continue
        why = ("password-protected" if item.password else "in the trash" if item.status == "trash" else
               None if item.status in DRAFT_STATUSES | {"publish", "future"} else f"status {item.status!r}")
        if why:
            report.count("posts" if item.post_type == "post" else "pages", "skipped")
            report.note("skipped", f"{item.post_type} {item.post_id} {one_line(item.title)!r}: {why}")
            continue
        if item.post_type == "page" and WOOCOMMERCE_PAGE.search(item.content or ""):
            report.note("skipped: WooCommerce's own pages (the shop has its catalogue, cart and forms)",
                        f"page {item.post_id} {one_line(item.title)!r}")
            session.shop_pages.append(item)
            continue
        kind = "article" if item.post_type == "post" else "page"
        key = f"{item.post_type}:{item.post_id}"
        slug = session.slug_of(key, slug_for(item.post_name, item.title, f"{item.post_type}-{item.post_id}"))
        folder = "posts" if kind == "article" else "pages"
        path = session.path_for(key, f"content/{folder}/{slug}.md")
        slug = Path(path).stem if path != f"content/{folder}/{slug}.md" else slug
        planned.append(Planned(item, kind, key, slug, path, session.url(kind, slug)))
    return planned


class WordPressImport:
    def __init__(self, session: ImportSession, export: wxr.Export, images: ImageCopier, report: Report):
        self.session, self.export, self.images, self.report = session, export, images, report
        self.settings = session.settings
        self.attachments = {item.post_id: item for item in export.items if item.post_type == "attachment"}
        self.old_host = urlsplit(export.link).netloc.lower()
        self.now = dt.datetime.now()

    # --- links and images -----------------------------------------------------------------------------------
    def link_map(self, planned: list[Planned]) -> None:
        """Old addresses (permalink, ?p=ID, ?page_id=ID) → the file Pelican links with `{filename}`."""
        self.files = {}
        for entry in planned:
            target = "{filename}/" + entry.path.removeprefix("content/")
            self.files[old_path(entry.item.link)] = target
            self.files[f"/?p={entry.item.post_id}"] = target
            self.files[f"/?page_id={entry.item.post_id}"] = target

    def attachment(self, number: int):
        item = self.attachments.get(number)
        return (item.attachment_url, item.meta.get("_wp_attachment_image_alt", "")) if item else None

    def rewrite_links(self, body: str) -> str:
        soup = BeautifulSoup(body, "html.parser")
        for link in soup.find_all("a", href=True):
            parts = urlsplit(link["href"])
            if parts.netloc and parts.netloc.lower() != self.old_host:
                continue
            target = self.files.get(old_path(link["href"]).split("#")[0])
            if target:
                link["href"] = target + (f"#{parts.fragment}" if parts.fragment else "")
        return soup.decode(formatter="html5")

    # --- one item -------------------------------------------------------------------------------------------
    def categories_and_tags(self, item: wxr.Item) -> tuple[str, list[str]]:
        categories = [term.name for term in item.terms_of("category") if term.name]
        primary_id = item.meta.get("_yoast_wpseo_primary_category") or item.meta.get("rank_math_primary_category")
        primary = self.export.category_ids.get(int(primary_id)) if str(primary_id or "").isdigit() else None
        category = primary if primary in categories else (categories[0] if categories else "")
        tags = [name for name in categories if name != category] + [t.name for t in item.terms_of("post_tag")]
        tags = list(dict.fromkeys(one_line(tag).replace(",", " ") for tag in tags if one_line(tag)))
        if len(tags) > MAX_TAGS:
            self.report.note("tags cut", f"{item.post_type} {item.post_id}: {len(tags)} categories and tags, "
                                         f"the first {MAX_TAGS} kept")
            tags = tags[:MAX_TAGS]
        return one_line(category), tags

    def seo(self, item: wxr.Item) -> list[str]:
        meta = item.meta
        title = meta.get("_yoast_wpseo_title") or meta.get("rank_math_title") or ""
        title = one_line(title.replace("%%title%%", item.title).replace("%title%", item.title)
                         .replace("%%sitename%%", self.settings.get("SITENAME", ""))
                         .replace("%sitename%", self.settings.get("SITENAME", "")))
        title = one_line(" ".join(word for word in title.split() if not word.startswith("%")))
        description = one_line(meta.get("_yoast_wpseo_metadesc") or meta.get("rank_math_description") or "")
        robots = meta.get("rank_math_robots", "")
        try:
            robots = " ".join(map(str, phpserial.loads(robots).values())) if robots.startswith("a:") else robots
        except ValueError:
            robots = ""
        noindex = meta.get("_yoast_wpseo_meta-robots-noindex") == "1" or "noindex" in robots
        canonical = (meta.get("_yoast_wpseo_canonical") or meta.get("rank_math_canonical_url") or "").strip()
        lines = [f"Seo_title: {title}"] if title and "%" not in title else []
        lines += [f"Description: {description}"] if description else []
        lines += ["Robots: noindex, follow"] if noindex else []
        lines += [f"Canonical: {canonical}"] if canonical.startswith("https://") else []
        return lines

    def date(self, entry: Planned) -> str:
        raw = entry.item.date
        if raw and not raw.startswith("0000"):
            return raw[:16]
        remembered = self.session.manifest["items"].get(entry.key, {}).get("date")
        return remembered or self.now.strftime("%Y-%m-%d %H:%M")

    def title(self, item: wxr.Item, body: str) -> str:
        title = one_line(html.unescape(item.title))
        if not title:
            words = plain(body).split()
            title = " ".join(words[:8]) + ("…" if len(words) > 8 else "") if words else "Senza titolo"
            self.report.note("titles made up", f"{item.post_type} {item.post_id} had no title: {title!r}")
        if len(title) > MAX_TITLE:
            title = title[:MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
        return title

    def write(self, entry: Planned) -> None:
        item = entry.item
        cleaned = wpmarkup.clean(item.content, self.images.local, self.attachment)
        body = self.rewrite_links(cleaned.html) if cleaned.html else ""
        where = f"{item.post_type} {item.post_id} {one_line(item.title)[:60]!r}"
        for name in cleaned.removed_shortcodes:
            self.report.note("shortcodes removed", f"{where}: [{name}]")
        for url in cleaned.embeds:
            self.report.note("embeds turned into links", f"{where}: {url}")
        for url in cleaned.missing_images:
            self.report.note("images not found (replaced by their alt text)", f"{where}: {url}")
        if not body:
            self.report.note("no content", where)
        date = self.date(entry)
        header = [f"Title: {self.title(item, body)}", f"Slug: {entry.slug}", f"Date: {date}"]
        if entry.kind == "article":
            category, tags = self.categories_and_tags(item)
            header += [f"Category: {category}"] if category else []
            header += [f"Tags: {', '.join(tags)}"] if tags else []
        author = self.export.authors.get(item.creator, item.creator)
        header += [f"Author: {one_line(author)}"] if author else []
        summary = plain(item.excerpt)
        header += [f"Summary: {summary}"] if summary else []
        header += [f"Lang: {self.settings.get('DEFAULT_LANG', 'it')}", f"Uid: {self.session.uid(entry.key)}"]
        header += self.lead_image(item, where)
        header += self.seo(item)
        if item.status in DRAFT_STATUSES:
            header.append("Status: draft")
        if item.sticky:
            self.report.note("sticky posts (imported as ordinary posts)", where)
        text = "\n".join(header) + "\n\n" + (body + "\n" if body else "")
        kind = "posts" if entry.kind == "article" else "pages"
        self.session.write_text(entry.key, entry.path, text, kind, slug=entry.slug, date=date)
        if item.status == "publish":  # a draft or a scheduled post has no page to send the old address to yet
            self.redirects(entry)
        if entry.kind == "article" and item.status == "publish" and dt.datetime.fromisoformat(date) <= self.now:
            self.session.announce(f"urn:uuid:{self.session.uid(entry.key)}")

    def lead_image(self, item: wxr.Item, where: str) -> list[str]:
        number = item.meta.get("_thumbnail_id", "")
        found = self.attachment(int(number)) if number.isdigit() else None
        if not found:
            return []
        local = self.images.local(found[0])
        if local is None:
            self.report.note("images not found (replaced by their alt text)", f"{where}: {found[0]} (lead image)")
            return []
        return [f"Image: {local}", f"Image_alt: {one_line(found[1]) or one_line(item.title)}"]

    def redirects(self, entry: Planned) -> None:
        self.session.redirect(entry.item.link, entry.url)
        query = "p" if entry.kind == "article" else "page_id"
        self.session.redirect(f"/?{query}={entry.item.post_id}", entry.url)

    def term_redirects(self, planned: list[Planned]) -> None:
        """/category/a/b/ and /tag/x/ to the new category or tag pages, for the terms the posts kept."""
        used_as_category, used_as_tag = set(), set()
        for entry in planned:
            if entry.kind == "article" and entry.item.status in ("publish",):
                category, tags = self.categories_and_tags(entry.item)
                used_as_category.add(category)
                used_as_tag.update(tags)
        for entry in planned:
            for term in entry.item.terms_of("category") + entry.item.terms_of("post_tag"):
                name = one_line(term.name)
                if name in used_as_category:
                    new = self.session.url("category", self.session.term_slug("category", name))
                elif name.replace(",", " ") in used_as_tag:
                    new = self.session.url("tag", self.session.term_slug("tag", name.replace(",", " ")))
                else:
                    continue
                base = "category" if term.domain == "category" else "tag"
                self.session.redirect(f"/{base}/{self.term_path(term)}/", new)
        self.session.redirect("/feed/", "/" + self.settings.get("FEEDS_PATH", "feeds").strip("/") + "/rss.xml")
        for page in self.session.shop_pages:
            if page.status == "publish":
                self.session.redirect(page.link, "/" + self.settings.get("SHOP_CATALOG_URL", "prodotti/"))

    def term_path(self, term: wxr.Term) -> str:
        if term.domain != "category":
            return term.nicename
        path, seen, current = [term.nicename], {term.nicename}, term.nicename
        while (parent := self.export.category_parents.get(current)) and parent not in seen:
            path.insert(0, parent)
            seen.add(parent)
            current = parent
        return "/".join(path)

    def comments(self, planned: list[Planned], database: Path) -> None:
        db = isso_import.open_database(database)
        added = kept = skipped = 0
        for entry in planned:
            if entry.item.status != "publish" or not entry.item.comments:
                continue
            new, old = isso_import.import_thread(db, self.session, entry.url, self.title(entry.item, ""),
                                                 entry.item.comments)
            added, kept = added + new, kept + old
            skipped += sum(1 for comment in entry.item.comments if not isso_import.importable(comment))
        self.report.counts["comments", "new"] += added
        self.report.counts["comments", "unchanged"] += kept
        self.report.counts["comments", "skipped"] += skipped
        if skipped:
            self.report.note("comments not imported", f"{skipped} pingbacks, trackbacks, spam or not approved")


def import_export(shop: Path, export: Path, uploads: Path | None = None, isso_db: Path | None = None,
                  force: bool = False, stream=None) -> Report:
    shop = Path(shop).resolve()
    settings = load_settings(shop)
    report = Report(f"WordPress import of {export}", stream=stream)
    parsed = wxr.read(Path(export))
    with ImportSession(shop, "wordpress", settings, report, force=force) as session:
        images = ImageCopier(session, Uploads(uploads))
        session.shop_pages = []
        run = WordPressImport(session, parsed, images, report)
        planned = plan(parsed, session, report)
        run.link_map(planned)
        for number, entry in enumerate(planned, 1):
            run.write(entry)
            report.progress(number, len(planned), "posts and pages")
        run.term_redirects(planned)
        if isso_db:
            run.comments(planned, Path(isso_db))
        elif any(entry.item.comments for entry in planned):
            report.note("comments not imported", "no --isso-db given")
        if any(item.post_type in ("product", "product_variation") for item in parsed.items):
            from . import woocommerce

            woocommerce.import_wxr_products(session, parsed, images, report)
    report.write(shop / "imports" / "wordpress-report.txt")
    print(report.render(), file=stream or __import__("sys").stdout)
    return report
