"""Publishing: releases switched by one symlink (locally and over ssh), a cut upload that changes nothing live,
rsync without a shell, a Git branch, tools looked up before the build, and checks that guard output/."""

from __future__ import annotations

import datetime as dt
import filecmp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT, parse, post, require_validator, run_build, write_content
from invoke import Context
from invoke.exceptions import Exit

import tasks
from core import checks
from core import publish as releases
from core.build import build_site

SITE = "https://www.cordeelegni.example"
UTC = dt.timezone.utc
FIRST, SECOND = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC), dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_FILES = 40  # new images of the second release: enough to cut its upload half-way

# ssh as sshd would run it, but on this machine: skip the options and the host, run the command through sh.
FAKE_SSH = """#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in
    -l|-p|-o|-i|-F) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
shift
exec sh -c "$*"
"""

# A publish in its own process, slowed down by rsync's own bandwidth limit so that it can be cut.
DRIVER = """import sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from core import publish
config = publish.PublishSettings.from_settings({"PUBLISH_RSYNC_OPTIONS": ["--bwlimit=64"]})
publish.publish(Path(sys.argv[1]), publish.parse_target(sys.argv[2]), config, rsh=sys.argv[3])
"""


def settings(**values) -> releases.PublishSettings:
    return releases.PublishSettings.from_settings(values)


def write_site(folder: Path, version: str, images: int = 0) -> Path:
    """A prepared site (not a build): a page, a feed, a shared stylesheet, and `images` new image files."""
    write_content(folder, {
        "index.html": f"<!doctype html><title>Corde & Legni</title><p>Prezzo {version}</p>",
        "feeds/posts.xml": f"<rss version='2.0'><channel><title>{version}</title></channel></rss>",
        "merchant.xml": f"<rss><item><price>{version} EUR</price></item></rss>",
        "theme/css/main.css": "body { margin: 0 }",
        f"blog/post-{version}/index.html": f"<p>{version}</p>",
    })
    for number in range(images):
        write_content(folder, {f"images/nuova-{number:02}.bin": os.urandom(32 * 1024)})
    return folder


def files_of(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def fake_ssh(tmp_path) -> str:
    script = tmp_path / "fake-ssh"
    script.write_text(FAKE_SSH)
    script.chmod(0o755)
    return str(script)


# --- Pure plans ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("address, expected", [
    ("/srv/shop", releases.Target("local", "/srv/shop")),
    ("file:///srv/shop", releases.Target("local", "/srv/shop")),
    ("./sito", releases.Target("local", "./sito")),
    ("deploy@example.it:/var/www/shop/", releases.Target("ssh", "/var/www/shop", "deploy@example.it")),
    ("example.it:negozio", releases.Target("ssh", "negozio", "example.it")),
    ("rsync://example.it/sito/negozio", releases.Target("rsync", "rsync://example.it/sito/negozio")),
    ("git:gh-pages", releases.Target("git", "gh-pages")),
])
def test_targets_are_read_from_their_address(address, expected):
    assert releases.parse_target(address) == expected


@pytest.mark.parametrize("address, message", [
    ("", "no publish target"),
    ("git:", "name a branch"),
    ("git:../main", "name a branch"),
    ("file://srv/shop", "absolute path"),
    ("deploy@example.it:", "name the folder"),
])
def test_bad_targets_say_how_to_write_them(address, message):
    with pytest.raises(releases.PublishError, match=message):
        releases.parse_target(address)


def test_without_a_shell_an_ssh_address_is_an_rsync_only_target():
    assert releases.parse_target("deploy@example.it:/srv", shell=False) == \
        releases.Target("rsync", "/srv", "deploy@example.it")


@pytest.mark.parametrize("values, message", [
    ({"PUBLISH_KEEP_RELEASES": 1}, "at least 2"),
    ({"PUBLISH_KEEP_RELEASES": True}, "at least 2"),
    ({"PUBLISH_RSYNC_OPTIONS": ["--inplace"]}, "--inplace is not allowed"),
    ({"PUBLISH_RSYNC_OPTIONS": "--bwlimit=10"}, "list of rsync options"),
    ({"PUBLISH_SHELL": "no"}, "PUBLISH_SHELL"),
    ({"PUBLISH_GIT_REMOTE": ""}, "PUBLISH_GIT_REMOTE"),
])
def test_publish_settings_are_checked_once(values, message):
    with pytest.raises(releases.PublishError, match=message):
        settings(**values)


