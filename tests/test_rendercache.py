"""Warm builds keep the pages whose inputs did not change, and the result is the fully rendered site."""

from __future__ import annotations

import dataclasses
import os
import shutil
from pathlib import Path

import pytest
from conftest import ROOT, run_build, tree
from pelican.contents import Article

from core import pagepool, rendercache
from core.rendercache import Canon, RenderCache, Record, item_states

COMMON = {"SHOP_TODAY": "2026-12-01", "COMMENTS_ISSO_BUILD_URL": ""}


def article(body="<p>Testo.</p>", **metadata):
    """A post as the reader leaves it, made without Pelican's signals (the plugins may be connected)."""
    item = Article.__new__(Article)
    metadata = {"title": "Uno", "slug": "uno", **metadata}
    vars(item).update(metadata, _content=body, metadata=metadata, source_path="/c/posts/uno.md", lang="it",
                      settings={}, _context={})
    return item


# --- the key's parts -----------------------------------------------------------------------------------

def test_canon_is_the_same_whatever_the_order_a_dict_was_filled_in():
    assert Canon().text({"b": 1, "a": [1, 2]}) == Canon().text({"a": [1, 2], "b": 1})
    assert Canon().text([1, 2]) != Canon().text([2, 1])


def test_canon_names_an_item_by_its_source_and_remembers_it():
    canon, item = Canon(), article()
    assert canon.text({"post": item}) == "{'post':@Article:/c/posts/uno.md:it}"
    assert list(canon.items.values()) == [item]


def test_canon_sees_into_dataclasses_and_objects_and_never_writes_an_address():
    @dataclasses.dataclass
    class Price:
        amount: str

    class Opaque:
        __slots__ = ()

    assert Canon().text(Price("9.90")) != Canon().text(Price("10.90"))
    assert " at 0x" not in Canon().text(Opaque())


def test_a_body_with_its_own_summary_counts_for_its_page_alone():
    canon = Canon()
    shown, own = item_states(article(summary="Breve."), canon)
    shown_after, own_after = item_states(article("<p>Altro testo.</p>", summary="Breve."), canon)
    assert shown == shown_after and own != own_after


def test_a_body_that_makes_the_summary_counts_for_every_page():
    canon = Canon()
    assert item_states(article(), canon)[0] != item_states(article("<p>Altro testo.</p>"), canon)[0]


def test_related_items_count_for_their_own_page_alone():
    canon, first, second = Canon(), article(summary="Breve."), article(summary="Breve.")
    second.related_posts = [article(slug="due")]
    assert item_states(first, canon)[0] == item_states(second, canon)[0]
    assert item_states(first, canon)[1] != item_states(second, canon)[1]


# --- keeping files ---------------------------------------------------------------------------------------

def cache_with(tmp_path, record: Record, reuse: Path | None = None) -> RenderCache:
    settings = {"CACHE_PATH": str(tmp_path / "cache"), rendercache.REUSE_SETTING: str(reuse) if reuse else None}
    cache = RenderCache(settings, str(tmp_path / "out"))
    cache.last = {"page": record}
    return cache


def record_of(folder: Path, name: str, key: str = "k") -> Record:
    info = (folder / name).stat()
    return Record(key, [(name, info.st_size, info.st_mtime_ns)], {})


def claim_all(names):
    return True


def test_a_page_is_kept_only_with_the_same_key_and_the_file_as_it_was(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.html").write_text("<p>a</p>")
    record = record_of(tmp_path / "out", "a.html")
    assert not cache_with(tmp_path, record).keep("page", "other", claim_all, {})
    assert cache_with(tmp_path, record).keep("page", "k", claim_all, {})
    (tmp_path / "out" / "a.html").write_text("<p>changed by hand</p>")
    assert not cache_with(tmp_path, record).keep("page", "k", claim_all, {})


def test_a_staging_build_links_the_kept_file_from_the_served_folder(tmp_path):
    served = tmp_path / "served"
    (served / "blog").mkdir(parents=True)
    (served / "blog" / "a.html").write_text("<p>a</p>")
    cache = cache_with(tmp_path, record_of(served, "blog/a.html"), reuse=served)
    assert cache.keep("page", "k", claim_all, {})
    kept = tmp_path / "out" / "blog" / "a.html"
    assert kept.read_text() == "<p>a</p>" and kept.stat().st_ino == (served / "blog" / "a.html").stat().st_ino


def test_a_kept_page_gives_again_what_its_render_left_behind(tmp_path, monkeypatch):
    monkeypatch.setitem(rendercache.EFFECTS, "test entries", rendercache.Effect(
        lambda context: len(context["entries"]), lambda context, mark: context["entries"][mark:],
        lambda context, entries: context["entries"].extend(entries)))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "a.html").write_text("<p>a</p>")
    record = record_of(tmp_path / "out", "a.html")
    record.effects = {"test entries": ["/a/"]}
    context = {"entries": []}
    assert cache_with(tmp_path, record).keep("page", "k", claim_all, context)
    assert context["entries"] == ["/a/"]


