"""The record of published comments as pure code: the loss rule, the file format, atomic writes of the store."""

from __future__ import annotations

import json
import os
import stat

import pytest

from comments import record, store
from comments.isso import Comment
from comments.reconcile import ACCEPTED, APPLIED, FIRST, KEPT, Removed, count, is_mass_loss, reconcile

A, B = "/blog/a/", "/blog/b/"


def comment(comment_id: int, created: str | None = None, replies=()) -> Comment:
    return Comment(comment_id, f"Lettore {comment_id}", "", created or f"2026-11-{comment_id:02d}T10:00:00+00:00",
                   f"<p>Commento {comment_id}</p>", list(replies))


def ids(threads: dict) -> dict:
    def flat(comments):
        return [i for c in comments for i in (c.id, *flat(c.replies))]
    return {uri: flat(comments) for uri, comments in threads.items()}


@pytest.mark.parametrize("before, fetched, missing, max_loss, min_loss, expected", [
    (0, 0, 0, 0.5, 10, False),  # nothing was published: nothing to lose
    (1, 0, 1, 0.5, 10, False),  # the only comment of a small site deleted: moderation
    (3, 1, 2, 0.5, 10, False),  # two of three: moderation
    (9, 0, 9, 0.5, 10, False),  # every thread empty, but fewer than the minimum were published
    (10, 0, 10, 0.5, 10, True),  # every thread empty and the record had the minimum
    (12, 0, 12, 1.0, 10, True),  # every thread empty is a mass loss whatever the share
    (20, 15, 5, 0.2, 10, False),  # above the share but fewer than the minimum missing
    (20, 10, 10, 0.5, 10, False),  # exactly the share: still applied
    (20, 9, 11, 0.5, 10, True),  # more than the share, and at least the minimum
    (20, 25, 20, 0.5, 10, True),  # a new database with new comments: the published ones are all missing
    (4, 0, 4, 0.5, 0, True),  # minimum 0: the share alone decides
    (4, 1, 3, 0.5, 0, True),
    (10, 9, 1, 0.0, 0, True),  # share 0, minimum 0: any deletion needs accepting
    (10, 1, 9, 1.0, 0, False),  # share 1: only an empty answer is a mass loss
])
def test_mass_loss_rule(before, fetched, missing, max_loss, min_loss, expected):
    assert is_mass_loss(before, fetched, missing, max_loss, min_loss) is expected


def test_without_a_record_isso_is_published_as_it_is():
    outcome = reconcile(None, {A: [comment(1)], B: []}, 0.5, 10)
    assert outcome.verdict == FIRST and (outcome.before, outcome.fetched, outcome.kept) == (0, 1, 1)
    assert ids(outcome.pages) == ids(outcome.record) == {A: [1], B: []}


def test_a_small_deletion_is_applied_and_listed_with_its_page():
    known = {A: [comment(1, replies=[comment(2)])], B: [comment(3)]}
    outcome = reconcile(known, {A: [comment(1)], B: [comment(3), comment(4)]}, 0.5, 10)
    assert outcome.verdict == APPLIED and outcome.removed == (Removed(A, 2),)
    assert (outcome.before, outcome.fetched, outcome.kept) == (3, 3, 3)
    assert ids(outcome.pages) == {A: [1], B: [3, 4]}


@pytest.mark.parametrize("known, fetched", [
    ({A: [comment(1)]}, {A: []}),  # the only comment of the site
    ({A: [comment(1), comment(2)], B: [comment(3)]}, {A: [comment(1)], B: []}),  # two of three
])
def test_moderation_on_a_small_site_is_applied_not_kept(known, fetched):
    outcome = reconcile(known, fetched, 0.5, 10)
    assert outcome.verdict == APPLIED and ids(outcome.record) == ids(fetched)
    assert len(outcome.removed) == count(known) - count(fetched)


def test_an_empty_answer_keeps_the_record_on_the_pages_and_in_the_record():
    known = {A: [comment(1, replies=[comment(2)])], B: [comment(3)]}
    outcome = reconcile(known, {A: [], B: []}, 0.5, 3)
    assert outcome.verdict == KEPT and outcome.mass_loss and outcome.removed == ()
    assert (outcome.before, outcome.fetched, outcome.kept, outcome.missing, outcome.added) == (3, 0, 3, 3, 0)
    assert ids(outcome.pages) == ids(outcome.record) == {A: [1, 2], B: [3]}
    assert outcome.record is not known