def test_missing_programs_are_named_with_what_to_install():
    def nothing(tool):
        return None

    ssh = releases.parse_target("deploy@example.it:/srv/shop")
    assert "needs rsync and ssh" in releases.missing_tools(ssh, "ssh", which=nothing)
    assert "sudo apt-get install rsync openssh-client" in releases.missing_tools(ssh, "ssh", which=nothing)
    local = releases.parse_target("/srv/shop")
    assert "sudo apt-get install rsync," in releases.missing_tools(local, "ssh", which=nothing)
    assert "sudo apt-get install git" in releases.missing_tools(releases.parse_target("git:pages"), which=nothing)
    assert "RSYNC_RSH names '/opt/my-ssh'" in releases.missing_tools(ssh, "/opt/my-ssh -p 2222", which=nothing)
    assert releases.missing_tools(ssh, "ssh", which=lambda tool: f"/usr/bin/{tool}") is None


def test_a_listing_names_complete_releases_and_the_live_one():
    text = ("current=releases/20260302T090000Z-bbbbbbbb\nrelease=20260301T090000Z-aaaaaaaa\n"
            "release=20260302T090000Z-bbbbbbbb\nrelease=lost+found\nincoming=yes\n")
    listing = releases.parse_listing(text, "/srv/shop")
    assert listing == releases.Listing(("20260301T090000Z-aaaaaaaa", "20260302T090000Z-bbbbbbbb"),
                                       "20260302T090000Z-bbbbbbbb", True)
    assert releases.rollback_release(listing) == "20260301T090000Z-aaaaaaaa"
    with pytest.raises(releases.PublishError, match="/srv/shop/current is not a symlink"):
        releases.parse_listing("blocked=current\n", "/srv/shop")


def test_pruning_keeps_the_newest_the_live_and_the_rollback():
    names = tuple(f"2026030{day}T090000Z-0000000{day}" for day in range(1, 7))
    assert releases.to_remove(names[:5], 3, names[5], names[4]) == list(names[:3])
    # After a rollback to the oldest, the next release still keeps it (it was live).
    assert releases.to_remove(names[:5], 3, names[5], names[0]) == list(names[1:3])


def test_without_a_shell_pages_and_feeds_go_after_the_files_they_use_and_deletions_last():
    target = releases.parse_target("deploy@example.it:/srv", shell=False)
    first, second, third = releases.rsync_only_passes(Path("/site"), target)
    assert "--exclude=*.html" in first and "--exclude=*.xml" in first and "--delete" not in first
    assert not [option for option in second if option.startswith(("--exclude", "--delete"))]
    assert "--delete" in third and third[-1] == "deploy@example.it:/srv/"


# --- Release targets, for real with rsync ---------------------------------------------------------------------

def address(kind: str, folder: Path) -> str:
    return f"negozio.example:{folder}" if kind == "ssh" else str(folder)


@pytest.mark.parametrize("kind", ["local", "ssh"])
def test_a_release_is_switched_in_whole_and_unchanged_files_are_hard_links(kind, tmp_path, fake_ssh):
    served = tmp_path / "srv"
    target = releases.parse_target(address(kind, served))
    old = write_site(tmp_path / "old", "249.00")
    first = releases.publish(old, target, settings(), fake_ssh, say=lambda line: None, now=FIRST)
    assert files_of(served / "current") == files_of(old)
    new = write_site(tmp_path / "new", "229.00")
    said = []
    second = releases.publish(new, target, settings(), fake_ssh, say=said.append, now=SECOND)

    assert os.readlink(served / "current") == f"releases/{second.release}"
    assert files_of(served / "current") == files_of(new)  # byte for byte: the old post is gone too
    assert second.previous == first.release and f"Previous release kept for rollback: {first.release}" in \
        "\n".join(second.lines())
    assert (second.transfer.files, second.transfer.sent) == (5, 4)  # all but the stylesheet
    css = [served / "releases" / name / "theme/css/main.css" for name in (first.release, second.release)]
    assert css[0].stat().st_ino == css[1].stat().st_ino
    assert (served / "current" / "index.html").stat().st_mode & 0o777 == 0o644
    assert any("unchanged files linked to" in line for line in said)

    back = releases.rollback(target, fake_ssh, say=lambda line: None)
    assert back.release == first.release and files_of(served / "current") == files_of(old)


