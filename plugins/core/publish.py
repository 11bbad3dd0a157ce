"""Publishing a checked build: releases switched by one symlink (local or over ssh), rsync alone, or a Git branch.

A release target holds `releases/<UTC time>-<content id>/` and a symlink `current` (the web server's document
root) that points at the live one. A new release is uploaded into `releases/.incoming/` (unchanged files are hard
links to the previous release), renamed, and `current` is switched by renaming a new symlink over it. An upload
that is cut leaves `current` on the previous complete release, and the next run reuses what `.incoming` holds.

The plans (targets, listings, what to prune, scripts, rsync's statistics) are pure functions; `publish`,
`rollback` and `publish_git` run them with rsync, sh (or ssh) and git.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

DEFAULTS = {
    "PUBLISH_TARGET": "",
    "PUBLISH_KEEP_RELEASES": 5,
    "PUBLISH_SHELL": True,
    "PUBLISH_GIT_REMOTE": "origin",
    "PUBLISH_RSYNC_OPTIONS": [],
}
INCOMING = ".incoming"
SWITCHING = ".current-switching"
RELEASE_NAME = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")
# Options that would write into files the releases share as hard links, or that publishing decides itself.
FORBIDDEN_RSYNC_OPTIONS = ("--inplace", "--append", "--append-verify", "--delete", "--link-dest",
                           "--remove-source-files")
PACKAGES = {"rsync": "rsync", "ssh": "openssh-client", "git": "git"}
# Pages and feeds go up after the files they use, in the upload without a shell.
PAGES_AND_FEEDS = ("*.html", "*.xml", "*.json", "*.txt")


class PublishError(Exception):
    """Publishing cannot go on; the message is one line that says what to do."""


@dataclass(frozen=True)
class PublishSettings:
    target: str
    keep_releases: int
    shell: bool
    git_remote: str
    rsync_options: tuple[str, ...]

    @classmethod
    def from_settings(cls, settings: dict) -> "PublishSettings":
        def get(key):
            return settings.get(key, DEFAULTS[key])

        keep = get("PUBLISH_KEEP_RELEASES")
        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 2:
            raise PublishError(f"PUBLISH_KEEP_RELEASES {keep!r}: use a whole number of at least 2 "
                               "(the live release and one to roll back to)")
        shell = get("PUBLISH_SHELL")
        if not isinstance(shell, bool):
            raise PublishError(f"PUBLISH_SHELL {shell!r}: use True (ssh gives a shell) or False (rsync only)")
        options = get("PUBLISH_RSYNC_OPTIONS")
        if isinstance(options, str) or not all(isinstance(o, str) and o.startswith("-") for o in options):
            raise PublishError(f"PUBLISH_RSYNC_OPTIONS {options!r}: use a list of rsync options such as "
                               "['--bwlimit=2000']")
        for option in options:
            if option.split("=")[0] in FORBIDDEN_RSYNC_OPTIONS:
                raise PublishError(f"PUBLISH_RSYNC_OPTIONS: {option} is not allowed (releases share unchanged files "
                                   "as hard links, and publishing sets deletion itself): remove it")
        remote = get("PUBLISH_GIT_REMOTE")
        if not isinstance(remote, str) or not remote.strip():
            raise PublishError(f"PUBLISH_GIT_REMOTE {remote!r}: name the Git remote to push to, such as 'origin'")
        return cls(str(get("PUBLISH_TARGET") or ""), keep, shell, remote.strip(), tuple(options))


# --- Targets ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    kind: str  # "local", "ssh" (rsync and a shell), "rsync" (rsync only, best effort) or "git"
    path: str  # the folder; for git, the branch
    host: str = ""  # [user@]host for ssh, and for rsync over ssh without a shell

    def location(self, inside: str = "") -> str:
        """The rsync address of the target folder, or of a folder inside it."""
        path = posixpath.join(self.path, inside) if inside else self.path
        return f"{self.host}:{path}" if self.host else path

    def __str__(self) -> str:
        return f"git:{self.path}" if self.kind == "git" else self.location()


REMOTE = re.compile(r"^(?P<host>(?:[^@/:\s]+@)?[^@/:\s]+):(?P<path>.*)$")


def parse_target(text: str, shell: bool = True) -> Target:
    """A target from its address: a folder or file:// URL, [user@]host:/path, rsync://host/module/path, git:BRANCH."""
    text = (text or "").strip()
    if not text:
        raise PublishError("no publish target: give --target (a folder, user@host:/path or git:BRANCH) "
                           "or set VETRINA_PUBLISH_TARGET")
    if text.startswith("git:"):
        branch = text[len("git:"):]
        if not re.fullmatch(r"[A-Za-z0-9._/-]+", branch) or branch.startswith(("-", "/")) or ".." in branch \
                or branch.endswith((".", "/", ".lock")):
            raise PublishError(f"publish target {text!r}: name a branch after git:, such as git:gh-pages")
        return Target("git", branch)
    if text.startswith("file://"):
        url = urlparse(text)
        path = url.path
        if url.netloc not in ("", "localhost") or not path.startswith("/"):
            raise PublishError(f"publish target {text!r}: a file:// target needs an absolute path (file:///srv/shop)")
        return Target("local", path)
    if text.startswith("rsync://"):
        return Target("rsync", text.rstrip("/"))
    match = REMOTE.match(text)
    if match and not text.startswith(("/", ".", "~")):
        path = match["path"]
        if not path.strip(":/") or path.startswith(":"):
            raise PublishError(f"publish target {text!r}: name the folder after the colon (user@host:/var/www/shop)")
        return Target("ssh" if shell else "rsync", path.rstrip("/") or "/", match["host"])
    return Target("local", text)


