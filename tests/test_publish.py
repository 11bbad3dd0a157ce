"""Publishing: releases switched by one symlink (locally and over ssh), a cut upload that changes nothing live,
one publish at a time per target from any machine, remote paths no shell can split, switches without GNU mv,
prunes that never leave a half-deleted release, rsync without a shell, a Git branch, tools (the validator too)
looked up before the build, and the checked folder itself uploaded."""

from __future__ import annotations

import datetime as dt
import filecmp
import os
import re
import shutil
import signal
import socket
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

# ssh as sshd would run it, but on this machine: skip the options and the host, run the command through sh
# in the home folder.
FAKE_SSH = """#!/bin/sh
while [ $# -gt 0 ]; do
  case "$1" in
    -l|-p|-o|-i|-F) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
shift
cd "$HOME" || exit 1
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
    # ~/ is the home folder, where rsync and ssh both start: relative, so the upload and the switch agree.
    ("example.it:~/negozio/", releases.Target("ssh", "negozio", "example.it")),
    ("example.it:~", releases.Target("ssh", ".", "example.it")),
    ("deploy@example.it:/srv/il negozio", releases.Target("ssh", "/srv/il negozio", "deploy@example.it")),
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
    ("-oProxyCommand=pwn:/srv", "a host cannot start with '-'"),
    ("deploy@-oProxyCommand=pwn:/srv", "a host cannot start with '-'"),
    ("example.it:~deploy/negozio", "absolute path instead of ~deploy"),
    ("example.it:/srv/negozio\nnuovo", "control characters"),
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
    ({"PUBLISH_LOCK_STALE_HOURS": 0}, "PUBLISH_LOCK_STALE_HOURS"),
    ({"PUBLISH_LOCK_STALE_HOURS": "2"}, "PUBLISH_LOCK_STALE_HOURS"),
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


def test_uploads_over_ssh_protect_their_paths_from_the_remote_shell():
    target = releases.parse_target("deploy@example.it:/srv/il negozio")
    command = releases.upload_command(Path("/site"), target, None)
    assert "-s" in command and command[-1] == "deploy@example.it:/srv/il negozio/releases/.incoming/"
    assert "-s" not in releases.upload_command(Path("/site"), releases.parse_target("/srv/shop"), None)


def test_a_listing_names_who_holds_the_lock():
    text = ("now=1772360000\nheld=yes\nholder.host=ci-runner\nholder.pid=4242\nholder.token=ab\n"
            "holder.since=1772356400\n")
    listing = releases.parse_listing(text, "/srv/shop")
    assert listing.holder == releases.Holder("ci-runner", 4242, 1772356400,
                                             "host=ci-runner\npid=4242\ntoken=ab\nsince=1772356400")
    message = releases.held_message("/srv/shop", listing.holder, listing.now, 2, breaking=False)
    assert "being published by ci-runner (pid 4242) since 2026-03-01 09:13 UTC (1 h 0 min ago)" in message
    assert "/srv/shop/releases/.lock" in message and "--break-lock" in message


HOUR = 3600


@pytest.mark.parametrize("holder, age, breakable", [
    (releases.Holder("altra-macchina", 4242, 0, "x"), 2 * HOUR - 1, None),
    (releases.Holder("altra-macchina", 4242, 0, "x"), 2 * HOUR, "more than PUBLISH_LOCK_STALE_HOURS (2 h)"),
    (releases.Holder("questa", 4242, 0, "x"), 60, "process 4242 on this machine is no longer running"),
    (releases.Holder("questa", 1, 0, "x"), 60, None),  # its process is running
    (releases.Holder("", None, None, ""), None, "does not say who took it when"),
    (releases.Holder("altra-macchina", 4242, None, "host=altra-macchina\npid=4242"), 60, "does not say"),
])
def test_only_a_stale_lock_or_one_whose_process_ended_may_be_broken(holder, age, breakable):
    verdict = releases.why_breakable(holder, age, 2, "questa", alive=lambda pid: pid == 1)
    assert verdict == breakable or (breakable and breakable in verdict)


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


def cut_publish(site: Path, target: str, rsh: str, incoming: Path, while_running=None) -> int:
    """Start a publish in its own process group and SIGKILL the group once part of the new images arrived
    (after while_running(pid), when given); the pid it had."""
    process = subprocess.Popen([sys.executable, "-c", DRIVER, str(site), target, rsh, str(ROOT / "plugins")],
                               start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while len(list((incoming / "images").glob("nuova-*.bin"))) < 3:
            if process.poll() is not None:
                pytest.fail(f"the publish ended before it could be cut: {process.stderr.read()!r}")
            time.sleep(0.02)
        if while_running is not None:
            while_running(process.pid)
        assert process.poll() is None, "the publish ended before it could be cut"
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        process.stderr.close()
    return process.pid


@pytest.mark.parametrize("kind", ["local", "ssh"])
def test_a_cut_upload_leaves_the_previous_release_live_and_a_rerun_completes(kind, tmp_path, fake_ssh):
    served = tmp_path / "srv"
    target = releases.parse_target(address(kind, served))
    old = write_site(tmp_path / "old", "249.00")
    first = releases.publish(old, target, settings(), fake_ssh, say=print, now=FIRST)
    new = write_site(tmp_path / "new", "229.00", images=NEW_FILES)

    incoming = served / "releases" / releases.INCOMING
    refused = []

    def publish_at_the_same_time(pid):
        # Another machine or another checkout, even with --break-lock: the running publish holds the target.
        holder = re.escape(f"{socket.gethostname()} (pid {pid}) since")
        with pytest.raises(releases.PublishError, match=holder) as error:
            releases.publish(write_site(tmp_path / "other", "1.00"), target, settings(), fake_ssh, say=refused.append,
                             now=SECOND, break_lock=True)
        refused.append(str(error.value))

    pid = cut_publish(new, address(kind, served), fake_ssh, incoming, publish_at_the_same_time)
    assert "not broken, as that publish may still be running" in refused[-1]
    assert not [line for line in refused if line.startswith("Uploading")]

    arrived = len(list((incoming / "images").glob("nuova-*.bin")))
    assert 3 <= arrived < NEW_FILES  # really cut half-way
    assert os.readlink(served / "current") == f"releases/{first.release}"
    for served_file in ("index.html", "feeds/posts.xml", "merchant.xml"):
        assert filecmp.cmp(served / "current" / served_file, old / served_file, shallow=False)
    assert sorted(p.name for p in (served / "releases").iterdir()) == [releases.INCOMING, releases.LOCK,
                                                                       first.release]
    # The killed publish's lock stays: refused without --break-lock, broken with it (its process has ended).
    with pytest.raises(releases.PublishError, match=f"pid {pid}\\).*publish again with --break-lock"):
        releases.publish(new, target, settings(), fake_ssh, say=print, now=SECOND)
    said = []
    rerun = releases.publish(new, target, settings(), fake_ssh, say=said.append, now=SECOND, break_lock=True)
    assert f"Breaking the lock on {target} held by {socket.gethostname()} (pid {pid})" in said[0]
    assert os.readlink(served / "current") == f"releases/{rerun.release}"
    assert files_of(served / "current") == files_of(new)  # no half-written temporary file of the cut rsync
    assert rerun.transfer.sent <= NEW_FILES + 4 - arrived  # what the cut run uploaded is reused
    assert sorted(p.name for p in (served / "releases").iterdir()) == [first.release, rerun.release]


def write_lock(served: Path, host: str, pid: int, age: int) -> None:
    """A lock as another machine's publish leaves it, taken `age` seconds ago."""
    lock = served / "releases" / releases.LOCK
    lock.mkdir(parents=True)
    (lock / "owner").write_text(f"host={host}\npid={pid}\ntoken=0123456789abcdef\nsince={int(time.time()) - age}\n")


