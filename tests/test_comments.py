"""Comment sections without a browser: sanitising, the record used when Isso is down, per-item switches, settings."""

from __future__ import annotations

import json

import pytest
from conftest import parse, post
from shop_fixtures import catalogue

from comments import isso
from comments.server import free_port
from comments.settings import CommentsConfigurationError




def test_comment_html_is_sanitised_again_on_our_side():
    comment = isso.to_comment({"id": 3, "author": "A", "website": "javascript:alert(1)", "created": 1795338095,
                               "text": '<p onclick="x()">Ciao <script>alert(1)</script><a href="javascript:x">y</a>'
                                       '<a href="https://example.org">link</a><img src=x onerror=y></p>'})
    assert "<script" not in comment.html and "onclick" not in comment.html and "<img" not in comment.html
    assert "javascript:" not in comment.html
    assert '<a href="https://example.org" rel="nofollow ugc noopener">link</a>' in comment.html
    assert comment.website == "" and comment.created.startswith("2026-11-22T")


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


THREADS = {"/blog/una-prova/": [
    {"id": 7, "author": "Cliente di Modena", "website": "", "created": "2026-11-20T10:00:00+00:00",
     "html": "<p>Utile, grazie.</p>", "replies": [
         {"id": 8, "author": "Corde & Legni", "website": "", "created": "2026-11-20T11:00:00+00:00",
          "html": "<p>Grazie a te!</p>", "replies": []}]}]}


def record_path(cache, build_url: str):
    """Where a build reading the Isso at build_url keeps its record."""
    from comments.settings import DEFAULTS, CommentsSettings

    return CommentsSettings.from_settings({**DEFAULTS, "CACHE_PATH": str(cache),
                                           "COMMENTS_ISSO_BUILD_URL": build_url}).record_path


def test_comments_are_rendered_from_the_record_when_isso_is_down(build_site, tmp_path):
    cache = tmp_path / "cache"
    url = closed_url()
    path = record_path(cache, url)
    path.parent.mkdir()
    path.write_text(json.dumps({"format": "vetrina-comments", "version": 1, "threads": THREADS}), encoding="utf-8")
    output = build_site({"posts/a.md": post()}, allowed=("Isso is unreachable",), CACHE_PATH=str(cache),
                        COMMENTS_ISSO_URL=url, COMMENTS_ISSO_BUILD_URL=url)
    thread = parse(output / "blog" / "una-prova" / "index.html").select_one("#isso-thread")
    assert thread["data-isso-id"] == "/blog/una-prova/" and thread["data-title"] == "Una prova"
    comments = thread.select(".comment")
    # Not Isso's own isso-N: the widget's comments carry those ids once it has rendered.
    assert [c["id"] for c in comments] == ["comment-7", "comment-8"] and not thread.select("[id^=isso-]")
    assert comments[1].find_parent("li", class_="comment")["id"] == "comment-7"  # the reply is nested
    assert thread.select_one(".comment-text").get_text(strip=True) == "Utile, grazie."
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert [c["id"] for c in saved["threads"]["/blog/una-prova/"]] == [7]


@pytest.mark.parametrize("name, document", [("comments.json", {"format": "vetrina-comments", "version": 1,
                                                                "threads": THREADS}),
                                             ("comments-cache.json", THREADS)])
def test_a_record_of_an_earlier_version_shared_by_every_isso_is_not_used(build_site, tmp_path, name, document):
    """It may hold the comments of another Isso (development and production shared it): nothing is taken from it."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / name).write_text(json.dumps(document), encoding="utf-8")
    url = closed_url()
    output = build_site({"posts/a.md": post()}, allowed=("Isso is unreachable",), CACHE_PATH=str(cache),
                        COMMENTS_ISSO_URL=url, COMMENTS_ISSO_BUILD_URL=url)
    assert parse(output / "blog" / "una-prova" / "index.html").select(".comment") == []
    assert json.loads((cache / name).read_text(encoding="utf-8")) == document  # left alone
    assert not record_path(cache, url).exists()


def test_built_comment_anchors_are_unique_when_a_kept_record_holds_a_reused_number(build_site, tmp_path):
    """A mass loss keeps the published comments beside a new database's, which numbers from 1 again."""
    from comments import store
    from comments.isso import Comment
    from comments.settings import DEFAULTS, CommentsSettings

    config = CommentsSettings.from_settings({**DEFAULTS, "CACHE_PATH": str(tmp_path / "cache"),
                                             "COMMENTS_ISSO_BUILD_URL": closed_url()})
    old, new = (Comment(1, name, "", created, f"<p>{name}</p>") for name, created in
                (("Prima", "2026-11-20T10:00:00+00:00"), ("Nuova", "2027-01-05T10:00:00+00:00")))
    store.save(config.record_path, {"/blog/una-prova/": [old, new]}, config.instance)
    output = build_site({"posts/a.md": post()}, allowed=("Isso is unreachable",), CACHE_PATH=str(tmp_path / "cache"),
                        COMMENTS_ISSO_URL=config.isso_build_url, COMMENTS_ISSO_BUILD_URL=config.isso_build_url)
    comments = parse(output / "blog" / "una-prova" / "index.html").select("#isso-thread .comment")
    assert [c.get("id") for c in comments] == ["comment-1", None]


def test_comments_can_be_turned_off_per_item_and_are_off_for_drafts(build_site):
    output = build_site({**catalogue(), "posts/a.md": post(comments="no"),
                         "posts/b.md": post(title="Bozza", slug="bozza", status="draft"),
                         "posts/c.md": post(title="Aperto", slug="aperto")},
                        SHOP_TODAY="2026-11-22", COMMENTS_ON_PRODUCTS=False)
    assert parse(output / "blog" / "una-prova" / "index.html").find(id="comments") is None
    assert parse(output / "bozze" / "bozza" / "index.html").find(id="comments") is None
    assert parse(output / "blog" / "aperto" / "index.html").find(id="comments")
    assert parse(output / "prodotti" / "basso" / "index.html").find(id="comments") is None


