"""Publishing a checked build: releases switched by one symlink (local or over ssh), rsync alone, or a Git branch.

A release target holds `releases/<UTC time>-<content id>/` and a symlink `current` (the web server's document
root) that points at the live one. A new release is uploaded into `releases/.incoming/` (unchanged files are hard
links to the previous release), renamed, and `current` is switched by renaming a new symlink over it. An upload
that is cut leaves `current` on the previous complete release, and the next run reuses what `.incoming` holds.
One publish at a time writes into a target, from any machine: `releases/.lock` is made with mkdir (atomic) and
names its owner. Old releases are renamed to `releases/.trash-<name>` before they are deleted, so a cut prune
never leaves a half-deleted folder under a release's name.

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
import secrets
import shlex
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlparse

from .build import pid_alive

DEFAULTS = {
    "PUBLISH_TARGET": "",
    "PUBLISH_KEEP_RELEASES": 5,
    "PUBLISH_SHELL": True,
    "PUBLISH_GIT_REMOTE": "origin",
    "PUBLISH_RSYNC_OPTIONS": [],
    "PUBLISH_LOCK_STALE_HOURS": 2,
}
INCOMING = ".incoming"
SWITCHING = ".current-switching"
LOCK = ".lock"
TRASH = ".trash-"
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
    lock_stale_hours: float = DEFAULTS["PUBLISH_LOCK_STALE_HOURS"]

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
        stale = get("PUBLISH_LOCK_STALE_HOURS")
        if isinstance(stale, bool) or not isinstance(stale, (int, float)) or not stale > 0:
            raise PublishError(f"PUBLISH_LOCK_STALE_HOURS {stale!r}: use a number of hours above 0, such as 2 (after "
                               "that long --break-lock may break a lock left by a cut publish)")
        return cls(str(get("PUBLISH_TARGET") or ""), keep, shell, remote.strip(), tuple(options), stale)


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
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def parse_target(text: str, shell: bool = True) -> Target:
    """A target from its address: a folder or file:// URL, [user@]host:/path, rsync://host/module/path, git:BRANCH."""
    text = (text or "").strip()
    if not text:
        raise PublishError("no publish target: give --target (a folder, user@host:/path or git:BRANCH) "
                           "or set VETRINA_PUBLISH_TARGET")
    if CONTROL_CHARACTERS.search(text):
        raise PublishError(f"publish target {text!r}: remove the control characters (a newline, a tab) from it")
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
        host, path = match["host"], match["path"]
        if host.startswith("-") or host.partition("@")[2].startswith("-"):
            raise PublishError(f"publish target {text!r}: a host cannot start with '-' (ssh would read it as an "
                               "option): write [user@]host:/path")
        if not path.strip(":/") or path.startswith(":"):
            raise PublishError(f"publish target {text!r}: name the folder after the colon (user@host:/var/www/shop)")
        return Target("ssh" if shell else "rsync", _remote_folder(text, path), host)
    return Target("local", text)


def _remote_folder(text: str, path: str) -> str:
    """A remote folder as both rsync and the shell read it: absolute, or relative to the login's home folder.

    `~/shop` becomes `shop` (rsync and ssh both start in the home folder), so the upload and the switch never
    disagree about where `~` is; `~user/shop` is refused, as only a shell would expand it.
    """
    if path in ("~", "~/"):
        return "."
    if path.startswith("~/"):
        path = path[2:].lstrip("/")
    elif path.startswith("~"):
        raise PublishError(f"publish target {text!r}: write the folder's absolute path instead of "
                           f"{path.split('/')[0]} (rsync and the remote shell would not read it alike)")
    return path.rstrip("/") or "/"


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
class Holder:
    """Who holds a target's releases/.lock, as its owner file says."""

    host: str = ""
    pid: int | None = None
    since: int | None = None  # when it was taken, in seconds since the epoch on the target's clock
    text: str = ""  # the owner file as read: the lock is taken over only if it still says this

    def __str__(self) -> str:
        if not self.text:
            return "a publish that wrote no owner into it"
        return f"{self.host or 'an unknown host'} (pid {self.pid if self.pid is not None else '?'})"


@dataclass(frozen=True)
class Owner:
    """This publish, as it signs the lock it takes."""

    host: str
    pid: int
    token: str

    @classmethod
    def here(cls) -> "Owner":
        return cls(socket.gethostname() or "unknown", os.getpid(), secrets.token_hex(8))


@dataclass(frozen=True)
class Listing:
    """What a release target holds."""

    releases: tuple[str, ...]  # complete releases, oldest first
    current: str | None  # the release `current` points at
    incoming: bool  # an upload was cut: releases/.incoming is there
    holder: Holder | None = None  # another publish holds releases/.lock (nothing else was listed)
    now: int | None = None  # the target's clock, in seconds since the epoch