def test_a_lock_from_another_machine_is_refused_until_it_is_stale(tmp_path):
    served = tmp_path / "srv"
    target = releases.parse_target(str(served))
    first = releases.publish(write_site(tmp_path / "old", "249.00"), target, settings(), say=print, now=FIRST)
    write_lock(served, "ci-runner-7", 4242, age=10 * 60)
    new = write_site(tmp_path / "new", "229.00")
    for break_lock in (False, True):
        with pytest.raises(releases.PublishError, match=r"ci-runner-7 \(pid 4242\) since .* \(10 min ago\)"):
            releases.publish(new, target, settings(), say=print, now=SECOND, break_lock=break_lock)
    assert os.readlink(served / "current") == f"releases/{first.release}"
    assert not (served / "releases" / releases.INCOMING).exists()  # nothing was uploaded

    shutil.rmtree(served / "releases" / releases.LOCK)
    write_lock(served, "ci-runner-7", 4242, age=3 * 3600)
    said = []
    second = releases.publish(new, target, settings(), say=said.append, now=SECOND, break_lock=True)
    assert "it is 3 h 0 min old, more than PUBLISH_LOCK_STALE_HOURS (2 h)" in said[0]
    assert os.readlink(served / "current") == f"releases/{second.release}"
    assert not (served / "releases" / releases.LOCK).exists()


