"""Read the built newsletter feed (RSS 2.0) into items. Pure apart from reading the file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

from lxml import etree

NS = {"content": "http://purl.org/rss/1.0/modules/content/", "media": "http://search.yahoo.com/mrss/"}


@dataclass(frozen=True)
class Item:
    guid: str
    title: str
    link: str
    description: str
    html: str
    published: dt.datetime
    image: str | None


def read(path: Path) -> list[Item]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no newsletter feed; build the site first (invoke build --production)")
    channel = etree.parse(str(path)).getroot().find("channel")
    items = []
    for node in channel.findall("item"):
        media = node.find("media:content", NS)
        items.append(Item(
            guid=node.findtext("guid"),
            title=node.findtext("title", ""),
            link=node.findtext("link", ""),
            description=node.findtext("description", ""),
            html=node.findtext("content:encoded", "", namespaces=NS),
            published=parsedate_to_datetime(node.findtext("pubDate")),
            image=media.get("url") if media is not None else None,
        ))
    return items