def parse_holder(text: str) -> Holder:
    fields = dict(line.partition("=")[::2] for line in text.splitlines() if "=" in line)

    def number(key):
        value = fields.get(key, "")
        return int(value) if value.isdigit() else None

    return Holder(fields.get("host", ""), number("pid"), number("since"), text)


def parse_listing(text: str, where: str) -> Listing:
    current, releases, incoming, now, held, owner = None, [], False, None, False, []
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "blocked":
            raise PublishError(f"{where}/current is not a symlink: move it away (the web server's document root "
                               f"becomes {where}/current), then publish again")
        if key == "now" and value.isdigit():
            now = int(value)
        elif key == "held":
            held = True
        elif key.startswith("holder."):
            owner.append(line[len("holder."):])
        elif key == "current" and value:
            current = posixpath.basename(value.rstrip("/"))
        elif key == "release" and RELEASE_NAME.match(value):
            releases.append(value)
        elif key == "incoming":
            incoming = True
    holder = parse_holder("\n".join(owner)) if held else None
    return Listing(tuple(sorted(releases)), current if current in releases else None, incoming, holder, now)


def lock_age(holder: Holder, now: int | None) -> int | None:
    """Seconds since the lock was taken, both times read on the target's clock."""
    if holder.since is None or now is None:
        return None
    return max(0, now - holder.since)


def why_breakable(holder: Holder, now: int | None, stale_hours: float, host: str, alive) -> str | None:
    """Why --break-lock may break this lock, or None when its publish may still be running."""
    if not holder.text or holder.since is None:
        return "it does not say who took it when (a publish cut as it took the lock)"
    if holder.host == host and holder.pid is not None and not alive(holder.pid):
        return f"its process {holder.pid} on this machine is no longer running"
    age = lock_age(holder, now)
    if age is not None and age >= stale_hours * 3600:
        return f"it is {_duration(age)} old, more than PUBLISH_LOCK_STALE_HOURS ({stale_hours:g} h)"
    return None


def held_message(where: str, holder: Holder, now: int | None, stale_hours: float, breaking: bool) -> str:
    """The one line that says who holds a target's lock and what to do."""
    since = ""
    if holder.since is not None:
        since = f" since {dt.datetime.fromtimestamp(holder.since, dt.timezone.utc):%Y-%m-%d %H:%M} UTC"
        age = lock_age(holder, now)
        since += f" ({_duration(age)} ago)" if age is not None else ""
    held = f"{where} is being published by {holder}{since}, which holds {where}/releases/{LOCK}"
    rule = (f"--break-lock breaks a lock older than {stale_hours:g} h (PUBLISH_LOCK_STALE_HOURS), or at once one "
            "whose process on this machine has ended")
    if breaking:
        return (f"{held}: not broken, as that publish may still be running ({rule}); wait for it to end, or "
                f"remove {where}/releases/{LOCK} by hand if you know it is dead")
    return f"{held}: wait for it to end and publish again; if it was cut, publish again with --break-lock ({rule})"


def _duration(seconds: int) -> str:
    minutes = seconds // 60
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


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


def listing_script(target: Target, owner: Owner, take_over: str | None = None) -> str:
    """Take the target's lock (mkdir is atomic), clear what a cut prune left, and list the releases.

    When another publish holds the lock, only `held=yes` and its owner file are printed. take_over: the owner file
    of a lock to break, which is removed only if it still says exactly that.
    """
    folder = shlex.quote(target.path)
    lock = f"releases/{LOCK}"
    lines = [
        "set -e",
        f"mkdir -p -- {folder}",
        f"cd -- {folder}",
        'if [ -e current ] && [ ! -L current ]; then echo "blocked=current"; exit 0; fi',
        "mkdir -p releases",
        'printf "now=%s\\n" "$(date +%s)"',
    ]
    if take_over is not None:
        lines.append(f'if [ "$(cat {lock}/owner 2>/dev/null)" = {shlex.quote(take_over)} ]; then rm -rf -- {lock}; fi')
    lines += [
        f"if ! mkdir {lock} 2>/dev/null; then",
        f'  if [ -d {lock} ]; then echo "held=yes"; sed "s/^/holder./" {lock}/owner 2>/dev/null || :; exit 0; fi',
        f'  echo "cannot create {lock} in $(pwd)" >&2; exit 1',
        "fi",
        f"printf 'host=%s\\npid=%s\\ntoken=%s\\nsince=%s\\n' {shlex.quote(owner.host)} {owner.pid} {owner.token} "
        f'"$(date +%s)" > {lock}/owner',
        f'for entry in releases/{TRASH}*; do if [ -e "$entry" ]; then rm -rf -- "$entry"; fi; done',
        'if [ -L current ]; then printf "current=%s\\n" "$(readlink current)"; fi',
        'for entry in releases/*; do if [ -d "$entry" ]; then printf "release=%s\\n" "${entry#releases/}"; fi; done',
        f'if [ -d releases/{INCOMING} ]; then echo "incoming=yes"; fi',
    ]
    return "\n".join(lines) + "\n"