def required_tools(target: Target, rsh: str = "ssh") -> list[str]:
    """The programs a target needs on this machine, in the order they are looked up."""
    if target.kind == "git":
        return ["git"]
    tools = ["rsync"]
    if target.host:
        tools.append(shlex.split(rsh)[0] if rsh.strip() else "ssh")
    return tools


def missing_tools(target: Target, rsh: str = "ssh", which=shutil.which) -> str | None:
    """One line saying what to install when a program the target needs is not found, else None."""
    missing = [tool for tool in required_tools(target, rsh) if which(tool) is None]
    if not missing:
        return None
    unknown = [tool for tool in missing if Path(tool).name not in PACKAGES]
    if unknown:
        return (f"publishing to {target} needs {', '.join(missing)}, not found: RSYNC_RSH names {unknown[0]!r}; "
                "fix it or unset it. Nothing was built.")
    packages = " ".join(PACKAGES[Path(tool).name] for tool in missing)
    return (f"publishing to {target} needs {' and '.join(missing)}, not installed: sudo apt-get install {packages}, "
            "then publish again. Nothing was built.")


def prepare(address: str | None, config: PublishSettings, rsh: str = "ssh", rsync_only: bool = False,
            which=shutil.which) -> Target | None:
    """The target an address names (None without one), once the programs it needs are found."""
    if not address:
        return None
    target = parse_target(address, shell=config.shell and not rsync_only)
    missing = missing_tools(target, rsh, which)
    if missing:
        raise PublishError(missing)
    return target


# --- Releases: pure plans ---------------------------------------------------------------------------------------

