"""sitemap.xml and robots.txt, parsed and cross-checked against the files in the output."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
from types import SimpleNamespace
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

import pytest
from conftest import html_pages, parse, post, run_build, write_content
from lxml import etree

from core import checks
from seo import sitemap

NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9", "i": "http://www.google.com/schemas/sitemap-image/1.1"}
SITE = "https://www.cordeelegni.example"
ISO_8601 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)$")


def sitemap_urls(output):
    tree = etree.parse(str(output / "sitemap.xml"))
    return {url.findtext("s:loc", namespaces=NS): url for url in tree.getroot().findall("s:url", NS)}


def test_sitemap_lists_exactly_the_indexable_pages(demo_production):
    urls = sitemap_urls(demo_production)
    indexable = set()
    for path in html_pages(demo_production):
        robots = parse(path).find("meta", attrs={"name": "robots"})
        if not robots:
            indexable.add(SITE + checks.page_url(demo_production, path))
    # Indexable, not listed: pages for visitors on their way, with nothing of their own to list.
    on_the_way = {f"{SITE}/{path}" for path in ("carrello/", "en/cart/", "cerca/", "en/search/")}
    assert on_the_way <= indexable
    assert set(urls) == indexable - on_the_way
    for loc in urls:
        assert checks.resolve(demo_production, urlparse(loc).path), loc


def test_sitemap_has_iso_lastmod_and_images(demo_production):
    urls = sitemap_urls(demo_production)
    post_url = urls[f"{SITE}/blog/comprare-chitarra-usata/"]
    assert post_url.findtext("s:lastmod", namespaces=NS) == "2026-03-10T18:00:00+01:00"  # its Modified field
    assert [i.text for i in post_url.findall("i:image/i:loc", NS)] == [
        f"{SITE}/images/posts/comprare-chitarra-usata.jpg"]
    product = urls[f"{SITE}/prodotti/chitarra-elettrica-squier-stratocaster/"]
    images = [i.text for i in product.findall("i:image/i:loc", NS)]
    assert any(i.endswith("/chitarra-elettrica-dettaglio.jpg") for i in images)  # the gallery's second photo
    assert len(images) == 4 and all(checks.resolve(demo_production, urlparse(i).path) for i in images)
    for url in urls.values():
        lastmod = url.findtext("s:lastmod", namespaces=NS)
        assert lastmod is None or ISO_8601.match(lastmod), lastmod


def test_noindex_pages_stay_out_of_the_sitemap(demo_production):
    urls = sitemap_urls(demo_production)
    assert f"{SITE}/404.html" not in urls
    assert not [u for u in urls if "/blog/tag/" in u and u != f"{SITE}/blog/tag/"]
    assert not [u for u in urls if "/pagina/" in u or "/ordine/" in u]
    tag_page = next((demo_production / "blog" / "tag").glob("*/index.html"))
    assert parse(tag_page).find("meta", attrs={"name": "robots"})["content"] == "noindex,follow"


def test_robots_txt_points_to_the_sitemap(demo_production):
    lines = (demo_production / "robots.txt").read_text(encoding="utf-8").splitlines()
    assert "User-agent: *" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines
    assert not [line for line in lines if "/bozze/" in line]  # robots.txt is public: it names no private folder


def test_large_sitemaps_are_split_behind_an_index(build_site):
    posts = {f"posts/p{i}.md": post(title=f"Post {i}", slug=f"p{i}") for i in range(5)}
    output = build_site(posts, settings_file="publishconf.py", SEO_SITEMAP_MAX_URLS=3)
    index = etree.parse(str(output / "sitemap.xml")).getroot()
    assert index.tag == f"{{{NS['s']}}}sitemapindex"
    parts = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    assert parts and all(p.startswith(f"{SITE}/sitemap-") for p in parts)
    listed = []
    for part in parts:
        tree = etree.parse(str(output / urlparse(part).path.lstrip("/")))
        locs = [loc.text for loc in tree.getroot().findall("s:url/s:loc", NS)]
        assert 0 < len(locs) <= 3
        listed += locs
    assert len(listed) == len(set(listed))
    assert {f"{SITE}/blog/p{i}/" for i in range(5)} <= set(listed)


def test_noindex_is_configurable(build_site):
    output = build_site({"posts/a.md": post()}, settings_file="publishconf.py", SEO_NOINDEX_TAGS=False)
    assert parse(output / "blog" / "tag" / "prova" / "index.html").find("meta", attrs={"name": "robots"}) is None
    assert f"{SITE}/blog/tag/prova/" in sitemap_urls(output)


def test_development_build_writes_robots_without_sitemap(demo_output):
    assert not (demo_output / "sitemap.xml").exists()
    assert "Sitemap:" not in (demo_output / "robots.txt").read_text(encoding="utf-8")


# --- lastmod: Modified, else the file's last commit (one git log), else the date; never the mtime -------
ROME = ZoneInfo("Europe/Rome")


def git(repo, *args, date=None) -> str:
    """Run git in repo with a throwaway identity; date sets both the author and the committer date."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Prova", "GIT_AUTHOR_EMAIL": "prova@example.it",
           "GIT_COMMITTER_NAME": "Prova", "GIT_COMMITTER_EMAIL": "prova@example.it",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    return subprocess.run(["git", "-C", str(repo), *args], env=env, check=True, capture_output=True, text=True).stdout


