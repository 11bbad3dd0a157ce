"""The invoke tasks a writer uses: new-post, new-product, and a build that never loses the last good site."""

from __future__ import annotations

import pytest
from conftest import ROOT, parse, post, run_build, write_content
from shop_fixtures import PNG
from invoke import Context
from invoke.exceptions import Exit

import tasks


@pytest.fixture
def content_dir(tmp_path, monkeypatch):
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.setattr(tasks, "CONTENT", content)
    monkeypatch.setattr(tasks, "ROOT", tmp_path)
    return content


def test_new_post_writes_a_complete_draft_that_builds(content_dir, tmp_path):
    tasks.new_post(Context(), "Accordare un violino & altre storie")
    written = content_dir / "posts" / "accordare-un-violino-altre-storie.md"
    text = written.read_text(encoding="utf-8")
    for field in ("Title:", "Slug:", "Date:", "Category:", "Tags:", "Summary:", "Lang: it", "Uid:", "Status: draft"):
        assert field in text
    (content_dir / "pages").mkdir()
    (content_dir / "pages" / "chi-siamo.md").write_text("Title: Chi siamo\nSlug: chi-siamo\n\nNoi.\n")
    output = run_build(content_dir, tmp_path / "output")
    draft = parse(output / "bozze" / "accordare-un-violino-altre-storie" / "index.html")
    assert draft.h1.get_text() == "Accordare un violino & altre storie"
    assert not (output / "blog" / "accordare-un-violino-altre-storie").exists()


def test_new_post_refuses_to_overwrite(content_dir):
    tasks.new_post(Context(), "Doppio")
    before = (content_dir / "posts" / "doppio.md").read_text(encoding="utf-8")
    with pytest.raises(Exit, match="already exists"):
        tasks.new_post(Context(), "Doppio")
    assert (content_dir / "posts" / "doppio.md").read_text(encoding="utf-8") == before


def test_new_product_writes_a_complete_file_that_builds_once_published(content_dir, tmp_path):
    tasks.new_product(Context(), "Chitarra acustica Yamaha FG", price="249.00")
    path = content_dir / "products" / "chitarra-acustica-yamaha-fg.md"
    text = path.read_text(encoding="utf-8")
    for field in ("title:", "sku:", "price: \"249.00\"", "currency: EUR", "availability:", "condition:",
                  "images:", "alt:", "uid:", "# sale:", "# variants:"):
        assert field in text
    write_content(content_dir, {"images/products/chitarra-acustica-yamaha-fg.jpg": PNG})
    path.write_text(text.replace("status: draft\n", ""), encoding="utf-8")
    output = run_build(content_dir, tmp_path / "output")
    page = parse(output / "prodotti" / "chitarra-acustica-yamaha-fg" / "index.html")
    assert page.h1.get_text() == "Chitarra acustica Yamaha FG"
    assert page.select_one(".amount")["data-price"] == "249.00"
    with pytest.raises(Exit, match="Price"):
        tasks.new_product(Context(), "Altro", price="12,50")


def test_failed_build_keeps_the_last_good_output(tmp_path):
    content = tmp_path / "content"
    write_content(content, {"posts/a.md": post(title="Versione buona")})
    output = tmp_path / "site"
    assert tasks.build_site(ROOT / "pelicanconf.py", output, content)
    write_content(content, {"posts/a.md": post(title="Versione rotta", image="images/manca.jpg", image_alt="x")})
    assert not tasks.build_site(ROOT / "pelicanconf.py", output, content)
    assert parse(output / "blog" / "una-prova" / "index.html").h1.get_text() == "Versione buona"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".site-")] == []
