"""Warm rebuilds of `serve`: a kept build process, staging with hard links to unchanged files, the swap on success."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from conftest import ROOT, parse, post, run_build, write_content
from shop_fixtures import tiny_png

from core.build import read_setting, staging_prefix
from core.warm import DevBuilds, link_unchanged

TODAY = "2026-12-01"
CONTENT = {
    "posts/a.md": post(title="Prima versione", slug="prima", image="images/foto.png", image_alt="Una foto"),
    "posts/b.md": post(title="Un'altra guida", slug="altra", date="2026-03-02 10:00"),
    "images/foto.png": tiny_png(300, 200),
}
# A plugin that, once told to, holds a build after the posts are written: the moment the test kills it.
STALL_PLUGIN = '''
import time
from pathlib import Path

from pelican import signals


def stall(generator, writer):
    flag = Path(generator.settings["PATH"]).parent / "stall"
    if flag.exists():
        (flag.parent / "stalled").write_text(generator.settings["OUTPUT_PATH"])
        time.sleep(120)


def register():
    signals.article_writer_finalized.connect(stall)
'''


def inodes(folder: Path) -> dict[str, int]:
    return {path.relative_to(folder).as_posix(): path.stat().st_ino for path in folder.rglob("*") if path.is_file()}


def staging_folders(output: Path) -> list[Path]:
    return [path for path in output.parent.iterdir() if path.name.startswith(staging_prefix(output))]


@pytest.fixture
def site(tmp_path):
    """(content folder, output folder, serve's builds of them); the build process is stopped at the end."""
    content, output = tmp_path / "content", tmp_path / "site"
    write_content(content, CONTENT)
    builds = DevBuilds(ROOT, ROOT / "pelicanconf.py", output, content,
                       {"CACHE_PATH": str(tmp_path / "cache"), "COMMENTS_ISSO_BUILD_URL": "", "SHOP_TODAY": TODAY})
    try:
        yield content, output, builds
    finally:
        builds.close()


def test_identical_files_become_hard_links_and_the_others_stay_new(tmp_path):
    served, staging = tmp_path / "served", tmp_path / "staging"
    write_content(served, {"same.html": "<p>uguale</p>", "sub/same.css": "a{}", "changed.html": "<p>prima</p>",
                           "resized.html": "<p>corto</p>", "gone.html": "<p>via</p>"})
    write_content(staging, {"same.html": "<p>uguale</p>", "sub/same.css": "a{}", "changed.html": "<p>dopo!</p>",
                            "resized.html": "<p>più lungo</p>", "new.html": "<p>nuovo</p>"})
    before = inodes(served)
    assert link_unchanged(staging, served) == 2
    after = inodes(staging)
    assert after["same.html"] == before["same.html"] and after["sub/same.css"] == before["sub/same.css"]
    assert after["changed.html"] != before["changed.html"] and after["resized.html"] != before["resized.html"]
    assert (staging / "changed.html").read_text() == "<p>dopo!</p>"
    assert (served / "changed.html").read_text() == "<p>prima</p>"  # the served file was never written through
    assert sorted(after) == ["changed.html", "new.html", "resized.html", "same.html", "sub/same.css"]
    assert not [p for p in staging.rglob(".*")]  # no partial link left behind
    assert link_unchanged(staging, tmp_path / "nothing-served-yet") == 0


def test_two_builds_through_the_serve_path_link_unchanged_files_and_update_the_edited_page(site, tmp_path):
    content, output, builds = site
    assert builds.build()
    first, pid = inodes(output), builds.builder.pid
    cache = tmp_path / "cache" / "images"
    encoded = {path.name: path.stat().st_mtime_ns for path in cache.iterdir()}
    assert encoded, "the lead image has WebP copies"

    # Only the body changes: the other post's page (which names this one) stays the same.
    write_content(content, {"posts/a.md": post(title="Prima versione", slug="prima", image="images/foto.png",
                                               image_alt="Una foto", body="Un paragrafo riscritto.")})
    assert builds.build()
    second = inodes(output)
    assert builds.builder.pid == pid  # the same kept process built both
    assert "Un paragrafo riscritto." in parse(output / "blog" / "prima" / "index.html").get_text()
    assert second["blog/prima/index.html"] != first["blog/prima/index.html"]
    for unchanged in ("blog/altra/index.html", "images/foto.png", "theme/css/main.css"):
        assert second[unchanged] == first[unchanged], unchanged
    assert all(second[name] == first[name] for name in second if name.endswith(".webp"))
    assert {path.name: path.stat().st_mtime_ns for path in cache.iterdir()} == encoded  # nothing re-encoded
    written, unchanged = builds.last
    # The edited page was live first, as its preview; the build's own copy of it is the same file.
    assert builds.previewed == ["blog/prima/index.html"]
    assert written + 1 == sum(1 for name in second if second[name] != first.get(name)) and unchanged > written
    assert staging_folders(output) == []

    # What the warm process wrote is what a fresh, uncached build of the same content writes.
    cold = run_build(content, tmp_path / "cold", SHOP_TODAY=TODAY)
    pages = sorted(path.relative_to(cold).as_posix() for path in cold.rglob("*.html"))
    assert pages and pages == sorted(path.relative_to(output).as_posix() for path in output.rglob("*.html"))
    assert [name for name in pages if (cold / name).read_bytes() != (output / name).read_bytes()] == []


def test_a_failed_rebuild_keeps_the_served_output(site):
    content, output, builds = site
    assert builds.build()
    served = inodes(output)
    write_content(content, {"posts/a.md": post(title="Versione rotta", slug="prima", image="images/manca.jpg",
                                               image_alt="x")})
    assert not builds.build()
    assert inodes(output) == served
    assert parse(output / "blog" / "prima" / "index.html").h1.get_text() == "Prima versione"
    assert staging_folders(output) == []
    write_content(content, CONTENT)
    assert builds.build() and parse(output / "blog" / "prima" / "index.html").h1.get_text() == "Prima versione"


def test_a_template_edited_between_builds_is_compiled_again_by_the_kept_process(tmp_path):
    import shutil

    theme = tmp_path / "theme"
    shutil.copytree(ROOT / "theme", theme)
    content, output = tmp_path / "content", tmp_path / "site"
    write_content(content, CONTENT)
    builds = DevBuilds(ROOT, ROOT / "pelicanconf.py", output, content,
                       {"CACHE_PATH": str(tmp_path / "cache"), "COMMENTS_ISSO_BUILD_URL": "", "SHOP_TODAY": TODAY,
                        "THEME": str(theme)})
    try:
        assert builds.build()
        pid = builds.builder.pid
        assert parse(output / "blog" / "altra" / "index.html").find("meta", attrs={"name": "x-prova"}) is None
        base = theme / "templates" / "base.html"
        marked = base.read_text(encoding="utf-8").replace("<head>", '<head>\n<meta name="x-prova" content="1">', 1)
        base.write_text(marked, encoding="utf-8")
        assert builds.build() and builds.builder.pid == pid
        assert parse(output / "blog" / "altra" / "index.html").find("meta", attrs={"name": "x-prova"})["content"] == "1"
        assert builds.reload() and builds.builder.pid not in (None, pid)  # plugins or settings changed: a new process
    finally:
        builds.close()


def test_a_build_process_killed_mid_way_keeps_the_served_output_and_the_next_build_starts_a_new_one(tmp_path):
    content, output = tmp_path / "content", tmp_path / "site"
    write_content(content, CONTENT)
    write_content(tmp_path / "extra", {"stall/__init__.py": STALL_PLUGIN})
    plugins = [*read_setting(ROOT / "pelicanconf.py", "PLUGINS"), "stall"]
    builds = DevBuilds(ROOT, ROOT / "pelicanconf.py", output, content,
                       {"CACHE_PATH": str(tmp_path / "cache"), "COMMENTS_ISSO_BUILD_URL": "", "SHOP_TODAY": TODAY,
                        "PLUGIN_PATHS": [str(ROOT / "plugins"), str(tmp_path / "extra")], "PLUGINS": plugins})
    try:
        assert builds.build()
        served, pid = inodes(output), builds.builder.pid
        (tmp_path / "stall").touch()
        write_content(content, {"posts/b.md": post(title="Mai pubblicata", slug="altra")})
        result = {}
        worker = threading.Thread(target=lambda: result.update(ok=builds.build()))
        worker.start()
        marker = tmp_path / "stalled"
        for _ in range(600):
            if marker.exists():
                break
            time.sleep(0.1)
        assert marker.exists(), "the build never reached the stall"
        staging = Path(marker.read_text())
        assert (staging / "blog" / "altra" / "index.html").is_file()  # mid-way: the posts are written
        os.kill(pid, signal.SIGKILL)
        worker.join(timeout=60)
        assert result == {"ok": False}
        # Only the edited post's preview went live before the build (whole: written beside, renamed over).
        assert builds.previewed == ["blog/altra/index.html"]
        assert parse(output / "blog" / "altra" / "index.html").find("h1").get_text(strip=True) == "Mai pubblicata"
        now = inodes(output)
        assert {name: now[name] for name in now if name not in builds.previewed} == {
            name: served[name] for name in served if name not in builds.previewed}
        assert not staging.exists() and staging_folders(output) == []
        # The home page still lists the post by its old title: the killed build never swapped anything in.
        assert "Un'altra guida" in parse(output / "index.html").get_text()

        (tmp_path / "stall").unlink()
        assert builds.build() and builds.builder.pid not in (None, pid)
        assert parse(output / "blog" / "altra" / "index.html").h1.get_text() == "Mai pubblicata"
    finally:
        builds.close()


def test_a_saved_post_is_live_as_a_preview_before_the_whole_build(site):
    content, output, builds = site
    assert builds.build()
    write_content(content, {"posts/b.md": post(title="Titolo nuovo", slug="altra", date="2026-03-02 10:00")})
    seen = []

    def at_preview():
        seen.append((parse(output / "blog" / "altra" / "index.html").h1.get_text(),
                     "Titolo nuovo" in parse(output / "index.html").get_text()))

    assert builds.build(on_preview=at_preview)
    # At the preview the post's own page is new and the home page still the last build's; then both are.
    assert seen == [("Titolo nuovo", False)]
    assert "Titolo nuovo" in parse(output / "index.html").get_text()


def test_saves_during_a_build_make_one_more_build_after_it():
    from core.warm import BuildLoop

    started, release = [], threading.Event()

    class Builds:
        def build(self, on_preview=None):
            started.append(time.monotonic())
            release.wait(5)
            return True

    reloads = []
    loop = BuildLoop(Builds(), lambda: reloads.append(1))
    loop.request()
    for _ in range(3):
        loop.request()
    release.set()
    for _ in range(100):
        if not loop.running:
            break
        time.sleep(0.05)
    assert len(started) == 2 and len(reloads) == 2