def test_a_kept_record_still_takes_isso_s_new_comments_and_replies():
    known = {A: [comment(1, replies=[comment(2)])], B: [comment(3), comment(4)]}
    fetched = {A: [comment(1, replies=[comment(5)])], B: [comment(6)]}  # 2, 3, 4 gone; 5 and 6 are new
    outcome = reconcile(known, fetched, 0.5, 3)
    assert outcome.verdict == KEPT and outcome.removed == () and outcome.missing == 3
    assert ids(outcome.pages) == ids(outcome.record) == {A: [1, 2, 5], B: [3, 4, 6]}
    assert (outcome.before, outcome.fetched, outcome.kept, outcome.added) == (4, 3, 6, 2)
    assert [c.id for c in outcome.pages[A][0].replies] == [2, 5]  # the new reply under its parent
    assert [c.id for c in known[A][0].replies] == [2]  # the record read is not changed in place


def test_a_new_database_reusing_ids_is_not_mistaken_for_the_published_comments():
    known = {A: [comment(1), comment(2)], B: [comment(3)]}
    strangers = {A: [comment(1, "2027-01-05T08:00:00+00:00"), comment(2, "2027-01-05T09:00:00+00:00")], B: []}
    outcome = reconcile(known, strangers, 0.5, 3)
    assert outcome.verdict == KEPT and outcome.missing == 3 and outcome.added == 2
    assert ids(outcome.pages) == {A: [1, 2, 1, 2], B: [3]}  # the published ones, then the new database's
    assert [c.created[:4] for c in outcome.pages[A]] == ["2026", "2026", "2027", "2027"]


def test_an_accepted_mass_loss_is_applied_and_every_removal_listed():
    known = {A: [comment(1)], B: [comment(2), comment(3)]}
    outcome = reconcile(known, {A: [], B: []}, 0.5, 3, accept_loss=True)
    assert outcome.verdict == ACCEPTED and outcome.kept == 0
    assert outcome.removed == (Removed(A, 1), Removed(B, 2), Removed(B, 3))
    assert ids(outcome.record) == {A: [], B: []}


@pytest.mark.parametrize("fetched, verdict", [({A: [comment(1)]}, APPLIED), ({A: []}, KEPT)])
def test_pages_not_in_this_build_are_neither_counted_nor_published(fetched, verdict):
    """A page turned draft, removed or closed to comments: its comments leave the record, whatever the verdict."""
    known = {A: [comment(1)], "/blog/ritirato/": [comment(5), comment(6), comment(7)]}
    outcome = reconcile(known, fetched, 0.5, 1)
    assert outcome.verdict == verdict and outcome.before == 1 and outcome.removed == ()
    assert ids(outcome.record) == {A: [1]} and outcome.left_out == 3


def test_record_text_round_trips_and_is_stable():
    threads = {B: [comment(3)], A: [comment(1, replies=[comment(2)])]}
    text = record.dumps(threads)
    assert json.loads(text)["format"] == "vetrina-comments" and list(json.loads(text)["threads"]) == [A, B]
    assert record.dumps(record.loads(text)) == text


def test_the_flat_cache_of_earlier_versions_is_read():
    flat = {A: [record.as_dict(comment(1))], B: []}
    assert ids(record.loads(json.dumps(flat))) == {A: [1], B: []}


def test_a_record_is_cleaned_again_when_read():
    data = {A: [{**record.as_dict(comment(1)), "html": '<p onclick="x()">Ciao<script>alert(1)</script></p>',
                 "website": "javascript:alert(1)"}]}
    loaded = record.loads(json.dumps(data))[A][0]
    assert "script" not in loaded.html and "onclick" not in loaded.html and loaded.website == ""


@pytest.mark.parametrize("text, where", [
    ('{"threads": {', "line 1, column 14"),
    ("[1, 2]", "JSON list"),
    ('{"format": "vetrina-comments", "version": 2, "threads": {}}', "'version'"),
    ('{"/blog/a/": "testo"}', "thread '/blog/a/': must be a list"),
    ('{"blog/a/": []}', "must start with '/'"),
    ('{"/blog/a/": [{"id": "7"}]}', "comment 1: 'id' must be an integer"),
    ('{"/blog/a/": [{"id": 7, "author": "A", "website": "", "created": "ieri", "html": ""}]}', "'created'"),
    ('{"/blog/a/": [{"id": 7, "author": "A", "website": "", "created": "2026-11-01T10:00:00+00:00", "html": "",'
     ' "replies": [{"id": true}]}]}', "reply 1: 'id' must be an integer"),
])
def test_a_bad_record_says_where(text, where):
    with pytest.raises(record.RecordError) as error:
        record.loads(text)
    assert where in str(error.value)