def unlock_script(target: Target, owner: Owner) -> str:
    """Remove the target's lock if it is still this publish's."""
    lock = f"releases/{LOCK}"
    return "\n".join([
        f"cd -- {shlex.quote(target.path)}",
        f"if grep -qx 'token={owner.token}' {lock}/owner 2>/dev/null; then rm -f -- {lock}/owner; rmdir -- {lock}; fi",
    ]) + "\n"


# Renames $1 over $2 in one rename(2): GNU mv -T, else BSD's mv -h, else Python; never mv's move-into-a-folder.
ATOMIC_REPLACE = """replace() {
  error=$(mv -T -- "$1" "$2" 2>&1) && return 0
  case "$(uname -s)" in
    *BSD|Darwin|DragonFly) mv -h -f -- "$1" "$2" 2>/dev/null && return 0 ;;
  esac
  python3 -c 'import os, sys; os.replace(sys.argv[1], sys.argv[2])' "$1" "$2" 2>/dev/null && return 0
  echo "cannot rename $1 over $2 in one step: the host needs GNU mv -T, BSD mv -h or python3 ($error)" >&2
  return 1
}"""


def switch_script(target: Target, release: str, from_incoming: bool) -> str:
    """On the host: rename the upload into its release (when from_incoming), then point `current` at it atomically."""
    lines = ["set -e", f"cd -- {shlex.quote(target.path)}", ATOMIC_REPLACE]
    if from_incoming:
        lines += [f'if [ -e releases/{release} ]; then echo "releases/{release} already exists" >&2; exit 1; fi',
                  f"mv -- releases/{INCOMING} releases/{release}"]
    lines += [f"rm -f -- {SWITCHING}", f"ln -s -- releases/{release} {SWITCHING}", f"replace {SWITCHING} current"]
    return "\n".join(lines) + "\n"


def prune_script(target: Target, remove: list[str]) -> str:
    """On the host: rename the old releases out of the releases' names, then delete them."""
    lines = ["set -e", f"cd -- {shlex.quote(target.path)}"]
    for name in remove:
        lines += [f"rm -rf -- releases/{TRASH}{name}", f"mv -- releases/{name} releases/{TRASH}{name}"]
    lines.append("rm -rf -- " + " ".join(f"releases/{TRASH}{name}" for name in remove))
    return "\n".join(lines) + "\n"


def switch_here(folder: Path, release: str, from_incoming: bool) -> None:
    """The switch on this machine with rename(2) alone (no GNU mv -T): the upload becomes its release, then a new
    symlink is renamed over `current`."""
    releases_dir = folder / "releases"
    try:
        if from_incoming:
            if os.path.lexists(releases_dir / release):
                raise PublishError(f"{releases_dir / release} already exists: publish again")
            os.rename(releases_dir / INCOMING, releases_dir / release)
        switching = folder / SWITCHING
        if os.path.lexists(switching):
            switching.unlink()
        os.symlink(f"releases/{release}", switching)
        os.replace(switching, folder / "current")
    except OSError as error:
        raise PublishError(f"switching {folder}/current failed: {error}") from None


def prune_here(folder: Path, remove: list[str]) -> None:
    """Rename the old releases out of the releases' names, then delete them (raises OSError)."""
    releases_dir = folder / "releases"
    trash = []
    for name in remove:
        bin_path = releases_dir / f"{TRASH}{name}"
        shutil.rmtree(bin_path, ignore_errors=True)
        os.rename(releases_dir / name, bin_path)
        trash.append(bin_path)
    for bin_path in trash:
        shutil.rmtree(bin_path)


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
        # -s (--protect-args, rsync 3.0+): paths go through rsync's protocol, never split or run by a remote shell.
        command += ["--compress", "-s", "-e", rsh]
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


def list_target(target: Target, rsh: str, owner: Owner, take_over: str | None = None) -> Listing:
    """Take the target's lock for owner and list its releases (Listing.holder: someone else holds the lock)."""
    target = _local(target)
    script = listing_script(target, owner, take_over)
    return parse_listing(_run(shell_command(target, script, rsh), f"reading {target}"), str(target))


