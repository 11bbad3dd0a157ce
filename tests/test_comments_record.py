"""The record of published comments against a real Isso on 127.0.0.1: faults injected for real, outputs counted."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import urllib.request
from contextlib import ExitStack

import pytest
from conftest import parse, post

from comments import record as record_format
from comments import store
from comments.server import post_comment
from servers import free_port, running_isso, serving

A, B = "/blog/una-prova/", "/blog/seconda/"
CONTENT = {"posts/a.md": post(), "posts/b.md": post(title="Seconda prova", slug="seconda")}
RECORDED = [(A, 1, "Cliente di Modena", "Utile, grazie."), (A, 2, "Corde & Legni", "Grazie a te!"),
            (B, 3, "Lettrice di Bari", "Ottima guida."), (B, 4, "Cliente di Torino", "Chiaro e completo.")]


@pytest.fixture
def start_isso(tmp_path):
    """start_isso(name) -> URL of a new Isso with its own empty database (moderation off); all stopped at the end."""
    def start(name: str = "isso") -> str:
        url, _, _ = servers.enter_context(
            running_isso(tmp_path / name, "http://127.0.0.1:8000", moderated=False, guarded=False))
        return url

    with ExitStack() as servers:
        yield start


def add_comment(isso_url: str, uri: str, author: str, text: str) -> tuple[int, str]:
    """A comment posted as a visitor would; (its id, the cookie that lets its author delete it)."""
    posted = post_comment(isso_url, uri, author, text)
    assert posted.status == 201
    return posted.comment["id"], posted.cookie


def delete_comment(isso_url: str, comment_id: int, cookie: str) -> None:
    request = urllib.request.Request(f"{isso_url}/id/{comment_id}", method="DELETE",
                                     headers={"Content-Type": "application/json", "Cookie": cookie})
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def record_text(threads: dict) -> str:
    """A record file as a build writes it, for the comments in threads ({uri: [(id, author, text)]})."""
    return json.dumps({"format": "vetrina-comments", "version": 1, "threads": {
        uri: [{"id": cid, "author": author, "website": "", "created": f"2026-11-{cid:02d}T10:00:00+00:00",
               "html": f"<p>{text}</p>", "replies": []} for cid, author, text in comments]
        for uri, comments in threads.items()}})


def full_record() -> str:
    threads = {A: [], B: []}
    for uri, cid, author, text in RECORDED:
        threads[uri].append((cid, author, text))
    return record_text(threads)


def page_comments(output, uri: str) -> list[str]:
    """The comment texts in a built page's static HTML."""
    thread = parse(output / uri.strip("/") / "index.html").select_one("#isso-thread")
    return [c.get_text(strip=True) for c in thread.select(".comment-text")]


def record_ids(path) -> dict:
    threads = json.loads(path.read_text(encoding="utf-8"))["threads"]
    return {uri: [c["id"] for c in comments] for uri, comments in threads.items()}


def record_of(tmp_path, isso_url: str):
    """The record a build of the tiny site keeps for the Isso at isso_url (one per Isso)."""
    from comments.settings import DEFAULTS, CommentsSettings

    return CommentsSettings.from_settings({**DEFAULTS, "CACHE_PATH": str(tmp_path / "cache"),
                                           "COMMENTS_ISSO_BUILD_URL": isso_url}).record_path


def write_record(tmp_path, isso_url: str, text: str | bytes):
    path = record_of(tmp_path, isso_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


@pytest.fixture
def build(build_site, tmp_path):
    """build(isso_url, allowed=(), content=CONTENT, **settings): the tiny site built with comments from isso_url."""

    def run(isso_url: str, allowed=(), content=CONTENT, **settings):
        return build_site(content, allowed=allowed, CACHE_PATH=str(tmp_path / "cache"), COMMENTS_ISSO_URL=isso_url,
                          COMMENTS_ISSO_BUILD_URL=isso_url, **settings)

    return run


def warnings():
    from conftest import run_build

    return run_build.last_messages


@pytest.fixture
def failing(caplog):
    """failing(): the messages of the last build that fail it under the real runner (not notices)."""
    from core.runner import fails_the_build

    caplog.set_level(logging.WARNING)

    def messages():
        found = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and fails_the_build(r)]
        caplog.clear()
        return found

    return messages


def closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_empty_isso_with_a_full_record_keeps_the_comments_takes_new_ones_and_warns_with_counts(tmp_path,
                                                                                              start_isso, build):
    isso_url = start_isso()
    record = write_record(tmp_path, isso_url, full_record())
    add_comment(isso_url, B, "Nuovo lettore", "Arrivato dopo il trasloco.")  # the new database's first comment
    output = build(isso_url, allowed=("apparent mass loss",), COMMENTS_MIN_LOSS=4)
    assert page_comments(output, A) == ["Utile, grazie.", "Grazie a te!"]
    assert page_comments(output, B) == ["Ottima guida.", "Chiaro e completo.", "Arrivato dopo il trasloco."]
    assert record_ids(record) == {A: [1, 2], B: [3, 4, 1]}  # Isso's new comment 1 is not the record's 1
    assert record_ids(output / "comments.json") == {A: [1, 2], B: [3, 4, 1]}  # the published copy too
    [message] = warnings()
    assert "before 4, fetched 1, kept 5" in message and "the 1 new comments Isso returned" in message
    assert "dbpath" in message and "server move" in message and "VETRINA_COMMENTS_ACCEPT_LOSS=1" in message
    assert "COMMENTS_MIN_LOSS = 4" in message
    assert not store.deletion_log(record).exists()


def test_a_smaller_deletion_is_applied_and_its_id_logged(tmp_path, start_isso, build):
    isso_url = start_isso()
    posted = {text: add_comment(isso_url, uri, author, text) for uri, _, author, text in RECORDED}
    output = build(isso_url)
    assert page_comments(output, A) == ["Utile, grazie.", "Grazie a te!"] and len(page_comments(output, B)) == 2
    record = record_of(tmp_path, isso_url)
    ids = record_ids(record)
    assert sum(len(v) for v in ids.values()) == 4

    removed_id, cookie = posted["Ottima guida."]  # an erasure request for one comment
    delete_comment(isso_url, removed_id, cookie)
    output = build(isso_url, allowed=("no longer in Isso",))
    assert page_comments(output, B) == ["Chiaro e completo."] and len(page_comments(output, A)) == 2
    assert removed_id not in record_ids(record)[B] and len(record_ids(record)[B]) == 1
    [message] = warnings()
    log = store.deletion_log(record)
    assert f"comment {removed_id} on {B}" in message and log.name in message
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [(e["uri"], e["id"]) for e in entries] == [(B, removed_id)]

    build(isso_url)  # the next build has nothing more to remove
    assert warnings() == [] and len(log.read_text(encoding="utf-8").splitlines()) == 1


def test_moderation_removing_most_comments_of_a_small_site_is_applied(tmp_path, start_isso, build):
    """Two of three, then the last one: below COMMENTS_MIN_LOSS that is moderation, not a mass loss."""
    isso_url = start_isso()
    posted = [add_comment(isso_url, uri, author, text) for uri, _, author, text in RECORDED[:3]]
    build(isso_url)
    for comment_id, cookie in posted[:2]:
        delete_comment(isso_url, comment_id, cookie)
    output = build(isso_url, allowed=("no longer in Isso",))
    assert page_comments(output, A) == [] and page_comments(output, B) == ["Ottima guida."]
    assert len(warnings()) == 2 and not any("mass loss" in message for message in warnings())
    delete_comment(isso_url, *posted[2])
    output = build(isso_url, allowed=("no longer in Isso", "returned no comments at all"))
    assert page_comments(output, B) == [] and record_ids(output / "comments.json") == {A: [], B: []}
    [emptied] = [message for message in warnings() if "returned no comments at all" in message]
    [removed] = [message for message in warnings() if "no longer in Isso" in message]
    assert f"comment {posted[2][0]} on {B}" in removed
    assert "fewer than COMMENTS_MIN_LOSS = 10" in emptied and "put it back" in emptied


