"""An import session: stable Uids and files, the owner's edits kept, a killed run resumed, one run at a time."""

from __future__ import annotations

import json

import pytest

from importers.report import Report
from importers.session import ImportError_, ImportSession
from importers.slugs import decode_slug, safe_slug
from importers.uploads import Uploads, originals

SETTINGS = {"DEFAULT_LANG": "it", "ARTICLE_URL": "blog/{slug}/", "ARTICLE_LANG_URL": "{lang}/blog/{slug}/",
            "TAG_URL": "blog/tag/{slug}/", "SLUG_REGEX_SUBSTITUTIONS": [(r"[^\w\s-]", ""), (r"(?u)\A\s*", ""),
                                                                          (r"(?u)\s*\Z", ""), (r"[-\s]+", "-")],
            "NEWSLETTER_STATE_FILE": "newsletter/sent.json"}


def session(shop, force=False):
    return ImportSession(shop, "wordpress", SETTINGS, Report("test", stream=open("/dev/null", "w")), force=force)


def test_a_second_import_writes_the_same_files_and_changes_nothing(tmp_path):
    with session(tmp_path) as first:
        uid = first.uid("post:1")
        path = first.path_for("post:1", "content/posts/ciao.md")
        assert first.write_text("post:1", path, f"Uid: {uid}\n\nCiao\n", "posts").status == "new"
    with session(tmp_path) as second:
        assert second.uid("post:1") == uid and second.path_for("post:1", "content/posts/altro.md") == path
        assert second.write_text("post:1", path, f"Uid: {uid}\n\nCiao\n", "posts").status == "unchanged"
    assert second.report.counts["posts", "unchanged"] == 1


def test_a_file_the_owner_edited_is_kept_unless_forced(tmp_path):
    with session(tmp_path) as first:
        first.write_text("post:1", "content/posts/ciao.md", "Ciao\n", "posts")
    (tmp_path / "content/posts/ciao.md").write_text("Ciao, riscritto a mano\n", encoding="utf-8")
    with session(tmp_path) as again:
        assert again.write_text("post:1", "content/posts/ciao.md", "Ciao nuovo\n", "posts").status == "kept"
    assert (tmp_path / "content/posts/ciao.md").read_text(encoding="utf-8") == "Ciao, riscritto a mano\n"
    with session(tmp_path, force=True) as forced:
        assert forced.write_text("post:1", "content/posts/ciao.md", "Ciao nuovo\n", "posts").status == "updated"


def test_two_items_with_one_slug_get_two_files_and_a_file_not_ours_is_never_taken(tmp_path):
    (tmp_path / "content/posts").mkdir(parents=True)
    (tmp_path / "content/posts/ciao.md").write_text("Il mio post\n", encoding="utf-8")
    with session(tmp_path) as run:
        first = run.path_for("post:1", "content/posts/ciao.md")
        second = run.path_for("post:2", "content/posts/ciao.md")
    assert (first, second) == ("content/posts/ciao-2.md", "content/posts/ciao-3.md")


def test_a_killed_import_is_resumed_from_its_journal(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with session(tmp_path) as run:
            run.write_text("post:1", "content/posts/uno.md", f"Uid: {run.uid('post:1')}\n", "posts")
            run._journal.flush()
            (tmp_path / "imports" / "wordpress.json").unlink(missing_ok=True)
            raise KeyboardInterrupt
    # Even with the manifest lost, the file carries the item's Uid: the next run takes it as its own.
    (tmp_path / "imports" / "wordpress.json").unlink()
    with session(tmp_path) as again:
        assert again.path_for("post:1", "content/posts/uno.md") == "content/posts/uno.md"
        assert again.write_text("post:1", "content/posts/uno.md", f"Uid: {again.uid('post:1')}\n",
                                "posts").status == "unchanged"
    assert sorted(p.name for p in (tmp_path / "content/posts").iterdir()) == ["uno.md"]


def test_only_one_import_runs_at_a_time(tmp_path):
    with session(tmp_path):
        with pytest.raises(ImportError_, match="another import"):
            with session(tmp_path):
                pass


def test_redirects_and_announced_posts_are_written_for_the_build_and_the_newsletter(tmp_path):
    with session(tmp_path) as run:
        run.redirect("https://vecchio.example/2020/01/%ce%ba%ce%b1/", run.url("article", "κα"))
        run.redirect("https://vecchio.example/?p=7", run.url("article", "ciao"))
        run.announce("urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427")
    lines = (tmp_path / "redirects" / "wordpress.txt").read_text(encoding="utf-8").splitlines()
    assert "/2020/01/%CE%BA%CE%B1/ /blog/%CE%BA%CE%B1/" in lines and "/?p=7 /blog/ciao/" in lines
    state = json.loads((tmp_path / "newsletter" / "sent.json").read_text(encoding="utf-8"))
    assert state["announced"] == ["urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427"]
    from newsletter.state import sent_guids
    assert "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427" in sent_guids(state)


@pytest.mark.parametrize("raw, slug", [("%ce%ba%ce%b1%ce%bb%ce%b7%ce%bc%ce%ad%cf%81%ce%b1", "καλημέρα"),
                                       ("%d0%bf%d1%80%d0%b8%d0%b2%d0%b5%d1%82-%d0%bc%d0%b8%d1%80", "привет-мир"),
                                       ("Hello%20World!!", "hello-world"), ("", "")])
def test_slugs_are_decoded_to_readable_unicode(raw, slug):
    assert decode_slug(raw) == slug


def test_a_long_slug_is_cut_at_a_dash():
    slug = safe_slug("parola " * 40)
    assert len(slug) <= 80 and not slug.endswith("-") and slug.startswith("parola-parola")


def test_uploads_are_found_by_path_then_by_name_and_resized_names_give_the_original(tmp_path):
    (tmp_path / "2020/01").mkdir(parents=True)
    (tmp_path / "2020/01/foto.jpg").write_bytes(b"x")
    (tmp_path / "2020/01/foto-300x200.jpg").write_bytes(b"y")
    (tmp_path / "2021/02").mkdir(parents=True)
    (tmp_path / "2021/02/altra.png").write_bytes(b"z")
    uploads = Uploads(tmp_path)
    assert uploads.find("https://x.it/wp-content/uploads/2020/01/foto-300x200.jpg") == tmp_path / "2020/01/foto.jpg"
    assert uploads.find("https://cdn.x.it/media/altra-scaled.png") == tmp_path / "2021/02/altra.png"
    assert uploads.find("https://x.it/wp-content/uploads/2020/01/manca.jpg") is None
    assert originals("a-1024x768-scaled.jpg") == ["a-1024x768-scaled.jpg", "a-1024x768.jpg", "a.jpg"]