@pytest.mark.parametrize("kind", ["local", "ssh"])
def test_a_failed_upload_removes_its_lock(kind, tmp_path, fake_ssh):
    served = tmp_path / "srv"
    target = releases.parse_target(address(kind, served))
    with pytest.raises(releases.PublishError, match="rsync to .* failed"):
        releases.publish(write_site(tmp_path / "site", "1.00"), target, settings(PUBLISH_RSYNC_OPTIONS=["--nessuna"]),
                         fake_ssh, say=print, now=FIRST)
    assert not (served / "releases" / releases.LOCK).exists()
    releases.publish(write_site(tmp_path / "site", "1.00"), target, settings(), fake_ssh, say=print, now=FIRST)


def test_a_remote_path_reaches_rsync_and_the_switch_unsplit_and_unrun(tmp_path, fake_ssh, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("RSYNC_OLD_ARGS", "1")  # rsync as before 3.2.4: remote paths go through the remote shell
    served = tmp_path / "il negozio $(touch pwned)"
    target = releases.parse_target(f"negozio.example:{served}")
    releases.publish(write_site(tmp_path / "old", "249.00"), target, settings(), fake_ssh, say=print, now=FIRST)
    new = write_site(tmp_path / "new", "229.00")
    second = releases.publish(new, target, settings(), fake_ssh, say=print, now=SECOND)
    assert os.readlink(served / "current") == f"releases/{second.release}"
    assert files_of(served / "current") == files_of(new)
    assert list(tmp_path.rglob("pwned")) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-ssh", "home", "il negozio $(touch pwned)", "new",
                                                          "old"]  # not split at the space either