def commit(repo, files: dict, date: str, message: str = "Modifica") -> None:
    write_content(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message, date=date)


HISTORY = [  # (files, committer date): a is edited in summer, b never again, the README is outside content/
    ({"content/posts/a.md": post(title="A", slug="a", date="2026-03-01 10:00"),
      "content/posts/b.md": post(title="B", slug="b", date="2026-03-05 10:00"),
      "content/posts/c.md": post(title="C", slug="c", date="2026-03-06 10:00", modified="2026-09-01 10:00")},
     "2026-03-10T12:00:00+01:00"),
    ({"content/posts/a.md": post(title="A", slug="a", date="2026-03-01 10:00", body="Corretto un refuso.")},
     "2026-07-15T09:30:00+02:00"),
    ({"README.md": "Il negozio.\n"}, "2026-08-01T10:00:00+02:00"),
]


@pytest.fixture
def repository(tmp_path, monkeypatch):
    """A shop's repository with three commits of known committer dates."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # never the repository around tmp_path
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q")
    for files, date in HISTORY:
        commit(repo, files, date)
    return repo


def relative_times(times: dict, root) -> dict:
    root = os.path.realpath(root)
    return {os.path.relpath(path, root): when.isoformat() for path, when in times.items()}


def test_one_git_log_gives_each_file_its_last_commit(repository):
    times = sitemap.git_commit_times(repository / "content", ROME)
    assert relative_times(times, repository) == {"content/posts/a.md": "2026-07-15T09:30:00+02:00",
                                                 "content/posts/b.md": "2026-03-10T12:00:00+01:00",
                                                 "content/posts/c.md": "2026-03-10T12:00:00+01:00"}


def test_a_fresh_clone_gives_the_same_lastmod_whatever_its_mtimes(repository, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{repository}", str(clone)], check=True, capture_output=True)
    later = dt.datetime(2030, 1, 1).timestamp()
    for path in (clone / "content" / "posts").iterdir():
        os.utime(path, (later, later))  # a checkout dates every file at the checkout
    original = sitemap.git_commit_times(repository / "content", ROME)
    cloned = sitemap.git_commit_times(clone / "content", ROME)
    assert relative_times(cloned, clone) == relative_times(original, repository)


def test_a_shallow_clone_or_no_repository_falls_back_to_the_date(repository, tmp_path):
    shallow = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repository}", str(shallow)], check=True,
                   capture_output=True)
    assert git(shallow, "rev-parse", "--is-shallow-repository").strip() == "true"
    assert sitemap.git_commit_times(shallow / "content", ROME) is None
    plain = tmp_path / "plain"
    write_content(plain, {"posts/a.md": post()})
    assert sitemap.git_commit_times(plain, ROME) is None
    date = dt.datetime(2026, 3, 1, 10, 0, tzinfo=ROME)
    item = SimpleNamespace(date=date, modified=None, source_path=str(shallow / "content" / "posts" / "a.md"))
    assert sitemap.item_lastmod(item, None) == date


def test_commit_log_parsing_takes_the_newest_commit_of_each_path_in_any_order():
    """-z output: "/time" headers, a newline before each commit's names, every field ended by NUL."""
    log = ("/1770000000\0\ncontent/posts/a.md\0"  # an older commit listed first (a rebase reorders times)
           "/1790000000\0"  # a merge: no names
           "/1783000000\0\ncontent/posts/a.md\0content/posts/è.md\0content/posts/1770000000\0"
           "/1760000000\0\ncontent/posts/è.md\0content/posts/b\\\"c\nd.md\0")
    times = sitemap.commit_times(log, "/shop", dt.timezone.utc)
    at = {stamp: dt.datetime.fromtimestamp(stamp, dt.timezone.utc) for stamp in (1783000000, 1760000000)}
    assert times == {"/shop/content/posts/a.md": at[1783000000], "/shop/content/posts/è.md": at[1783000000],
                     "/shop/content/posts/1770000000": at[1783000000],
                     "/shop/content/posts/b\\\"c\nd.md": at[1760000000]}


NAMES = ['virgolette "basse".md', "barra\\rovescia.md", "tab\tulatore.md", "a capo\n.md", "caffè.md",
         "latino caff\udce8.md"]  # the last one's name is Latin-1 bytes, as Python spells such a file