def test_a_failed_write_leaves_the_old_record_whole_and_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "comments.json"
    store.save(path, {A: [comment(1)]})
    before = path.read_bytes()

    def refuse(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "replace", refuse)
    with pytest.raises(OSError):
        store.save(path, {A: []})
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["comments.json"]


def test_an_unusable_record_is_moved_aside_never_over_an_earlier_one(tmp_path):
    import datetime as dt

    now = dt.datetime(2026, 11, 22, 10, 15, 0, tzinfo=dt.timezone.utc)
    path = tmp_path / "comments.json"
    names = []
    for text in ("{uno", "{due"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(store.RecordUnusable, match="invalid JSON at line 1"):
            store.read(path)
        names.append(store.move_aside(path, now).name)
    assert names == ["comments.json.corrupt-20261122T101500Z", "comments.json.corrupt-20261122T101500Z-1"]
    assert not path.exists() and (tmp_path / names[1]).read_text(encoding="utf-8") == "{due"


def test_deletions_are_appended_one_json_object_a_line(tmp_path):
    path = tmp_path / "comments.json"
    store.log_deletions(path, [Removed(A, 1)], "not returned by Isso")
    log = store.log_deletions(path, [Removed(B, 2), Removed(B, 3)], "mass loss accepted")
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert log.name == "comments-deletions.jsonl"
    assert [(e["uri"], e["id"], e["reason"]) for e in entries] == [
        (A, 1, "not returned by Isso"), (B, 2, "mass loss accepted"), (B, 3, "mass loss accepted")]
    assert all(set(e) == {"time", "uri", "id", "reason"} for e in entries)  # no names, no text


def test_missing_record_is_none_and_not_utf8_is_unusable(tmp_path):
    assert store.read(tmp_path / "none.json") is None
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(store.RecordUnusable, match="not UTF-8"):
        store.read(tmp_path / "bad.json")
    assert os.listdir(tmp_path) == ["bad.json"]


def test_a_record_names_its_isso_and_another_isso_s_record_is_unusable(tmp_path):
    path = tmp_path / "comments-aaaa.json"
    store.save(path, {A: [comment(1)]}, "aaaa")
    assert record.parse(path.read_text(encoding="utf-8")) == (record.loads(path.read_text(encoding="utf-8")), "aaaa")
    assert ids(store.read(path, "aaaa")) == {A: [1]}
    with pytest.raises(store.RecordUnusable, match="record of another Isso .instance 'aaaa', this build reads 'bbbb'"):
        store.read(path, "bbbb")
    store.save(path, {A: [comment(1)]})  # written by an earlier version: it does not say
    assert ids(store.read(path, "bbbb")) == {A: [1]}
    with pytest.raises(record.RecordError, match="'instance' must be a string"):
        record.loads('{"format": "vetrina-comments", "version": 1, "instance": 7, "threads": {}}')


def test_the_deletion_log_s_folder_is_synced_when_the_log_is_created(tmp_path, monkeypatch):
    """A new file survives a power cut only once its folder entry is on disk too; later appends need no more."""
    synced = []
    real_fsync = os.fsync

    def watching_fsync(descriptor):
        info = os.fstat(descriptor)
        synced.append("folder" if stat.S_ISDIR(info.st_mode) else "file")
        if stat.S_ISDIR(info.st_mode):
            assert (info.st_dev, info.st_ino) == (os.stat(tmp_path).st_dev, os.stat(tmp_path).st_ino)
        real_fsync(descriptor)

    monkeypatch.setattr(store.os, "fsync", watching_fsync)
    store.log_deletions(tmp_path / "comments.json", [Removed(A, 1)], "not returned by Isso")
    assert synced == ["file", "folder"]
    synced.clear()
    store.log_deletions(tmp_path / "comments.json", [Removed(A, 2)], "not returned by Isso")
    assert synced == ["file"]


@pytest.mark.parametrize("url, reserved", [
    ("https://www.cordeelegni.example/comments.json", True),
    ("https://shop.test/comments.json", True),
    ("http://localhost:8000/comments.json", True),
    ("https://negozio.invalid./comments.json", True),
    ("https://www.cordeelegni.it/comments.json", False),
    ("https://example.com/comments.json", False),
])
def test_a_reserved_domain_never_published_a_record(url, reserved):
    """The demo's www.cordeelegni.example cannot answer: its production build starts like a new site."""
    assert store.never_published(url) is reserved
    if reserved:
        assert store.download(url, timeout=0.01) is None
