"""A card rendered once, with slots, is the card the template renders with each page's own values."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from jinja2 import DictLoader, Environment

from core.rendering import card_memo

CARDS = """
{% macro card(item, heading="h2", eager=False) -%}
{{ memo(_card, item, heading=heading, loading=loading(eager)) }}
{%- endmacro %}
{% macro _card(item, heading, loading) -%}
<article><img src="{{ item.src }}"{{ loading }}><{{ heading }}>{{ item.title }}</{{ heading }}>{{ counted() }}</article>
{%- endmacro %}
{% macro plain(item, heading="h2", eager=False) -%}
<article><img src="{{ item.src }}"{{ loading(eager) }}><{{ heading }}>{{ item.title }}</{{ heading }}>{{ counted() }}</article>
{%- endmacro %}
{% macro loading(eager) %}{% if not eager %} loading="lazy"{% endif %}{% endmacro %}
{% macro shouted(item, heading="h2") -%}
{{ memo(_shouted, item, heading=heading) }}
{%- endmacro %}
{% macro _shouted(item, heading) %}<{{ heading|upper }}>{{ item.title }}</{{ heading|upper }}>{{ counted() }}{% endmacro %}
"""
PAGE = """{% from "cards.html" import card, plain, shouted with context %}
{% for heading, eager in uses %}{{ card(article, heading, eager) }}|{{ plain(article, heading, eager) }}
{% endfor %}{% for heading in shouted_as %}{{ shouted(article, heading) }}
{% endfor %}"""


def environment(autoescape: bool):
    renders = []
    env = Environment(loader=DictLoader({"cards.html": CARDS, "page.html": PAGE}), autoescape=autoescape,
                      trim_blocks=True, lstrip_blocks=True)
    env.globals.update(memo=card_memo("it"), counted=lambda: renders.append(1) or "")
    return env, renders


@pytest.mark.parametrize("autoescape", [True, False])
def test_a_card_is_rendered_once_and_each_use_is_the_template_s_own(autoescape):
    env, renders = environment(autoescape)
    item = SimpleNamespace(title="Tè & <biscotti>", src="/a.jpg?x=1&y=2", lang="it")
    uses = [("h2", True), ("h3", False), ("h2", False), ("h3", True)]
    lines = env.get_template("page.html").render(article=item, uses=uses, shouted_as=[]).splitlines()
    assert len(lines) == 4
    for line in lines:
        memoised, direct = line.split("|")
        assert memoised == direct
    assert lines[1].split("|")[0] == ('<article><img src="/a.jpg?x=1&amp;y=2" loading="lazy"><h3>Tè &amp; &lt;biscotti&gt;'
                                      '</h3></article>' if autoescape else
                                      '<article><img src="/a.jpg?x=1&y=2" loading="lazy"><h3>Tè & <biscotti></h3></article>')
    assert len(renders) == 1 + len(uses)  # the card once, the plain macro on each use


def test_a_card_whose_slot_a_filter_changed_is_rendered_with_each_page_s_values():
    env, renders = environment(True)
    item = SimpleNamespace(title="Olio", src="/o.jpg", lang="it")
    out = env.get_template("page.html").render(article=item, uses=[], shouted_as=["h2", "h3", "h2"]).splitlines()
    assert out == ["<H2>Olio</H2>", "<H3>Olio</H3>", "<H2>Olio</H2>"]
    assert len(renders) == 4  # the try with marks, then each use rendered with its own values


def test_another_item_or_language_is_another_card():
    env, renders = environment(True)
    page = env.get_template("page.html")
    olio, vino = SimpleNamespace(title="Olio", src="/o.jpg", lang="it"), SimpleNamespace(title="Vino", src="/v.jpg",
                                                                                          lang="it")
    assert "Olio" in page.render(article=olio, uses=[("h2", False)], shouted_as=[]).split("|")[0]
    assert "Vino" in page.render(article=vino, uses=[("h2", False)], shouted_as=[]).split("|")[0]
    olio.lang = "en"  # a page in another language shows its own rendering of the card
    assert "Olio" in page.render(article=olio, uses=[("h2", False)], shouted_as=[]).split("|")[0]
    assert len(renders) == 3 + 3