# --- whole builds -----------------------------------------------------------------------------------------

def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} lacks {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append_sentence(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n\nUna frase aggiunta in fondo.\n",
                    encoding="utf-8")


def mtimes(folder: Path) -> dict[str, int]:
    return {p.relative_to(folder).as_posix(): p.stat().st_mtime_ns for p in folder.rglob("*.html")}


EDITS = {
    "a sentence at the end of a post": lambda c: append_sentence(c / "posts" / "umidita-strumenti-legno.md"),
    "a post's title": lambda c: edit(c / "posts" / "cambiare-corde-acustica.md", "Title: ", "Title: Guida: "),
    "a product's price": lambda c: edit(c / "products" / "accordatore-a-pinza.md", 'price: "14.90"',
                                        'price: "12.90"'),
    "a sentence in a translated page saved by its own save_as": lambda c: append_sentence(c / "pages" / "recesso-en.md"),
}


@pytest.mark.parametrize("change", list(EDITS))
def test_a_warm_build_after_an_edit_is_the_fully_rendered_build_byte_for_byte(tmp_path, monkeypatch, change):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    warm = run_build(content, tmp_path / "warm", "publishconf.py", **COMMON)
    before = mtimes(warm)
    EDITS[change](content)
    run_build(content, warm, "publishconf.py", **COMMON)
    monkeypatch.setenv(rendercache.RENDER_ALL_VARIABLE, "1")
    full = tree(run_build(content, tmp_path / "full", "publishconf.py", **COMMON))
    built = tree(warm)
    assert sorted(built) == sorted(full)
    assert [name for name in full if built[name] != full[name]] == []
    after = mtimes(warm)
    rendered = sorted(name for name in after if after[name] != before.get(name))
    assert rendered, "the edited page was rendered again"
    if change == "a sentence in a translated page saved by its own save_as":
        assert "en/withdrawal/index.html" in rendered and "recesso/index.html" not in rendered
    if change == "a sentence at the end of a post":
        assert "blog/umidita-strumenti-legno/index.html" in rendered
        assert len(rendered) < len(after) / 4  # the post, and the few pages that list it among theirs


def test_without_an_edit_every_page_is_kept_and_every_render_all_build_renders_them(tmp_path, monkeypatch):
    out = run_build(ROOT / "content", tmp_path / "out", "publishconf.py", **COMMON)
    first = mtimes(out)
    run_build(ROOT / "content", out, "publishconf.py", **COMMON)
    again = mtimes(out)
    assert [name for name in first if again[name] != first[name]] == []  # translated pages, saved by override, too
    monkeypatch.setenv(rendercache.RENDER_ALL_VARIABLE, "1")
    run_build(ROOT / "content", out, "publishconf.py", **COMMON)
    again = mtimes(out)
    assert all(again[name] != first[name] for name in first)
    assert os.path.exists(out / "sitemap.xml")


def test_the_site_counts_the_versions_of_what_renders_the_pages():
    from importlib import metadata

    assert f"jinja2={metadata.version('jinja2')}" in rendercache._versions(rendercache.RENDERING_PACKAGES)
    assert rendercache._versions(("no-such-package-here",)) == "no-such-package-here=none"


def test_the_site_s_digest_from_forks_is_the_digest_of_one_process(tmp_path, monkeypatch):
    """Items digested by forks, among them one naming an item met nowhere else (a translation)."""
    from pelican.settings import read_settings

    settings = read_settings(str(ROOT / "pelicanconf.py"), override={"PATH": str(tmp_path), "THEME": str(ROOT / "theme"),
                                                                      "SITE_WORKERS": 2, **COMMON})
    posts = []
    for n in range(40):
        post = article(f"<p>Testo {n}.</p>", slug=f"p{n}", tags=[f"t{n % 3}"])
        post.source_path = f"/c/posts/p{n}.md"
        posts.append(post)
    hidden = article("<p>In English.</p>", slug="en")
    hidden.source_path, hidden.lang = "/c/posts/en.md", "en"
    posts[7].translations = [hidden]

    monkeypatch.setattr(pagepool, "REGISTERS", {})  # no build's context here for the plugins' registers
    forks = []
    original = pagepool._start
    monkeypatch.setattr(pagepool, "_start", lambda work, context: forks.append(1) or original(work, context))

    def site(least: int):
        monkeypatch.setattr(rendercache, "MIN_FORKED_STATES", least)
        return rendercache.Site(settings, {"articles": posts})

    alone = site(10 ** 6)
    assert forks == []
    forked = site(1)
    assert forks and forked.digest == alone.digest
    assert set(forked.canon.items) == set(alone.canon.items) and id(hidden) in forked.canon.items
    assert forked.states == alone.states
    hidden.title = "Changed"  # what the translation shows counts in the digest, from whichever process
    assert site(1).digest != alone.digest
