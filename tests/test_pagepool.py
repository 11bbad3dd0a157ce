"""Pages rendered by this process and a fork of it are the pages one process renders, and nothing is lost."""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import pytest
from conftest import ROOT, BuildFailed, run_build, write_content, tree

from core import integrity, pagepool, parallel
from core.pagepool import Write, fork_map
from feeds import generator as feeds_generator


@pytest.fixture
def forks(monkeypatch):
    """Every site forks, however small; the pids of the forks that rendered pages are counted."""
    monkeypatch.setattr(pagepool, "MIN_FORKED_PAGES", 1)
    monkeypatch.setattr(parallel, "MIN_POOL_BYTES", 0)
    monkeypatch.setattr(feeds_generator, "MIN_FORKED_BODIES", 1)
    started = []
    original = pagepool._start

    def start(work, context):
        fork = original(work, context)
        if fork is not None:
            started.append(fork.pid)
        return fork

    monkeypatch.setattr(pagepool, "_start", start)
    return started


def test_claims_begin_with_the_biggest_writes_and_group_the_small_ones(monkeypatch):
    writes = [Write(name, None, {}, (), {}, pages) for name, pages in
              [("a", 1), ("b", 1), ("tag", 10), ("c", 1), ("d", 1), ("e", 1)]]
    assert pagepool.claims_of(writes) == [[2], [0], [1], [3], [4], [5]]
    monkeypatch.setattr(pagepool, "MAX_CLAIMS", 4)  # 15 pages: at least 4 in a claim
    assert pagepool.claims_of(writes) == [[2], [0, 1, 3, 4], [5]]


def test_each_claim_is_taken_once_and_a_dead_fork_s_are_known():
    shared = pagepool._Claims(200)
    try:
        pid = os.fork()
        if pid == 0:  # a fork that takes claims, then one more it dies holding before its owner is written
            taken = shared.taken_by(1)
            for _ in range(40):
                next(taken)
            os.read(shared._read, 4)
            os._exit(0)
        os.waitpid(pid, 0)
        mine = list(shared.taken_by(0))
        assert mine == list(range(41, 200))  # what the fork left, each once
        assert shared.owned_by(set()) == [40]  # taken by nobody known: the one the fork died holding
        assert shared.owned_by({1}) == list(range(41))  # the dead fork's, to be rendered by the build
    finally:
        shared.close()


def test_pages_of_counts_pelicans_own_pagination():
    settings = {"PAGINATED_TEMPLATES": {"tag": None, "catalog": 12}, "DEFAULT_PAGINATION": 10}
    assert pagepool.pages_of(settings, (), {"articles": list(range(25)), "template_name": "tag"}) == 3
    assert pagepool.pages_of(settings, (), {"paginated": {"products": list(range(25))}, "template_name": "catalog"}) == 3
    assert pagepool.pages_of(settings, (), {"article": object()}) == 1


def test_the_demo_rendered_on_both_cores_is_the_serial_build_byte_for_byte(tmp_path, forks):
    """Production settings: the sitemap, the images asked for and every page come back from the fork."""
    common = {"SHOP_TODAY": "2026-12-01", "COMMENTS_ISSO_BUILD_URL": ""}
    serial = tree(run_build(ROOT / "content", tmp_path / "serial", "publishconf.py", SITE_WORKERS=1, **common))
    assert forks == []
    both = tree(run_build(ROOT / "content", tmp_path / "both", "publishconf.py", SITE_WORKERS=2, **common))
    assert len(forks) >= 5  # posts, pages, products, the feeds' bodies and files each had a fork
    assert "sitemap.xml" in serial and any(name.endswith("-480w.webp") for name in serial)
    assert sorted(both) == sorted(serial)
    assert [name for name in serial if both[name] != serial[name]] == []


def test_a_warning_logged_while_a_fork_renders_reaches_the_build_report_once(tmp_path, forks, monkeypatch):
    original = integrity.OutputGuard.write_now
    parent = os.getpid()

    def write_now(self, write):
        if "article" in write.kwargs:
            logging.getLogger("core.test").warning("%s rendered by %s", write.name,
                                                   "a fork" if os.getpid() != parent else "the build")
        return original(self, write)

    monkeypatch.setattr(integrity.OutputGuard, "write_now", write_now)
    content = tmp_path / "content"
    write_content(content, {f"posts/{slug}.md": f"Title: {slug}\nSlug: {slug}\nDate: 2026-03-0{n + 1}\n\nTesto.\n"
                            for n, slug in enumerate(["uno", "due", "tre", "quattro"])})
    run_build(content, tmp_path / "out", SITE_WORKERS=2, allowed=("rendered by",))
    assert forks
    said = sorted(m for m in run_build.last_messages if "rendered by" in m)
    assert [m.split()[0] for m in said] == sorted(f"blog/{slug}/index.html" for slug in ("uno", "due", "tre", "quattro"))
    assert any(m.endswith("by a fork") for m in said) and any(m.endswith("by the build") for m in said)