def test_a_remote_home_folder_is_the_same_for_the_upload_and_the_switch(tmp_path, fake_ssh, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    target = releases.parse_target("negozio.example:~/negozio")
    first = releases.publish(write_site(tmp_path / "old", "249.00"), target, settings(), fake_ssh, say=print,
                             now=FIRST)
    new = write_site(tmp_path / "new", "229.00")
    second = releases.publish(new, target, settings(), fake_ssh, say=print, now=SECOND)
    assert sorted(p.name for p in (home / "negozio" / "releases").iterdir()) == [first.release, second.release]
    assert files_of(home / "negozio" / "current") == files_of(new)
    assert [p.name for p in home.iterdir()] == ["negozio"]  # no folder named ~ anywhere
    assert not list(tmp_path.rglob("~*"))


def fake_programs(folder: Path, programs: dict[str, str]) -> str:
    """Scripts that stand in for programs on PATH (first), for the shell scripts publishing runs; the new PATH."""
    folder.mkdir(exist_ok=True)
    for name, text in programs.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


# mv without GNU's -T (and without BSD's -h), as on macOS, BSD or BusyBox hosts.
MV_WITHOUT_T = """#!/bin/sh
for argument in "$@"; do
  case "$argument" in
    -T|-h|-hf|-fh) echo "mv: illegal option -- ${argument#-}" >&2; exit 64 ;;
    --) break ;;
  esac
done
exec %s "$@"
"""


@pytest.mark.parametrize("kind", ["local", "ssh"])
def test_the_switch_needs_no_gnu_mv(kind, tmp_path, fake_ssh, monkeypatch):
    monkeypatch.setenv("PATH", fake_programs(tmp_path / "bin", {"mv": MV_WITHOUT_T % shutil.which("mv")}))
    served = tmp_path / "srv"
    target = releases.parse_target(address(kind, served))
    first = releases.publish(write_site(tmp_path / "old", "249.00"), target, settings(), fake_ssh, say=print,
                             now=FIRST)
    new = write_site(tmp_path / "new", "229.00")
    second = releases.publish(new, target, settings(), fake_ssh, say=print, now=SECOND)
    assert os.readlink(served / "current") == f"releases/{second.release}"
    assert files_of(served / "current") == files_of(new)
    releases.rollback(target, fake_ssh, say=print)
    assert os.readlink(served / "current") == f"releases/{first.release}"


def test_a_host_that_cannot_rename_atomically_is_told_what_it_needs(tmp_path, fake_ssh, monkeypatch):
    served = tmp_path / "srv"
    target = releases.parse_target(address("ssh", served))
    first = releases.publish(write_site(tmp_path / "old", "249.00"), target, settings(), fake_ssh, say=print,
                             now=FIRST)
    monkeypatch.setenv("PATH", fake_programs(tmp_path / "bin", {"mv": MV_WITHOUT_T % shutil.which("mv"),
                                                                "python3": "#!/bin/sh\nexit 127\n"}))
    with pytest.raises(releases.PublishError, match="the host needs GNU mv -T, BSD mv -h or python3"):
        releases.publish(write_site(tmp_path / "new", "229.00"), target, settings(), fake_ssh, say=print, now=SECOND)
    assert os.readlink(served / "current") == f"releases/{first.release}"
    assert files_of(served / "current") == files_of(tmp_path / "old")
    assert not (served / "releases" / releases.LOCK).exists()


# rm that is cut while it deletes a folder: one file goes, then the script running it is killed.
CUT_RM = """#!/bin/sh
for argument in "$@"; do
  if [ -d "$argument" ]; then
    find "$argument" -type f | head -n 1 | while read -r file; do %s -f -- "$file"; done
    kill -KILL $PPID
    exit 137
  fi
done
exec %s "$@"
"""


def test_a_cut_prune_leaves_no_half_deleted_release_to_roll_back_to(tmp_path, fake_ssh, monkeypatch):
    served = tmp_path / "srv"
    target = releases.parse_target(address("ssh", served))
    keep_two = settings(PUBLISH_KEEP_RELEASES=2)
    published = [releases.publish(write_site(tmp_path / f"v{day}", f"{day}.00"), target, keep_two, fake_ssh,
                                  say=print, now=dt.datetime(2026, 3, day, 9, 0, tzinfo=UTC)) for day in (1, 2)]
    real_rm = shutil.which("rm")
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", fake_programs(tmp_path / "bin", {"rm": CUT_RM % (real_rm, real_rm)}))
    third = releases.publish(write_site(tmp_path / "v3", "3.00"), target, keep_two, fake_ssh, say=print,
                             now=dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    monkeypatch.setenv("PATH", path)

    assert os.readlink(served / "current") == f"releases/{third.release}"
    assert third.removed == () and "Old releases were not all removed" in third.note
    left = sorted(p.name for p in (served / "releases").iterdir())
    assert left == [f"{releases.TRASH}{published[0].release}", published[1].release, third.release]
    assert len(files_of(served / "releases" / left[0])) == len(files_of(tmp_path / "v1")) - 1  # really cut
    back = releases.rollback(target, fake_ssh, say=print)
    assert back.release == published[1].release
    with pytest.raises(releases.PublishError, match="no release older than the live one"):
        releases.rollback(target, fake_ssh, say=print)  # never the half-deleted one
    assert sorted(p.name for p in (served / "releases").iterdir()) == [published[1].release, third.release]


def test_old_releases_are_renamed_away_before_they_are_deleted_here(tmp_path, monkeypatch):
    served = tmp_path / "srv"
    target = releases.parse_target(str(served))
    keep_two = settings(PUBLISH_KEEP_RELEASES=2)
    published = [releases.publish(write_site(tmp_path / f"v{day}", f"{day}.00"), target, keep_two, say=print,
                                  now=dt.datetime(2026, 3, day, 9, 0, tzinfo=UTC)) for day in (1, 2)]
    deleted = []
    real_rmtree = shutil.rmtree

    def record(path, *args, **kwargs):
        deleted.append(Path(path).name)
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(releases.shutil, "rmtree", record)
    third = releases.publish(write_site(tmp_path / "v3", "3.00"), target, keep_two, say=print,
                             now=dt.datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
    assert third.removed == (published[0].release,)
    assert f"{releases.TRASH}{published[0].release}" in deleted and published[0].release not in deleted
    assert sorted(p.name for p in (served / "releases").iterdir()) == [published[1].release, third.release]


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
    disallowed = [line.split(":", 1)[1].strip() for line in robots.splitlines() if line.startswith("Disallow:")]
    assert "bozze" not in robots and disallowed == ["/cerca/?", "/en/search/?"]  # only the search results

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


@pytest.fixture
def no_html_validation(monkeypatch):
    """The W3C validator left out of the task's checks (the tests that start Java are marked slow)."""
    monkeypatch.setattr(checks, "invalid_html", lambda output, java="java": [])
    monkeypatch.setattr(checks, "missing_validator", lambda *args, **kwargs: None)


def test_the_folder_that_passed_the_checks_is_the_one_uploaded(project, monkeypatch, no_html_validation):
    served = project / "srv"
    real_publish = releases.publish
    uploaded_from = []

    def development_build_in_between(site, *args, **kwargs):
        # `invoke serve` rebuilds output/ with the development settings between the checks and the upload.
        assert build_site(ROOT, ROOT / "pelicanconf.py", tasks.OUTPUT, tasks.CONTENT)
        assert (tasks.OUTPUT / "bozze").is_dir()
        uploaded_from.append(Path(site))
        return real_publish(site, *args, **kwargs)

    monkeypatch.setattr(releases, "publish", development_build_in_between)
    tasks.publish(Context(), target=f"file://{served}")
    live = files_of(served / "current")
    assert "blog/buono/index.html" in live and not [path for path in live if "bozz" in path]
    canonical = parse(served / "current" / "blog" / "buono" / "index.html").find("link", rel="canonical")
    assert canonical["href"] == f"{SITE}/blog/buono/"
    assert uploaded_from[0] != tasks.OUTPUT and not uploaded_from[0].exists()  # swapped in after the upload
    assert files_of(project / "output") == live


def test_an_upload_that_fails_leaves_output_as_it_was(project, no_html_validation):
    served = project / "srv"
    write_site(served / "current", "vecchio")  # not a release target: the upload is refused
    with pytest.raises(Exit, match="current is not a symlink"):
        tasks.publish(Context(), target=str(served))
    assert not (project / "output").exists()
    assert [p.name for p in project.iterdir() if p.name.startswith(".output-building-")] == []


def test_a_missing_java_is_reported_before_any_build(project, monkeypatch):
    bin_dir = project / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    built = []
    monkeypatch.setattr("core.build.build_site", lambda *args, **kwargs: built.append(args))
    with pytest.raises(Exit, match=r"needs Java \(java not found\): sudo apt-get install default-jre-headless, "
                                   r"then publish again\. Nothing was built\.$"):
        tasks.publish(Context())
    assert built == [] and not (project / "output").exists()


def test_the_validator_is_looked_up_with_what_to_install(monkeypatch):
    def found(tool):
        return f"/usr/bin/{tool}"

    monkeypatch.setattr(checks, "VNU_JAR", checks.PROJECT_ROOT / "node_modules" / "vnu-jar-assente" / "vnu.jar")
    missing = checks.missing_validator(which=lambda tool: None)
    assert missing.startswith("the W3C HTML validator needs Java (java not found): sudo apt-get install")
    assert "node_modules/vnu-jar-assente/vnu.jar is missing" in missing and "npm ci" in missing
    assert "Java" not in checks.missing_validator(which=found)
    monkeypatch.setattr(checks, "VNU_JAR", Path(checks.__file__))  # any file that is there
    assert checks.missing_validator(which=found) is None


def test_the_validator_is_given_the_folder_not_each_page(tmp_path):
    write_site(tmp_path / "site", "1.00")
    command = checks.validator_command(tmp_path / "site", Path("vnu.jar"))
    assert command[-1] == str(tmp_path / "site") and "--skip-non-html" in command
    assert not [part for part in command if part.endswith(".html")]


FAKE_JAVA = {
    "crashes": "#!/bin/sh\necho 'Error: Unable to access jarfile vnu.jar' >&2\nexit 1\n",
    "writes no report": "#!/bin/sh\necho 'Picked up JAVA_TOOL_OPTIONS: -Xmx64m' >&2\n",
}


@pytest.mark.parametrize("java, problem", [
    (None, "the W3C HTML validator could not start 'java' (No such file or directory): install Java"),
    ("crashes", "the W3C HTML validator failed (exit 1) and wrote no report: Error: Unable to access jarfile"),
    ("writes no report", "the W3C HTML validator failed (exit 0) and wrote no report: Picked up JAVA_TOOL_OPTIONS"),
])
def test_a_validator_that_cannot_run_is_a_failed_check_not_a_traceback(tmp_path, monkeypatch, java, problem):
    site = write_site(tmp_path / "site", "1.00")
    monkeypatch.setattr(checks, "VNU_JAR", Path(checks.__file__))  # found; the fake java never reads it
    monkeypatch.setenv("PATH", fake_programs(tmp_path / "bin", {"java": FAKE_JAVA[java]} if java else {}) if java
                       else str(tmp_path))
    said = []
    assert not checks.passes(site, SITE, say=said.append)
    assert said[-2:] == ["HTML validity (W3C Nu): 1 problem(s)", f"  {said[-1].strip()}"]
    assert said[-1].strip().startswith(problem)


def test_a_page_that_cannot_be_read_is_a_failed_check_not_a_traceback(tmp_path):
    site = write_site(tmp_path / "site", "1.00")
    (site / "vecchia.html").write_bytes("<title>Più vecchia</title>".encode("latin-1"))
    results = checks.run_all(site, SITE, html=False)
    assert len(results["links and assets"]) == 1
    assert results["links and assets"][0].startswith("the check could not run: UnicodeDecodeError")


@pytest.mark.slow
def test_the_validator_checks_more_pages_than_one_command_line_can_hold(tmp_path):
    require_validator()
    site = tmp_path / "site"
    deep = site.joinpath(*[f"sezione-{level}-" + "x" * 200 for level in range(12)])
    deep.mkdir(parents=True)
    page = "<!doctype html><html lang=it><title>Pagina</title><p>Bene</p></html>"
    limit = os.sysconf("SC_ARG_MAX")
    for number in range(limit // len(str(deep)) + 50):
        (deep / f"pagina-{number:04}-{'y' * 200}.html").write_text(page)
    (deep / "rotta.html").write_text("<!doctype html><html lang=it><title>Rotta</title><p>Male</span></html>")
    assert sum(len(str(path)) + 1 for path in checks.html_files(site)) > limit  # one command line could not
    problems = checks.invalid_html(site)
    assert len(problems) == 1 and problems[0].endswith("rotta.html:1: Stray end tag “span”.")
    assert problems[0].startswith("sezione-0-")
