"""Product cards in posts: `[[prodotto: sku-or-slug]]` alone on a line.

A Python-Markdown extension turns the line into a placeholder element; after every product is read,
the shop replaces each placeholder with the product's card, or reports the unknown reference.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree

from markdown.blockprocessors import BlockProcessor
from markdown.extensions import Extension

PLACEHOLDER_ATTRIBUTE = "data-vetrina-product"
EMBED_PATTERN = re.compile(r"^\[\[\s*(?:prodotto|product)\s*:\s*([\w.\-/]+)\s*\]\]$", re.IGNORECASE)


class ProductEmbedProcessor(BlockProcessor):
    def test(self, parent, block):
        return bool(EMBED_PATTERN.match(block.strip()))

    def run(self, parent, blocks):
        reference = EMBED_PATTERN.match(blocks.pop(0).strip()).group(1)
        element = etree.SubElement(parent, "div")
        element.set(PLACEHOLDER_ATTRIBUTE, reference)


class ProductEmbedExtension(Extension):
    """Registers the `[[prodotto: ref]]` block syntax."""

    def extendMarkdown(self, md):
        # Before paragraphs (priority 10), after lists and quotes.
        md.parser.blockprocessors.register(ProductEmbedProcessor(md.parser), "vetrina_product", 25)


def makeExtension(**kwargs):
    return ProductEmbedExtension(**kwargs)