def test_a_fork_that_dies_leaves_its_pages_to_the_build(tmp_path, forks, monkeypatch):
    content = tmp_path / "content"
    write_content(content, {f"posts/p{n}.md": f"Title: Post {n}\nSlug: p{n}\nDate: 2026-03-0{n + 1}\n\nTesto {n}.\n"
                            for n in range(6)})
    serial = tree(run_build(content, tmp_path / "serial", SITE_WORKERS=1, SHOP_TODAY="2026-12-01"))
    monkeypatch.setattr(pagepool, "_run_forked", lambda work, context, path: os.kill(os.getpid(), 9))
    both = tree(run_build(content, tmp_path / "both", SITE_WORKERS=2, SHOP_TODAY="2026-12-01"))
    assert forks and sorted(both) == sorted(serial)
    assert [name for name in serial if both[name] != serial[name]] == []


def test_two_pages_on_one_file_in_two_shares_are_reported_as_in_a_serial_build(tmp_path, forks):
    content = tmp_path / "content"
    write_content(content, {"pages/a.md": "Title: Uno\nSlug: stesso\n\nUno.\n",
                            "pages/b.md": "Title: Due\nSlug: stesso\n\nDue.\n"})
    with pytest.raises(BuildFailed) as failure:
        run_build(content, tmp_path / "out", SITE_WORKERS=2)
    assert forks
    said = [m for m in failure.value.messages if "is also written for" in m]
    assert len(said) == 1 and "pages/b.md:2: field 'slug': its output stesso/index.html is also written for" in said[0]
    assert said[0].endswith("pages/a.md; give one of them another Slug")  # a failed build: nothing is published


def _doubled(item):
    time.sleep(0.02)  # long enough for the fork to be up before this process has taken every item
    logging.getLogger("core.test").warning("item %s done by %s", item, "a fork" if os.getpid() != PARENT else "us")
    return item * 2, os.getpid() != PARENT


PARENT = os.getpid()


def test_fork_map_gives_each_item_s_result_in_order_and_the_fork_s_log_here(caplog, monkeypatch):
    monkeypatch.setattr(pagepool, "REGISTERS", {})  # no build's context here for the plugins' registers
    with caplog.at_level(logging.WARNING, logger="core.test"):
        results = fork_map(_doubled, list(range(12)), {}, 2)
    assert [value for value, _ in results] == [n * 2 for n in range(12)]
    forked = [n for n, (_, by_fork) in enumerate(results) if by_fork]
    assert 0 < len(forked) < 12  # each process took some, as it was free
    said = sorted(record.getMessage() for record in caplog.records if record.name == "core.test")
    assert said == sorted(f"item {n} done by {'a fork' if n in forked else 'us'}" for n in range(12))


def test_fork_map_does_the_items_of_a_fork_that_dies_itself(monkeypatch):
    monkeypatch.setattr(pagepool, "REGISTERS", {})
    monkeypatch.setattr(pagepool, "_run_forked", lambda work, context, path: os.kill(os.getpid(), 9))
    results = fork_map(_doubled, list(range(5)), {}, 2)
    assert results == [(n * 2, False) for n in range(5)]
    assert fork_map(_doubled, [3], {}, 2) == [(6, False)]  # one item: no fork at all


def test_a_fork_that_fails_prints_no_traceback_and_the_build_does_its_work(tmp_path, forks, monkeypatch, capfd):
    """A feed that fails in a fork only (as a fork may): the build writes it, and says nothing of the fork."""
    original = feeds_generator.FeedsGenerator.write_segment
    parent = os.getpid()

    def write_segment(self, *args):
        if os.getpid() != parent:
            raise RuntimeError("only in a fork")
        return original(self, *args)

    monkeypatch.setattr(feeds_generator.FeedsGenerator, "write_segment", write_segment)
    content = tmp_path / "content"
    write_content(content, {f"posts/p{n}.md": f"Title: Post {n}\nSlug: p{n}\nDate: 2026-03-0{n + 1}\nCategory: C{n}\n"
                                              f"Tags: t{n}\n\nTesto {n}.\n" for n in range(4)})
    out = run_build(content, tmp_path / "out", SITE_WORKERS=2, SHOP_TODAY="2026-12-01")
    assert forks
    assert sorted(p.name for p in (out / "feeds" / "tag").glob("*.xml")) == [f"t{n}.xml" for n in range(4)]
    assert "Traceback" not in capfd.readouterr().err