@pytest.mark.parametrize("garbage", [b'{"/blog/una-prova/": [{"id": 1,', b'{"/blog/una-prova/": "non una lista"}',
                                     b"\x00\xff garbage", b"[]"])
def test_a_corrupt_record_is_moved_aside_and_named_and_the_build_goes_on_from_isso(tmp_path, start_isso, build,
                                                                                  garbage):
    isso_url = start_isso()
    record = write_record(tmp_path, isso_url, garbage)
    add_comment(isso_url, A, "Cliente di Modena", "Utile, grazie.")
    output = build(isso_url, allowed=("is unusable",))
    [aside] = list(record.parent.glob(f"{record.name}.corrupt-*"))
    assert aside.read_bytes() == garbage
    [message] = warnings()
    assert str(record) in message and str(aside) in message and "\n" not in message
    assert page_comments(output, A) == ["Utile, grazie."]
    assert record_ids(record) == {A: [1], B: []}


def test_a_corrupt_record_with_isso_down_says_both_and_still_builds(tmp_path, build):
    down = closed_url()
    record = write_record(tmp_path, down, "{ rotto")
    output = build(down, allowed=("is unusable", "Isso is unreachable"))
    unusable, unreachable = warnings()
    assert str(record) in unusable and "line 1, column 3" in unusable
    assert "no record of published comments" in unreachable and "moved aside" in unreachable
    assert "keep" not in unreachable.split("(")[0]  # no claim to keep comments it does not have
    assert page_comments(output, A) == [] and not (output / "comments.json").exists()
    assert not record.exists() and len(list(record.parent.glob(f"{record.name}.corrupt-*"))) == 1


def test_record_deleted_with_isso_down_builds_and_says_what_happens(tmp_path, build):
    down = closed_url()
    output = build(down, allowed=("Isso is unreachable",))
    [message] = warnings()
    assert "there is no record of published comments" in message and "does not exist" in message
    assert "without comments in their HTML" in message and "the pages keep" not in message
    assert page_comments(output, A) == [] and not (output / "comments.json").exists()
    # Nor do the pages claim there are none: they do not know.
    static = parse(output / "blog" / "una-prova" / "index.html").select_one(".static-comments")
    assert static.get_text(strip=True) == ""
    assert not record_of(tmp_path, down).exists()


@pytest.fixture
def live_site(tmp_path):
    """A folder served on 127.0.0.1, standing for the site as the last release published it."""
    folder = tmp_path / "live"
    folder.mkdir()
    with serving(folder) as origin:
        yield folder, origin


def test_a_fresh_checkout_takes_the_record_the_site_published(tmp_path, start_isso, build, live_site):
    live, origin = live_site
    isso_url = start_isso()
    for uri, _, author, text in RECORDED:
        add_comment(isso_url, uri, author, text)
    output = build(isso_url)
    (live / "comments.json").write_bytes((output / "comments.json").read_bytes())  # the release, deployed
    assert isso_url not in (live / "comments.json").read_text(encoding="utf-8")  # it names no server address
    record_of(tmp_path, isso_url).unlink()  # a fresh clone: no local record

    # Scheduled rebuild against a new, empty Isso at a new address (a server move without its database): the
    # published copy is compared all the same, whichever Isso wrote it.
    moved = start_isso("moved")
    output = build(moved, allowed=("apparent mass loss",), SITEURL=origin, COMMENTS_MIN_LOSS=4)
    [message] = warnings()
    assert "before 4, fetched 0, kept 4" in message
    assert len(page_comments(output, A)) == 2 and len(page_comments(output, B)) == 2
    assert sum(len(v) for v in record_ids(record_of(tmp_path, moved)).values()) == 4

    # And with Isso down: the downloaded record is what the pages keep.
    down = closed_url()
    output = build(down, allowed=("Isso is unreachable",), SITEURL=origin)
    [message] = warnings()
    assert f"the pages keep the 4 comments of the record published at {origin}/comments.json" in message
    assert page_comments(output, B) == ["Ottima guida.", "Chiaro e completo."] and record_of(tmp_path, down).exists()