def site_digest(site: Path) -> str:
    """A short fingerprint of the site's files (paths and contents): the same build gets the same id."""
    digest = hashlib.sha256()
    for file in sorted(p for p in Path(site).rglob("*") if p.is_file()):
        digest.update(file.relative_to(site).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()[:8]


def release_name(digest: str, now: dt.datetime) -> str:
    return f"{now.astimezone(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{digest}"


@dataclass(frozen=True)
class Listing:
    """What a release target holds."""

    releases: tuple[str, ...]  # complete releases, oldest first
    current: str | None  # the release `current` points at
    incoming: bool  # an upload was cut: releases/.incoming is there


def parse_listing(text: str, where: str) -> Listing:
    current, releases, incoming = None, [], False
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "blocked":
            raise PublishError(f"{where}/current is not a symlink: move it away (the web server's document root "
                               f"becomes {where}/current), then publish again")
        if key == "current" and value:
            current = posixpath.basename(value.rstrip("/"))
        elif key == "release" and RELEASE_NAME.match(value):
            releases.append(value)
        elif key == "incoming":
            incoming = True
    return Listing(tuple(sorted(releases)), current if current in releases else None, incoming)


def to_remove(releases: tuple[str, ...], keep: int, live: str, previous: str | None = None) -> list[str]:
    """The releases beyond the newest `keep`, never the live one nor the one it replaces (the rollback)."""
    ordered = sorted(set(releases) | {live})
    return [name for name in ordered[:-keep] if name not in (live, previous)]


def rollback_release(listing: Listing) -> str | None:
    """The newest complete release older than the live one."""
    if listing.current is None:
        return None
    older = [name for name in listing.releases if name < listing.current]
    return older[-1] if older else None


def _folder(target: Target) -> str:
    # A remote ~/path is relative to the home folder, where ssh starts; quoting would keep the ~ literal.
    return target.path[2:] or "." if target.path.startswith("~/") else target.path


def listing_script(target: Target) -> str:
    folder = shlex.quote(_folder(target))
    return "\n".join([
        "set -e",
        f"mkdir -p -- {folder}",
        f"cd -- {folder}",
        'if [ -e current ] && [ ! -L current ]; then echo "blocked=current"; exit 0; fi',
        "mkdir -p releases",
        'if [ -L current ]; then printf "current=%s\\n" "$(readlink current)"; fi',
        'for entry in releases/*; do if [ -d "$entry" ]; then printf "release=%s\\n" "${entry#releases/}"; fi; done',
        f'if [ -d releases/{INCOMING} ]; then echo "incoming=yes"; fi',
    ]) + "\n"


def switch_script(target: Target, release: str, remove: list[str], from_incoming: bool) -> str:
    """Rename the upload into its release (when from_incoming), point `current` at it atomically, prune."""
    lines = ["set -e", f"cd -- {shlex.quote(_folder(target))}"]
    if from_incoming:
        lines.append(f"mv -T -- releases/{INCOMING} releases/{release}")
    lines += [f"ln -sfn -- releases/{release} {SWITCHING}", f"mv -T -- {SWITCHING} current"]
    if remove:
        lines.append("rm -rf -- " + " ".join(f"releases/{name}" for name in remove))
    return "\n".join(lines) + "\n"


def shell_command(target: Target, script: str, rsh: str = "ssh") -> list[str]:
    """Run a script where the target is: sh here, or sh through ssh on the host."""
    if target.host:
        return [*shlex.split(rsh), target.host, "sh -c " + shlex.quote(script)]
    return ["sh", "-c", script]


def rsync_base(target: Target, rsh: str, options: tuple[str, ...]) -> list[str]:
    """Options every upload shares: content compared by checksum (so unchanged files keep their date), files
    world-readable for the web server, owners not copied."""
    command = ["rsync", "--recursive", "--links", "--perms", "--checksum", "--chmod=D755,F644", "--stats"]
    if target.host:
        command += ["--compress", "-e", rsh]
    return command + list(options)


def upload_command(site: Path, target: Target, previous: str | None, rsh: str = "ssh",
                   options: tuple[str, ...] = ()) -> list[str]:
    command = rsync_base(target, rsh, options) + ["--delete"]
    if previous:
        command.append(f"--link-dest=../{previous}")  # relative to the release being uploaded
    return command + [f"{site}/", target.location(f"releases/{INCOMING}") + "/"]


def rsync_only_passes(site: Path, target: Target, rsh: str = "ssh", options: tuple[str, ...] = ()) -> list[list[str]]:
    """Without a shell: files the pages use first, then pages and feeds, deletions last."""
    base = rsync_base(target, rsh, options)
    source, destination = f"{site}/", target.location() + "/"
    first = base + [f"--exclude={pattern}" for pattern in PAGES_AND_FEEDS] + [source, destination]
    return [first, base + [source, destination], base + ["--delete", source, destination]]


STAT = re.compile(r"^(?P<name>[A-Za-z ]+): (?P<number>[\d,]+)", re.MULTILINE)


@dataclass(frozen=True)
class Transfer:
    files: int = 0  # regular files in the site
    sent: int = 0  # regular files uploaded (new or changed)
    size: int = 0  # bytes of the files uploaded
    deleted: int = 0

    def __add__(self, other: "Transfer") -> "Transfer":
        return Transfer(max(self.files, other.files), self.sent + other.sent, self.size + other.size,
                        self.deleted + other.deleted)


def parse_stats(text: str) -> Transfer:
    """rsync --stats, read (numbers in the C locale)."""
    numbers = {m["name"].strip(): int(m["number"].replace(",", "")) for m in STAT.finditer(text)}
    files_line = re.search(r"^Number of files: [\d,]+ \((?P<kinds>[^)]*)\)", text, re.MULTILINE)
    regular = 0
    if files_line:
        kinds = dict(part.strip().split(": ") for part in files_line["kinds"].split(","))
        regular = int(kinds.get("reg", "0").replace(",", ""))
    return Transfer(regular, numbers.get("Number of regular files transferred", 0),
                    numbers.get("Total transferred file size", 0), numbers.get("Number of deleted files", 0))


# --- Running them ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    target: str
    release: str
    previous: str | None = None
    transfer: Transfer | None = None  # None: nothing was uploaded (a rollback, a commit)
    removed: tuple[str, ...] = ()
    note: str = ""

    def lines(self) -> list[str]:
        t = self.transfer
        lines = [f"Release {self.release} on {self.target}"]
        if t is not None:
            lines[0] += (f": {t.files} files, {t.sent} uploaded ({t.size:,} bytes), "
                         f"{t.files - t.sent} unchanged")
        if t is not None and t.deleted:
            lines.append(f"Deleted on the target: {t.deleted} files no longer in the site")
        if self.previous:
            lines.append(f"Previous release kept for rollback: {self.previous} (publish --rollback)")
        if self.removed:
            lines.append(f"Removed old releases: {', '.join(self.removed)}")
        if self.note:
            lines.append(self.note)
        return lines


def _run(command: list[str], what: str, env: dict | None = None, cwd: Path | None = None) -> str:
    environment = {**os.environ, "LC_ALL": "C", **(env or {})}
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=cwd)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).splitlines() if line.strip()]
        # The cause: git's "fatal:" line, else the first line (rsync's and ssh's own reason comes first).
        detail = next((line for line in lines if line.startswith("fatal:")), lines[0] if lines else "")
        raise PublishError(f"{what} failed (exit {result.returncode}): {detail.strip()}")
    return result.stdout


