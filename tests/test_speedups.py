"""The shortcuts of core.speedups give exactly the results of the code they shorten."""

from __future__ import annotations

import os
import random
from types import SimpleNamespace

import markdown
from conftest import ROOT
from markdown.extensions import smarty
from markdown.treeprocessors import InlineProcessor
from pelican.settings import read_settings

from core import speedups

PIECES = list("ab '\"-.<>*_`[]()!&;\n 12s") + ["--", "---", "....", "&nbsp;", "'80s", "**", "\u2013", "<<", ">>"]


def _texts() -> list[str]:
    texts = [path.read_text(encoding="utf-8") for path in sorted((ROOT / "content").rglob("*.md"))]
    texts += ["L'ordine dell'anno '90: \"l'ho detto\" -- e poi... 'fine'. Un 'esempio' \"doppio\"."]
    chance = random.Random(11)
    texts += ["".join(chance.choice(PIECES) for _ in range(chance.randint(1, 60))) for _ in range(1500)]
    return texts


def _converted(processor_class, texts: list[str], angled: bool) -> list[str]:
    settings = read_settings(str(ROOT / "pelicanconf.py"))["MARKDOWN"]
    configs = {**settings["extension_configs"], "markdown.extensions.smarty": {"smart_angled_quotes": angled}}
    stock = smarty.InlineProcessor
    smarty.InlineProcessor = processor_class
    try:
        converter = markdown.Markdown(extensions=list(configs), extension_configs=configs, output_format="html")
    finally:
        smarty.InlineProcessor = stock
    out = []
    for text in texts:
        converter.reset()
        out.append(converter.convert(text))
    return out


def test_smart_quotes_skipping_patterns_give_python_markdowns_html(tmp_path):
    texts = _texts()
    fast = speedups.smarty_processor_class()
    for angled in (False, True):
        assert _converted(fast, texts, angled) == _converted(InlineProcessor, texts, angled)


def test_every_smarty_pattern_has_its_needed_sequence_known():
    converter = markdown.Markdown(extensions=["markdown.extensions.smarty"],
                                  extension_configs={"markdown.extensions.smarty": {"smart_angled_quotes": True}})
    patterns = converter.treeprocessors["smarty"].inlinePatterns
    literals = speedups._smarty_literals()
    assert [p.compiled_re.pattern for p in patterns if p.compiled_re.pattern not in literals] == []


def test_relative_source_paths_are_pelicans(tmp_path):
    settings = {**read_settings(None), "PATH": str(tmp_path / "content")}
    cases = [str(tmp_path / "content/posts/a.md"), "posts/b.md", str(tmp_path / "altrove/c.md")]
    for source in cases:
        article = SimpleNamespace(settings=settings, source_path=source)  # what the method reads of a content
        assert speedups.get_relative_source_path(article) == speedups._original(article)
        assert speedups.get_relative_source_path(article, "pages/d.md") == speedups._original(article, "pages/d.md")
    assert os.getcwd()