def test_only_the_newest_releases_are_kept(tmp_path):
    served = tmp_path / "srv"
    target = releases.parse_target(str(served))
    published = []
    for day in range(1, 5):
        site = write_site(tmp_path / f"v{day}", f"{day}.00")
        now = dt.datetime(2026, 3, day, 9, 0, tzinfo=UTC)
        published.append(releases.publish(site, target, settings(PUBLISH_KEEP_RELEASES=2), say=print, now=now))
    assert sorted(p.name for p in (served / "releases").iterdir()) == [p.release for p in published[-2:]]
    assert published[-1].removed == (published[1].release,)


def test_a_folder_that_is_not_a_release_target_is_refused(tmp_path):
    served = tmp_path / "srv"
    before = files_of(write_site(served / "current", "vecchio"))  # the old layout: the document root itself
    with pytest.raises(releases.PublishError, match="current is not a symlink: move it away"):
        releases.publish(write_site(tmp_path / "site", "1.00"), releases.parse_target(str(served)), settings(),
                         say=print)
    assert files_of(served / "current") == before and [p.name for p in served.iterdir()] == ["current"]


def cut_publish(site: Path, target: str, rsh: str, incoming: Path) -> None:
    """Start a publish in its own process group and SIGKILL the group once part of the new images arrived."""
    process = subprocess.Popen([sys.executable, "-c", DRIVER, str(site), target, rsh, str(ROOT / "plugins")],
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while len(list((incoming / "images").glob("nuova-*.bin"))) < 3:
            if process.poll() is not None:
                pytest.fail(f"the publish ended before it could be cut: {process.stderr.read()!r}")
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
        process.stderr.close()


@pytest.mark.parametrize("kind", ["local", "ssh"])
def test_a_cut_upload_leaves_the_previous_release_live_and_a_rerun_completes(kind, tmp_path, fake_ssh):
    served = tmp_path / "srv"
    target = releases.parse_target(address(kind, served))
    old = write_site(tmp_path / "old", "249.00")
    first = releases.publish(old, target, settings(), fake_ssh, say=print, now=FIRST)
    new = write_site(tmp_path / "new", "229.00", images=NEW_FILES)

    incoming = served / "releases" / releases.INCOMING
    cut_publish(new, address(kind, served), fake_ssh, incoming)

    arrived = len(list((incoming / "images").glob("nuova-*.bin")))
    assert 3 <= arrived < NEW_FILES  # really cut half-way
    assert os.readlink(served / "current") == f"releases/{first.release}"
    for served_file in ("index.html", "feeds/posts.xml", "merchant.xml"):
        assert filecmp.cmp(served / "current" / served_file, old / served_file, shallow=False)
    assert sorted(p.name for p in (served / "releases").iterdir()) == [releases.INCOMING, first.release]

    rerun = releases.publish(new, target, settings(), fake_ssh, say=print, now=SECOND)
    assert os.readlink(served / "current") == f"releases/{rerun.release}"
    assert files_of(served / "current") == files_of(new)  # no half-written temporary file of the cut rsync
    assert rerun.transfer.sent <= NEW_FILES + 4 - arrived  # what the cut run uploaded is reused
    assert sorted(p.name for p in (served / "releases").iterdir()) == [first.release, rerun.release]


def test_without_a_shell_the_site_is_uploaded_in_place_and_old_files_deleted_last(tmp_path, fake_ssh):
    served = tmp_path / "srv"
    target = releases.parse_target(f"negozio.example:{served}", shell=False)
    releases.publish(write_site(tmp_path / "old", "249.00"), target, settings(), fake_ssh, say=print, now=FIRST)
    new = write_site(tmp_path / "new", "229.00", images=2)
    summary = releases.publish(new, target, settings(), fake_ssh, say=print, now=SECOND)
    assert files_of(served) == files_of(new)
    assert not (served / "releases").exists() and not (served / "current").exists()
    assert (summary.transfer.sent, summary.transfer.deleted) == (6, 2)  # the old post and its folder
    assert "nothing to roll back to" in "\n".join(summary.lines())


# --- Git branch ----------------------------------------------------------------------------------------------

def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture
def shop_repo(tmp_path, monkeypatch):
    for variable, value in (("GIT_AUTHOR_NAME", "Bottega"), ("GIT_AUTHOR_EMAIL", "bottega@example.it"),
                            ("GIT_COMMITTER_NAME", "Bottega"), ("GIT_COMMITTER_EMAIL", "bottega@example.it"),
                            ("GIT_CONFIG_GLOBAL", os.devnull), ("GIT_CONFIG_NOSYSTEM", "1")):
        monkeypatch.setenv(variable, value)
    repo = tmp_path / "negozio"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "pelicanconf.py").write_text("SITENAME = 'Corde & Legni'\n")
    (repo / ".gitignore").write_text("/output/\n*.xml\n")  # the published branch ignores these rules
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "Il negozio")
    return repo