@contextlib.contextmanager
def locked(path: Path):
    """Hold an exclusive lock on path for the duration: one publish at a time from this machine."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PublishError(f"another publish is running (it holds {path}): wait for it to end") from None
        yield


def _local(target: Target) -> Target:
    if target.host or target.kind not in ("local", "ssh"):
        return target
    return Target(target.kind, str(Path(target.path).expanduser().absolute()))


def list_target(target: Target, rsh: str = "ssh") -> Listing:
    target = _local(target)
    output = _run(shell_command(target, listing_script(target), rsh), f"reading {target}")
    return parse_listing(output, str(target))


def publish(site: Path, target: Target, config: PublishSettings, rsh: str = "ssh", repo: Path | None = None,
            say=print, now: dt.datetime | None = None) -> Summary:
    """Publish the built folder site to target; what was done, for the summary."""
    site = Path(site)
    name = release_name(site_digest(site), now or dt.datetime.now(dt.timezone.utc))
    if target.kind == "git":
        return publish_git(site, target.path, Path(repo or "."), config.git_remote, name, say)
    if target.kind == "rsync":
        return publish_rsync_only(site, target, config, rsh, name, say)
    target = _local(target)
    listing = list_target(target, rsh)
    previous = listing.current or (listing.releases[-1] if listing.releases else None)
    if listing.current is None:
        say(f"First release on {target}: point the web server's document root at {target}/current")
    if listing.incoming:
        say(f"Reusing the upload a cut publish left in releases/{INCOMING}")
    say(f"Uploading release {name} to {target}" + (f" (unchanged files linked to {previous})" if previous else ""))
    transfer = parse_stats(_run(upload_command(site, target, previous, rsh, config.rsync_options),
                                f"rsync to {target}"))
    removed = to_remove(listing.releases, config.keep_releases, name, listing.current)
    _run(shell_command(target, switch_script(target, name, removed, from_incoming=True), rsh),
         f"switching {target}/current")
    say(f"Switched {target}/current to releases/{name}")
    # What --delete removed from releases/.incoming was left by a cut upload, not taken off the live site.
    return Summary(str(target), name, listing.current, replace(transfer, deleted=0), tuple(removed))


def rollback(target: Target | None, rsh: str = "ssh", say=print) -> Summary:
    """Point current back at the release before the live one."""
    if target is None:
        raise PublishError("--rollback needs a target: give --target or set VETRINA_PUBLISH_TARGET")
    if target.kind not in ("local", "ssh"):
        raise PublishError(f"--rollback works on release targets (a folder or user@host:/path), not on {target}")
    target = _local(target)
    listing = list_target(target, rsh)
    back = rollback_release(listing)
    if back is None:
        raise PublishError(f"{target} has no release older than the live one ({listing.current or 'none'}) "
                           "to roll back to")
    _run(shell_command(target, switch_script(target, back, [], from_incoming=False), rsh),
         f"switching {target}/current")
    say(f"Switched {target}/current back to releases/{back}")
    return Summary(str(target), back, None, note=f"Rolled back from {listing.current}; it stays until pruned.")


def publish_rsync_only(site: Path, target: Target, config: PublishSettings, rsh: str, name: str, say) -> Summary:
    """Best effort where there is no shell: new and changed files first, deletions last; no atomic switch."""
    say(f"Uploading to {target} with rsync only: pages may briefly mix old and new while it runs")
    total = Transfer()
    for number, command in enumerate(rsync_only_passes(site, target, rsh, config.rsync_options), start=1):
        total = total + parse_stats(_run(command, f"rsync to {target} (pass {number} of 3)"))
    return Summary(str(target), name, None, total,
                   note="Uploaded without a shell on the host: no release folders, nothing to roll back to.")


def publish_git(site: Path, branch: str, repo: Path, remote: str, name: str, say) -> Summary:
    """Commit the site as the whole content of branch (its history kept), pushed when the remote exists."""
    git = ["git", "-C", str(repo)]
    git_dir = _run([*git, "rev-parse", "--absolute-git-dir"], f"git: {repo} as a repository").strip()
    ref = f"refs/heads/{branch}"
    head = subprocess.run([*git, "symbolic-ref", "-q", "HEAD"], capture_output=True, text=True).stdout.strip()
    if head == ref:
        raise PublishError(f"git:{branch} is the branch checked out in {repo}: switch to another branch first "
                           "(the published branch holds only the built site)")
    local_tip = _rev(git, ref)
    parent = local_tip
    pushing = subprocess.run([*git, "remote", "get-url", remote], capture_output=True).returncode == 0
    if pushing and _run([*git, "ls-remote", "--heads", remote, ref], f"git ls-remote {remote}").strip():
        _run([*git, "fetch", "-q", remote, f"+{ref}:refs/remotes/{remote}/{branch}"], f"git fetch {remote}")
        parent = _rev(git, f"refs/remotes/{remote}/{branch}")
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        tree_git = ["git", "-C", str(site), f"--git-dir={git_dir}", "--work-tree=.", "-c", "core.autocrlf=false"]
        _run([*tree_git, "add", "--all", "--force", "."], "git add", env)
        tree = _run([*tree_git, "write-tree"], "git write-tree", env).strip()
    files = len(_run([*git, "ls-tree", "-r", "--name-only", tree], "git ls-tree").splitlines())
    if parent and _rev(git, f"{parent}^{{tree}}") == tree:
        say(f"git:{branch} already holds this site")
        commit = parent
    else:
        message = f"Publish release {name} ({files} files)"
        commit = _run([*git, "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message],
                      "git commit-tree (set user.name and user.email with git config if it asks who you are)").strip()
    _run([*git, "update-ref", "-m", f"publish {name}", ref, commit, local_tip or ""], f"git update-ref {ref}")
    say(f"Committed release {name} to git:{branch} ({commit[:12]})")
    if pushing:
        _run([*git, "push", "-q", remote, f"{ref}:{ref}"], f"git push {remote} {branch}")
        say(f"Pushed {branch} to {remote}")
    note = f"{files} files in commit {commit[:12]} on {branch}"
    note += f" (parent {parent[:12]})" if parent and parent != commit else ""
    note += f", pushed to {remote}" if pushing else f", not pushed (no remote {remote!r})"
    return Summary(f"git:{branch}", name, note=note)


def _rev(git: list[str], name: str) -> str | None:
    result = subprocess.run([*git, "rev-parse", "--verify", "-q", name], capture_output=True, text=True)
    return result.stdout.strip() or None
