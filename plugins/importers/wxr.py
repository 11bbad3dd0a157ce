"""WordPress eXtended RSS (WXR 1.0-1.2, what Tools → Export writes), read with lxml into plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

CONTENT = "http://purl.org/rss/1.0/modules/content/"
EXCERPT = "http://wordpress.org/export/{version}/excerpt/"
DC = "http://purl.org/dc/elements/1.1/"


class WxrError(ValueError):
    """An export that cannot be read: the file and the line are in the message."""


@dataclass
class Term:
    domain: str  # category, post_tag, product_cat, product_type, pa_color...
    nicename: str
    name: str


@dataclass
class Comment:
    id: int
    parent: int
    author: str
    email: str
    url: str
    date: str  # local time of the old site, "YYYY-MM-DD HH:MM:SS"
    content: str
    approved: str
    type: str
    meta: dict = field(default_factory=dict)


@dataclass
class Item:
    post_id: int
    post_type: str
    status: str
    title: str
    link: str
    post_name: str
    date: str
    creator: str
    content: str
    excerpt: str
    parent: int
    password: str
    sticky: bool
    attachment_url: str
    terms: list[Term] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    comments: list[Comment] = field(default_factory=list)

    def terms_of(self, domain: str) -> list[Term]:
        return [term for term in self.terms if term.domain == domain]


@dataclass
class Export:
    title: str
    link: str
    authors: dict  # login -> display name
    category_ids: dict  # term id -> name (Yoast and Rank Math name the primary category by id)
    items: list[Item]
    category_parents: dict = field(default_factory=dict)  # nicename -> parent nicename ("" at the top)

    def by_id(self) -> dict[int, Item]:
        return {item.post_id: item for item in self.items}


def _number(text: str | None) -> int:
    try:
        return int(str(text or "0").strip())
    except ValueError:
        return 0


def read(path: Path) -> Export:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, strip_cdata=True)
    try:
        root = etree.parse(str(path), parser).getroot()
    except etree.XMLSyntaxError as error:
        line = error.lineno or 0
        raise WxrError(f"{path}:{line}: not a readable WordPress export ({error.msg}); export it again "
                       "from Tools → Export") from None
    channel = root.find("channel")
    if channel is None:
        raise WxrError(f"{path}: no <channel>: this is not a WordPress export (WXR)")
    wp = next((uri for uri in root.nsmap.values() if uri and uri.startswith("http://wordpress.org/export/")), None)
    if wp is None:
        raise WxrError(f"{path}: no wp: namespace: this is not a WordPress export (WXR)")
    version = wp.rstrip("/").rsplit("/", 1)[-1]
    names = {"wp": wp, "content": CONTENT, "excerpt": EXCERPT.format(version=version), "dc": DC}

    def text(element, tag: str) -> str:
        found = element.find(tag, names)
        return (found.text or "") if found is not None else ""

    authors = {text(a, "wp:author_login"): text(a, "wp:author_display_name") or text(a, "wp:author_login")
               for a in channel.findall("wp:author", names)}
    category_ids = {_number(text(c, "wp:term_id")): text(c, "wp:cat_name")
                    for c in channel.findall("wp:category", names)}
    category_ids |= {_number(text(t, "wp:term_id")): text(t, "wp:term_name")
                     for t in channel.findall("wp:term", names) if text(t, "wp:term_taxonomy") == "category"}

    def meta_of(element, tag: str) -> dict:
        return {text(m, "wp:meta_key"): text(m, "wp:meta_value") for m in element.findall(tag, names)}

    items = []
    for node in channel.findall("item"):
        comments = [Comment(_number(text(c, "wp:comment_id")), _number(text(c, "wp:comment_parent")),
                            text(c, "wp:comment_author"), text(c, "wp:comment_author_email"),
                            text(c, "wp:comment_author_url"), text(c, "wp:comment_date"),
                            text(c, "wp:comment_content"), text(c, "wp:comment_approved"),
                            text(c, "wp:comment_type"), meta_of(c, "wp:commentmeta"))
                    for c in node.findall("wp:comment", names)]
        terms = [Term(c.get("domain", ""), c.get("nicename", ""), (c.text or "").strip())
                 for c in node.findall("category")]
        items.append(Item(
            post_id=_number(text(node, "wp:post_id")), post_type=text(node, "wp:post_type"),
            status=text(node, "wp:status"), title=text(node, "title"), link=text(node, "link"),
            post_name=text(node, "wp:post_name"), date=text(node, "wp:post_date"),
            creator=text(node, "dc:creator"), content=text(node, "content:encoded"),
            excerpt=text(node, "excerpt:encoded"), parent=_number(text(node, "wp:post_parent")),
            password=text(node, "wp:post_password"), sticky=text(node, "wp:is_sticky") == "1",
            attachment_url=text(node, "wp:attachment_url"), terms=terms, meta=meta_of(node, "wp:postmeta"),
            comments=comments))
    parents = {text(c, "wp:category_nicename"): text(c, "wp:category_parent")
               for c in channel.findall("wp:category", names)}
    return Export(text(channel, "title"), text(channel, "link"), authors, category_ids, items, parents)
