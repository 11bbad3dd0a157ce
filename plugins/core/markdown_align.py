"""Aligned table columns as classes: `| --: |` becomes class="align-right" on the cells, not a style attribute.

Python-Markdown's tables extension aligns a column with style="text-align: right;" on each cell, which the
site's Content-Security-Policy (style-src 'self', no inline styles) refuses, and its `use_align_attribute`
option writes the obsolete `align` attribute instead. This treeprocessor moves the alignment into a class,
styled by the theme's stylesheet. It is the only inline style Python-Markdown's own extensions write (the
footnotes, toc, abbr, attr_list and fenced_code extensions add classes, ids and titles only; codehilite,
not enabled, would write styles only with its `noclasses` option).
"""

from __future__ import annotations

from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

ALIGNMENTS = ("left", "center", "right")
CLASS_PREFIX = "align-"


def alignment(style: str) -> str | None:
    """'right' for "text-align: right;" (the whole style, as the tables extension writes it), else None."""
    name, colon, value = style.strip().rstrip(";").partition(":")
    if colon and name.strip().lower() == "text-align" and value.strip().lower() in ALIGNMENTS:
        return value.strip().lower()
    return None


class AlignClassProcessor(Treeprocessor):
    """Turns the text-align style of table cells into an align-* class."""

    def run(self, root):
        for cell in root.iter():
            if cell.tag not in ("th", "td") or "style" not in cell.attrib:
                continue
            aligned = alignment(cell.get("style"))
            if aligned is None:
                continue  # a style written by the author (attr_list) is theirs to keep or remove
            del cell.attrib["style"]
            classes = cell.get("class", "").split()
            cell.set("class", " ".join([*classes, CLASS_PREFIX + aligned]))


class AlignClassExtension(Extension):
    """Registers the treeprocessor; it runs after the blocks (tables) are built."""

    def extendMarkdown(self, md):
        # After the inline patterns (20), before prettify (10) and the serialiser.
        md.treeprocessors.register(AlignClassProcessor(md), "vetrina_align_class", 15)


def makeExtension(**kwargs):
    return AlignClassExtension(**kwargs)