def test_products_have_comments_when_enabled(build_site):
    output = build_site(catalogue(), SHOP_TODAY="2026-11-22")
    section = parse(output / "prodotti" / "basso" / "index.html").find(id="comments")
    assert section.select_one("#isso-thread")["data-isso-id"] == "/prodotti/basso/"


def test_no_provider_means_no_section_and_no_script(build_site):
    output = build_site({"posts/a.md": post()}, COMMENTS_PROVIDER="none")
    page = parse(output / "blog" / "una-prova" / "index.html")
    assert page.find(id="comments") is None
    assert [s["src"] for s in page.find_all("script", src=True)] == ["/theme/js/cart-badge.js"]  # the cart's, only


@pytest.mark.parametrize("settings, message", [
    ({"COMMENTS_PROVIDER": "facebook"}, "COMMENTS_PROVIDER"),
    ({"COMMENTS_PROVIDER": "giscus", "COMMENTS_GISCUS": {"repo": "a/b"}}, "repo_id"),
    ({"COMMENTS_PROVIDER": "disqus"}, "COMMENTS_DISQUS_SHORTNAME"),
    ({"COMMENTS_ISSO_URL": "commenti.example"}, "COMMENTS_ISSO_URL"),
    ({"COMMENTS_MAX_LOSS": 1.5}, "COMMENTS_MAX_LOSS 1.5: use a share between 0 and 1"),
    ({"COMMENTS_MAX_LOSS": "0.5"}, "COMMENTS_MAX_LOSS"),
    ({"COMMENTS_MIN_LOSS": -1}, "COMMENTS_MIN_LOSS -1: use a whole number of comments"),
    ({"COMMENTS_MIN_LOSS": 2.5}, "COMMENTS_MIN_LOSS"),
    ({"COMMENTS_MIN_LOSS": True}, "COMMENTS_MIN_LOSS"),
    ({"COMMENTS_RECORD_PATH": ""}, "COMMENTS_RECORD_PATH"),
    ({"COMMENTS_RECORD_PUBLISH": "../fuori.json"}, "COMMENTS_RECORD_PUBLISH"),
    ({"COMMENTS_RECORD_URL": "www.example.it/comments.json"}, "COMMENTS_RECORD_URL"),
    ({"COMMENTS_CACHE_FILE": "comments-cache.json"}, "COMMENTS_CACHE_FILE is now COMMENTS_RECORD_PATH"),
])
def test_comment_settings_are_validated_at_start(build_site, settings, message):
    with pytest.raises(CommentsConfigurationError, match=message):
        build_site({"posts/a.md": post()}, **settings)


def test_the_accept_loss_variable_is_validated_at_start(build_site, monkeypatch):
    monkeypatch.setenv("VETRINA_COMMENTS_ACCEPT_LOSS", "forse")
    with pytest.raises(CommentsConfigurationError, match="VETRINA_COMMENTS_ACCEPT_LOSS 'forse': use 1"):
        build_site({"posts/a.md": post()})


def test_record_settings_resolve_paths_and_the_published_copy(tmp_path, monkeypatch):
    from comments.settings import DEFAULTS, CommentsSettings

    def config(**settings):
        return CommentsSettings.from_settings({**DEFAULTS, "CACHE_PATH": str(tmp_path), **settings})

    monkeypatch.delenv("VETRINA_COMMENTS_RECORD_URL", raising=False)
    monkeypatch.delenv("VETRINA_COMMENTS_ACCEPT_LOSS", raising=False)
    monkeypatch.delenv("VETRINA_ISSO_BUILD_URL", raising=False)
    # One record per Isso: the build URL's short hash in the name (and in the record), never the address itself.
    dev, prod = config(), config(COMMENTS_ISSO_BUILD_URL="https://www.example.it/isso/")
    assert dev.record_path.parent == prod.record_path.parent == tmp_path and dev.record_path != prod.record_path
    assert dev.record_path.name == f"comments-{dev.instance}.json" and len(dev.instance) == 12
    assert prod.instance == config(COMMENTS_ISSO_BUILD_URL="https://www.example.it/isso").instance
    assert config(COMMENTS_ISSO_BUILD_URL="").record_path == tmp_path / "comments.json"  # no Isso read, no record
    assert dev.earlier_records == (tmp_path / "comments.json", tmp_path / "comments-cache.json")
    assert dev.record_url == "" and dev.min_loss == 10
    absolute = "/srv/negozio/commenti.json"
    assert config(COMMENTS_RECORD_PATH=absolute).record_path.as_posix() == f"/srv/negozio/commenti-{dev.instance}.json"
    assert config(SITEURL="https://www.example.it/").record_url == "https://www.example.it/comments.json"
    assert config(SITEURL="https://www.example.it", COMMENTS_RECORD_PUBLISH="").record_url == ""
    assert config(SITEURL="https://www.example.it", COMMENTS_RECORD_URL="").record_url == ""
    monkeypatch.setenv("VETRINA_COMMENTS_RECORD_URL", "https://copia.example.it/comments.json")
    assert config(SITEURL="https://www.example.it").record_url == "https://copia.example.it/comments.json"
    assert config().accept_loss is False and config(COMMENTS_ACCEPT_LOSS=True).accept_loss is True
    monkeypatch.setenv("VETRINA_COMMENTS_ACCEPT_LOSS", "1")
    assert config().accept_loss is True
