"""The shop's catalogue as the build published it (shop.json): the newsletter reads the file, never the shop's objects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from shop.catalog import JSON_FILE


@dataclass(frozen=True)
class Announcement:
    """A catalogue item of the newsletter feed (new, on sale, back in stock) and the product it is about."""

    item: object  # the feed item: title, link, guid
    card: dict  # the product's record in shop.json, which the e-mail card is rendered from

    @property
    def title(self) -> str:
        return self.item.title

    @property
    def link(self) -> str:
        return self.item.link


def read(output: Path) -> dict[str, dict]:
    """{absolute product URL: record} from the build's shop.json; empty for a site without a shop."""
    path = output / JSON_FILE
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return {record["url"]: record for record in data.get("products", [])}