def test_a_mass_loss_is_applied_when_accepted_deliberately(tmp_path, start_isso, build, monkeypatch):
    isso_url = start_isso()
    record = write_record(tmp_path, isso_url, full_record())
    monkeypatch.setenv("VETRINA_COMMENTS_ACCEPT_LOSS", "1")
    output = build(isso_url, allowed=("mass loss accepted",), COMMENTS_MIN_LOSS=4)
    assert page_comments(output, A) == page_comments(output, B) == []
    assert record_ids(record) == {A: [], B: []}
    [accepted] = warnings()
    assert "before 4, fetched 0, kept 0" in accepted and "4 published comments removed" in accepted
    log = store.deletion_log(record)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted((e["uri"], e["id"]) for e in entries) == sorted((uri, cid) for uri, cid, _, _ in RECORDED)
    assert {e["reason"] for e in entries} == {"mass loss accepted"}


# --- The published record could not be read: unknown is not "none" --------------------------------------------

def test_a_garbled_published_copy_with_isso_down_fails_the_build_rather_than_drop_the_record(tmp_path, build,
                                                                                            live_site, failing):
    live, origin = live_site
    (live / "comments.json").write_text("<html>pagina di errore</html>", encoding="utf-8")
    down = closed_url()
    output = build(down, allowed=("could not be read", "Isso is unreachable"),
                   COMMENTS_RECORD_URL=f"{origin}/comments.json")
    garbled, unreachable, refused = warnings()
    assert f"{origin}/comments.json could not be read (not a comment record: invalid JSON at line 1" in garbled
    assert "no record of published comments" in unreachable and "could not be read" in unreachable
    assert refused.startswith("Comments: Isso is unreachable, and ") and "a release without /comments.json" in refused
    assert failing() == [refused]  # the one line that stops `publish`; the others are notices
    assert page_comments(output, A) == [] and not record_of(tmp_path, down).exists()
    assert not (output / "comments.json").exists()


def test_an_empty_isso_with_an_unreadable_published_copy_writes_no_empty_record(tmp_path, start_isso, build,
                                                                              failing):
    """The site refuses the download: Isso's empty answer cannot be checked, so it replaces nothing."""
    isso_url = start_isso()
    refused_url = f"{closed_url()}/comments.json"
    output = build(isso_url, allowed=("could not be read", "Isso returned no comments"),
                   COMMENTS_RECORD_URL=refused_url)
    unreadable, refused = warnings()
    assert refused_url in unreadable and "Connection refused" in unreadable
    assert "Isso returned no comments at all" in refused and failing() == [refused]
    assert not record_of(tmp_path, isso_url).exists() and not (output / "comments.json").exists()
    # The pages claim nothing either way: Isso's "none" was not checked.
    assert parse(output / "blog" / "una-prova" / "index.html").select_one(".static-comments").get_text(strip=True) == ""


def test_isso_s_comments_with_an_unreadable_published_copy_are_shown_and_published_with_a_warning(
        tmp_path, start_isso, build, failing):
    isso_url = start_isso()
    add_comment(isso_url, A, "Cliente di Modena", "Utile, grazie.")
    output = build(isso_url, allowed=("could not be read",), COMMENTS_RECORD_URL=f"{closed_url()}/comments.json")
    unreadable, unchecked = warnings()
    assert "could not be checked for lost comments" in unchecked and "(1 comments)" in unchecked
    assert str(record_of(tmp_path, isso_url)) in unchecked and failing() == []
    assert page_comments(output, A) == ["Utile, grazie."]
    assert record_ids(record_of(tmp_path, isso_url)) == record_ids(output / "comments.json") == {A: [1], B: []}