def test_file_names_git_would_quote_get_their_own_last_commit(tmp_path, monkeypatch):
    """Quotes, backslashes, control characters, accents, non-UTF-8 bytes: git quotes them, but not with -z."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q")
    commit(repo, {f"content/posts/{name}": "Primo.\n" for name in NAMES}, "2026-03-10T12:00:00+01:00")
    commit(repo, {f"content/posts/{name}": "Secondo.\n" for name in NAMES[::2]}, "2026-07-15T09:30:00+02:00")
    times = sitemap.git_commit_times(repo / "content", ROME)
    assert relative_times(times, repo) == {
        f"content/posts/{name}": "2026-07-15T09:30:00+02:00" if name in NAMES[::2] else "2026-03-10T12:00:00+01:00"
        for name in NAMES}
    item = SimpleNamespace(date=dt.datetime(2026, 3, 1, 10, 0, tzinfo=ROME), modified=None,
                           source_path=str(repo / "content" / "posts" / NAMES[0]))
    assert sitemap.item_lastmod(item, times).isoformat() == "2026-07-15T09:30:00+02:00"


def test_a_commit_dated_before_its_parent_does_not_hide_the_newer_one(tmp_path, monkeypatch):
    """Committer times need not follow git's order: a file takes the latest of its commits' times."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = tmp_path / "shop"
    repo.mkdir()
    git(repo, "init", "-q")
    commit(repo, {"content/posts/a.md": "Primo.\n"}, "2026-07-15T09:30:00+02:00")
    commit(repo, {"content/posts/a.md": "Secondo.\n"}, "2026-03-10T12:00:00+01:00")  # a clock set back
    assert relative_times(sitemap.git_commit_times(repo / "content", ROME), repo) == {
        "content/posts/a.md": "2026-07-15T09:30:00+02:00"}


@pytest.mark.parametrize("modified, committed, expected", [
    ("2026-09-01T10:00+02:00", "2026-07-15T09:30+02:00", "2026-09-01T10:00:00+02:00"),  # Modified wins
    (None, "2026-07-15T07:30+00:00", "2026-07-15T09:30:00+02:00"),  # the commit, in the item's zone
    (None, "2026-02-01T10:00+01:00", "2026-03-01T10:00:00+01:00"),  # committed before its date: the date
    (None, None, "2026-03-01T10:00:00+01:00"),  # no history: the date
])
def test_item_lastmod_prefers_modified_then_commit_then_date(tmp_path, modified, committed, expected):
    source = str(tmp_path / "a.md")
    item = SimpleNamespace(date=dt.datetime(2026, 3, 1, 10, 0, tzinfo=ROME), source_path=source,
                           modified=dt.datetime.fromisoformat(modified) if modified else None)
    commits = {os.path.realpath(source): dt.datetime.fromisoformat(committed)} if committed else {}
    assert sitemap.item_lastmod(item, commits).isoformat() == expected


def test_a_listing_changed_when_the_newest_item_it_lists_did():
    items = [SimpleNamespace(date=dt.datetime(2026, 3, day, tzinfo=ROME), modified=None, source_path=f"/x/{day}.md")
             for day in (1, 9, 5)]
    assert sitemap.listing_lastmod(items, {}) == dt.datetime(2026, 3, 9, tzinfo=ROME)
    assert sitemap.listing_lastmod([], {}) is None


def lastmods(output) -> dict:
    tree = etree.parse(str(output / "sitemap.xml"))
    return {url.findtext("s:loc", namespaces=NS): url.findtext("s:lastmod", namespaces=NS)
            for url in tree.getroot().findall("s:url", NS)}


def test_the_built_sitemap_takes_lastmod_from_history_and_a_clone_agrees(repository, tmp_path):
    built = lastmods(run_build(repository / "content", tmp_path / "out-1", "publishconf.py", SITE_NOW="2026-12-01"))
    assert built[f"{SITE}/blog/a/"] == "2026-07-15T09:30:00+02:00"  # its last commit, not today's mtime
    assert built[f"{SITE}/blog/b/"] == "2026-03-10T12:00:00+01:00"
    assert built[f"{SITE}/blog/c/"] == "2026-09-01T10:00:00+02:00"  # its Modified field
    assert built[f"{SITE}/"] == built[f"{SITE}/blog/"] == "2026-09-01T10:00:00+02:00"  # the newest it lists
    assert built[f"{SITE}/blog/categoria/prove/"] == built[f"{SITE}/blog/archivio/"] == "2026-09-01T10:00:00+02:00"
    assert [loc for loc, lastmod in built.items() if not lastmod] == [f"{SITE}/prodotti/"]  # an empty catalogue
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{repository}", str(clone)], check=True, capture_output=True)
    assert lastmods(run_build(clone / "content", tmp_path / "out-2", "publishconf.py", SITE_NOW="2026-12-01")) == built