def test_the_git_target_commits_exactly_the_site_and_pushes_it(shop_repo, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    git(shop_repo, "remote", "add", "origin", str(remote))
    target = releases.parse_target("git:gh-pages")
    old = write_site(tmp_path / "old", "249.00")
    first = releases.publish(old, target, settings(), repo=shop_repo, say=print, now=FIRST)
    new = write_site(tmp_path / "new", "229.00")
    second = releases.publish(new, target, settings(), repo=shop_repo, say=print, now=SECOND)

    published = git(remote, "ls-tree", "-r", "--name-only", "gh-pages").splitlines()
    assert sorted(published) == sorted(files_of(new))
    assert git(remote, "show", "gh-pages:merchant.xml").encode() == (new / "merchant.xml").read_bytes()
    messages = git(remote, "log", "--format=%s", "gh-pages").splitlines()
    assert messages == [f"Publish release {second.release} (5 files)", f"Publish release {first.release} (5 files)"]
    assert "pushed to origin" in "\n".join(second.lines())
    # The shop's own branch, index and working tree are untouched.
    assert git(shop_repo, "status", "--porcelain") == ""
    assert git(shop_repo, "log", "--format=%s", "main").splitlines() == ["Il negozio"]
    assert git(shop_repo, "rev-parse", "gh-pages") == git(remote, "rev-parse", "gh-pages")


def test_the_git_target_commits_locally_without_a_remote_and_skips_an_unchanged_site(shop_repo, tmp_path):
    target = releases.parse_target("git:pages")
    site = write_site(tmp_path / "site", "249.00")
    first = releases.publish(site, target, settings(), repo=shop_repo, say=print, now=FIRST)
    again = releases.publish(site, target, settings(), repo=shop_repo, say=print, now=SECOND)
    assert "not pushed (no remote 'origin')" in first.note
    assert len(git(shop_repo, "log", "--format=%H", "pages").splitlines()) == 1
    assert again.note.split(" in commit ")[1][:12] == git(shop_repo, "rev-parse", "pages")[:12]


def test_the_checked_out_branch_is_never_overwritten(shop_repo, tmp_path):
    with pytest.raises(releases.PublishError, match="git:main is the branch checked out"):
        releases.publish(write_site(tmp_path / "site", "1.00"), releases.parse_target("git:main"), settings(),
                         repo=shop_repo, say=print)
    assert git(shop_repo, "ls-tree", "--name-only", "main").split() == [".gitignore", "pelicanconf.py"]


# --- The publish task: tools first, checks before the swap, no drafts --------------------------------------

@pytest.fixture
def project(tmp_path, monkeypatch):
    """tasks.py pointed at a tiny shop in tmp_path (the engine, theme and settings stay the project's)."""
    content = tmp_path / "content"
    write_content(content, {
        "posts/buono.md": post(title="Un post pubblicato", slug="buono"),
        "posts/bozza.md": post(title="Una bozza", slug="bozza", summary="Ancora da scrivere.", status="draft"),
        "pages/chi-siamo.md": "Title: Chi siamo\nSlug: chi-siamo\nSummary: La bottega.\n\nNoi.\n",
        "pages/bozza.md": "Title: Pagina in bozza\nSlug: pagina-bozza\nSummary: Non ancora.\nStatus: draft\n\n"
                          "Presto.\n",
    })
    monkeypatch.setattr(tasks, "CONTENT", content)
    monkeypatch.setattr(tasks, "OUTPUT", tmp_path / "output")
    monkeypatch.setenv("VETRINA_ISSO_BUILD_URL", "")  # no comment server to ask
    monkeypatch.delenv("VETRINA_PUBLISH_TARGET", raising=False)
    monkeypatch.delenv("RSYNC_RSH", raising=False)
    return tmp_path


@pytest.mark.parametrize("target, package", [("deploy@example.it:/srv/shop", "rsync openssh-client"),
                                             ("git:gh-pages", "git")])
def test_missing_programs_are_reported_before_any_build(project, monkeypatch, target, package):
    bin_dir = project / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    built = []
    monkeypatch.setattr("core.build.build_site", lambda *args, **kwargs: built.append(args))
    with pytest.raises(Exit, match=f"sudo apt-get install {package},") as raised:
        tasks.publish(Context(), target=target)
    assert "Nothing was built" in str(raised.value.message)
    assert built == [] and not (project / "output").exists()


def test_a_build_that_fails_its_checks_leaves_output_as_the_last_good_build(tmp_path, monkeypatch):
    monkeypatch.setenv("VETRINA_ISSO_BUILD_URL", "")  # no comment server to ask
    content = tmp_path / "content"
    output = tmp_path / "output"
    write_content(content, {"posts/a.md": post(title="Versione buona")})
    assert build_site(ROOT, ROOT / "publishconf.py", output, content,
                      accept=lambda folder: checks.passes(folder, SITE, html=False, say=print))
    before = files_of(output)
    write_content(content, {"posts/a.md": post(title="Versione rotta", body="[Il listino](/listino-perso/)")})
    said = []
    assert not build_site(ROOT, ROOT / "publishconf.py", output, content,
                          accept=lambda folder: checks.passes(folder, SITE, html=False, say=said.append))
    assert files_of(output) == before
    assert said[0] == "links and assets: 1 problem(s)" and "/listino-perso/" in said[1]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".output-")] == []