def _take_lock(target: Target, rsh: str, config: PublishSettings, owner: Owner, break_lock: bool, say) -> Listing:
    listing = list_target(target, rsh, owner)
    holder = listing.holder
    if holder is None:
        return listing
    reason = why_breakable(holder, listing.now, config.lock_stale_hours, owner.host, pid_alive) if break_lock else None
    if reason is None:
        raise PublishError(held_message(str(target), holder, listing.now, config.lock_stale_hours, break_lock))
    say(f"Breaking the lock on {target} held by {holder}: {reason}")
    listing = list_target(target, rsh, owner, take_over=holder.text)
    if listing.holder is not None:  # another publish took it in between
        raise PublishError(held_message(str(target), listing.holder, listing.now, config.lock_stale_hours, False))
    return listing


@contextlib.contextmanager
def target_lock(target: Target, rsh: str, config: PublishSettings, break_lock: bool = False, say=print):
    """Hold the target's releases/.lock (against publishes from any machine) for the duration; yields the listing."""
    owner = Owner.here()
    unlock = shell_command(target, unlock_script(target, owner), rsh)
    try:
        listing = _take_lock(target, rsh, config, owner, break_lock, say)
    except BaseException:
        with contextlib.suppress(PublishError, OSError):  # the lock may be ours if the connection dropped after it
            _run(unlock, f"unlocking {target}")
        raise
    try:
        yield listing
    finally:
        try:
            _run(unlock, f"unlocking {target}")
        except PublishError as error:
            say(f"{error}: if {target}/releases/{LOCK} is still there, the next publish needs --break-lock")


def _switch(target: Target, release: str, from_incoming: bool, rsh: str) -> None:
    if target.host:
        _run(shell_command(target, switch_script(target, release, from_incoming), rsh), f"switching {target}/current")
    else:
        switch_here(Path(target.path), release, from_incoming)


def _prune(target: Target, remove: list[str], rsh: str) -> str:
    """Remove old releases; a failure is a note (the new release is live, and the next publish finishes it)."""
    if not remove:
        return ""
    try:
        if target.host:
            _run(shell_command(target, prune_script(target, remove), rsh), f"removing old releases on {target}")
        else:
            prune_here(Path(target.path), remove)
    except (PublishError, OSError) as error:
        return f"Old releases were not all removed ({error}); the next publish removes what is left."
    return ""


def publish(site: Path, target: Target, config: PublishSettings, rsh: str = "ssh", repo: Path | None = None,
            say=print, now: dt.datetime | None = None, break_lock: bool = False) -> Summary:
    """Publish the built folder site to target; what was done, for the summary."""
    site = Path(site)
    name = release_name(site_digest(site), now or dt.datetime.now(dt.timezone.utc))
    if target.kind == "git":
        return publish_git(site, target.path, Path(repo or "."), config.git_remote, name, say)
    if target.kind == "rsync":
        return publish_rsync_only(site, target, config, rsh, name, say)
    target = _local(target)
    with target_lock(target, rsh, config, break_lock, say) as listing:
        previous = listing.current or (listing.releases[-1] if listing.releases else None)
        if listing.current is None:
            say(f"First release on {target}: point the web server's document root at {target}/current")
        if listing.incoming:
            say(f"Reusing the upload a cut publish left in releases/{INCOMING}")
        say(f"Uploading release {name} to {target}" + (f" (unchanged files linked to {previous})" if previous else ""))
        transfer = parse_stats(_run(upload_command(site, target, previous, rsh, config.rsync_options),
                                    f"rsync to {target}"))
        _switch(target, name, True, rsh)
        say(f"Switched {target}/current to releases/{name}")
        removed = to_remove(listing.releases, config.keep_releases, name, listing.current)
        note = _prune(target, removed, rsh)
    # What --delete removed from releases/.incoming was left by a cut upload, not taken off the live site.
    return Summary(str(target), name, listing.current, replace(transfer, deleted=0),
                   () if note else tuple(removed), note)


def rollback(target: Target | None, rsh: str = "ssh", say=print, config: PublishSettings | None = None,
             break_lock: bool = False) -> Summary:
    """Point current back at the release before the live one."""
    if target is None:
        raise PublishError("--rollback needs a target: give --target or set VETRINA_PUBLISH_TARGET")
    if target.kind not in ("local", "ssh"):
        raise PublishError(f"--rollback works on release targets (a folder or user@host:/path), not on {target}")
    target = _local(target)
    with target_lock(target, rsh, config or PublishSettings.from_settings({}), break_lock, say) as listing:
        back = rollback_release(listing)
        if back is None:
            raise PublishError(f"{target} has no release older than the live one ({listing.current or 'none'}) "
                               "to roll back to")
        _switch(target, back, False, rsh)
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