def test_isso_down_where_the_site_publishes_no_record_builds_without_one(tmp_path, build, live_site, failing):
    """A 404 is known: no record was ever published, so a release without one drops nothing."""
    live, origin = live_site
    output = build(closed_url(), allowed=("Isso is unreachable",), SITEURL=origin)
    [message] = warnings()
    assert f"the site publishes none at {origin}/comments.json" in message and failing() == []
    assert not (output / "comments.json").exists()


# --- One record per Isso, and only what this build publishes ---------------------------------------------------

def test_development_and_production_keep_separate_records(tmp_path, start_isso, build):
    """`serve` against the local, nearly empty Isso neither warns of a mass loss nor leaks its test comments."""
    production = start_isso("production")
    for uri, _, author, text in RECORDED:
        add_comment(production, uri, author, text)
    build(production)
    development = start_isso("development")
    add_comment(development, A, "Sviluppatore", "Commento di prova.")
    for _ in range(2):  # every rebuild of the dev server
        output = build(development)
        assert warnings() == []
        assert page_comments(output, A) == ["Commento di prova."] and page_comments(output, B) == []
    output = build(production)
    assert warnings() == []
    assert page_comments(output, A) == ["Utile, grazie.", "Grazie a te!"]
    assert record_ids(output / "comments.json") == {A: [1, 2], B: [3, 4]}
    assert json.loads((output / "comments.json").read_text(encoding="utf-8"))["instance"] == record_of(
        tmp_path, production).stem.rpartition("-")[2]
    assert record_ids(record_of(tmp_path, development)) == {A: [1], B: []}


def test_comments_of_pages_no_longer_built_are_not_published(tmp_path, start_isso, build):
    """A post turned draft and a post closed to comments: their comments leave the record and its public copy."""
    isso_url = start_isso()
    third = "/blog/terza/"
    for uri, _, author, text in [*RECORDED, (third, 5, "Lettore", "Anche qui.")]:
        add_comment(isso_url, uri, author, text)
    content = {**CONTENT, "posts/c.md": post(title="Terza prova", slug="terza")}
    build(isso_url, content=content)
    assert set(record_ids(record_of(tmp_path, isso_url))) == {A, B, third}
    content.update({"posts/a.md": post(comments="no"),
                    "posts/b.md": post(title="Seconda prova", slug="seconda", status="draft")})
    output = build(isso_url, content=content)
    published = (output / "comments.json").read_text(encoding="utf-8")
    assert record_ids(output / "comments.json") == record_ids(record_of(tmp_path, isso_url)) == {third: [5]}
    assert "Utile, grazie." not in published and "Ottima guida." not in published
    assert warnings() == []


WRITER = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from comments import store
from comments.isso import Comment
threads = {f"/blog/{n}/": [Comment(i, "Lettore", "", "2026-11-20T10:00:00+00:00", "<p>" + "testo " * 200 + "</p>")
                           for i in range(20)] for n in range(100)}
print("writing", flush=True)
while True:
    store.save(Path(sys.argv[2]), threads)
"""


def test_a_build_killed_while_saving_leaves_a_whole_record(tmp_path):
    from conftest import ROOT

    path = tmp_path / "cache" / "comments.json"
    store.save(path, {A: []})
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(ROOT / "plugins"), str(path)], stdout=subprocess.PIPE)
    try:
        assert writer.stdout.readline() == b"writing\n"
        while record_format.loads(path.read_text(encoding="utf-8")) == {A: []}:
            pass  # until the first big record has replaced the small one: the writer is busy with the next
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    threads = record_format.loads(path.read_text(encoding="utf-8"))  # whole: the old bytes or the new, never half
    assert len(threads) == 100 and all(len(comments) == 20 for comments in threads.values())
    store.save(path, threads)  # the next build cleans what the killed one left
    assert sorted(p.name for p in path.parent.iterdir()) == ["comments.json"]