def test_production_writes_no_drafts_and_robots_txt_names_no_private_folder(project):
    production = run_build(project / "content", project / "prod", "publishconf.py")
    written = [p.relative_to(production).as_posix() for p in production.rglob("*")]
    assert not [path for path in written if "bozz" in path or path.startswith("drafts")]
    assert checks.broken_links(production, SITE) == []
    robots = (production / "robots.txt").read_text(encoding="utf-8")
    assert "bozze" not in robots and "Disallow:" in robots.splitlines()

    development = run_build(project / "content", project / "dev")
    for draft in ("bozze/bozza/index.html", "bozze/pagine/pagina-bozza/index.html"):
        page = parse(development / draft)
        assert page.find("meta", attrs={"name": "robots"})["content"] == "noindex"
    assert "bozze" not in (development / "robots.txt").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_publish_task_publishes_a_checked_build_and_a_failing_one_changes_nothing(project, capsys):
    require_validator()
    served = project / "srv"
    tasks.publish(Context(), target=f"file://{served}")
    said = capsys.readouterr().out
    assert "HTML validity (W3C Nu): 0 problem(s)" in said and "Release " in said
    live = files_of(served / "current")
    assert "blog/buono/index.html" in live and not [path for path in live if "bozz" in path]
    assert parse(served / "current" / "blog" / "buono" / "index.html").h1.get_text() == "Un post pubblicato"
    output_before = files_of(project / "output")

    write_content(project / "content", {"posts/buono.md": post(title="Un post rotto", slug="buono",
                                                               body="[Un link perso](/non-esiste/)")})
    with pytest.raises(Exit, match="output/ still holds the last good build"):
        tasks.publish(Context(), target=f"file://{served}")
    assert "links and assets: 1 problem(s)" in capsys.readouterr().out
    assert files_of(project / "output") == output_before
    assert files_of(served / "current") == live
