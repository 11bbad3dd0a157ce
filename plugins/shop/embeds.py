"""Product cards in posts: `[[prodotto: sku-or-slug]]` alone on a line.

A Python-Markdown extension turns the line into a placeholder element and records the reference in the
document's metadata (so Pelican's content cache keeps it); each output (page, feed, e-mail) then renders
its own card from the catalogue record, and the shop reports unknown references with the file that names them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension

from .catalog import MENTIONS_KEY, PLACEHOLDER_ATTRIBUTE

EMBED_PATTERN = re.compile(r"^\[\[\s*(?:prodotto|product)\s*:\s*([\w.\-/]+)\s*\]\]$", re.IGNORECASE)


def record_mention(md, reference: str) -> None:
    """Add reference to md.Meta[MENTIONS_KEY] as one "a, b" value (Pelican reads one value as a string)."""
    if not hasattr(md, "Meta"):
        md.Meta = {}
    known = [r.strip() for r in (md.Meta.get(MENTIONS_KEY) or [""])[0].split(",") if r.strip()]
    if reference not in known:
        known.append(reference)
    md.Meta[MENTIONS_KEY] = [", ".join(known)]


class ProductEmbedProcessor(BlockProcessor):
    def test(self, parent, block):
        return bool(EMBED_PATTERN.match(block.strip()))

    def run(self, parent, blocks):
        reference = EMBED_PATTERN.match(blocks.pop(0).strip()).group(1)
        element = etree.SubElement(parent, "div")
        element.set(PLACEHOLDER_ATTRIBUTE, reference)
        record_mention(self.parser.md, reference)


class ProductEmbedExtension(Extension):
    """Registers the `[[prodotto: ref]]` block syntax."""

    def extendMarkdown(self, md):
        # Before paragraphs (priority 10), after lists and quotes.
        md.parser.blockprocessors.register(ProductEmbedProcessor(md.parser), "vetrina_product", 25)


def makeExtension(**kwargs):
    return ProductEmbedExtension(**kwargs)
