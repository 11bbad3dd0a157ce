"""sitemap.xml (split behind a sitemap index when large), robots.txt and when each page last changed.

Pure, but for git_commit_times(), which reads the repository's history once per build. A page's lastmod
is its Modified field, else the time of the last commit that touched its file, else its date: never the
file's mtime, which a fresh clone sets to the checkout time for every file.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import dataclass

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
IMAGE_NS = "http://www.google.com/schemas/sitemap-image/1.1"
ET.register_namespace("", SITEMAP_NS)
ET.register_namespace("image", IMAGE_NS)


@dataclass(frozen=True)
class Entry:
    loc: str
    lastmod: dt.datetime | None = None
    images: tuple[str, ...] = ()


def _tag(name: str, ns: str = SITEMAP_NS) -> str:
    return f"{{{ns}}}{name}"


def _serialise(root: ET.Element) -> bytes:
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def lastmod_text(value: dt.datetime) -> str:
    return value.replace(microsecond=0).isoformat()


def urlset(entries: list[Entry]) -> bytes:
    root = ET.Element(_tag("urlset"))
    for entry in entries:
        url = ET.SubElement(root, _tag("url"))
        ET.SubElement(url, _tag("loc")).text = entry.loc
        if entry.lastmod:
            ET.SubElement(url, _tag("lastmod")).text = lastmod_text(entry.lastmod)
        for image in entry.images:
            node = ET.SubElement(url, _tag("image", IMAGE_NS))
            ET.SubElement(node, _tag("loc", IMAGE_NS)).text = image
    return _serialise(root)


def sitemap_index(locations: list[tuple[str, dt.datetime | None]]) -> bytes:
    root = ET.Element(_tag("sitemapindex"))
    for loc, lastmod in locations:
        node = ET.SubElement(root, _tag("sitemap"))
        ET.SubElement(node, _tag("loc")).text = loc
        if lastmod:
            ET.SubElement(node, _tag("lastmod")).text = lastmod_text(lastmod)
    return _serialise(root)


def files(entries: list[Entry], site_url: str, max_urls: int) -> dict[str, bytes]:
    """{file name: XML}: one sitemap.xml, or sitemap.xml as an index of sitemap-N.xml parts."""
    entries = sorted(entries, key=lambda entry: entry.loc)
    if len(entries) <= max_urls:
        return {"sitemap.xml": urlset(entries)}
    parts, locations = {}, []
    for number, start in enumerate(range(0, len(entries), max_urls), start=1):
        chunk = entries[start : start + max_urls]
        name = f"sitemap-{number}.xml"
        parts[name] = urlset(chunk)
        dates = [entry.lastmod for entry in chunk if entry.lastmod]
        locations.append((f"{site_url}/{name}", max(dates) if dates else None))
    parts["sitemap.xml"] = sitemap_index(locations)
    return parts


def robots_txt(site_url: str, disallow: tuple[str, ...], extra: str = "") -> str:
    lines = ["User-agent: *"]
    lines += [f"Disallow: {path}" for path in disallow] or ["Disallow:"]
    if extra.strip():
        lines += ["", extra.strip()]
    if site_url.startswith("http"):
        lines += ["", f"Sitemap: {site_url}/sitemap.xml"]
    return "\n".join(lines) + "\n"


# --- lastmod -------------------------------------------------------------------------------------
# Each commit's header in the log: "/" and its committer time. Git never writes a path with a leading
# slash, so a header cannot be taken for a file name, whatever characters the names hold.
COMMIT_MARK = "/"
LOG_FORMAT = f"--format={COMMIT_MARK}%ct"


def commit_times(log: str, top: str, zone: dt.tzinfo) -> dict[str, dt.datetime]:
    """{real path: time of the newest commit that touched it} from `git log -z --name-only` (LOG_FORMAT).

    With -z the names come verbatim, each ended by NUL (no quoting of `"`, `\\` or control characters):
    a commit is its header, then, if it changed files, a newline and its names. A path takes the latest
    of its commits' times, in whatever order git lists them (committer times need not follow it).
    """
    top = os.path.realpath(top)
    times: dict[str, dt.datetime] = {}
    when, first = None, False
    for field in log.split("\0"):
        if field.startswith(COMMIT_MARK):
            when, first = dt.datetime.fromtimestamp(int(field[len(COMMIT_MARK):]), zone), True
            continue
        if first and field.startswith("\n"):
            field = field[1:]  # the line between a commit's header and its names
        first = False
        if not field or when is None:
            continue
        path = os.path.normpath(os.path.join(top, field))
        if path not in times or when > times[path]:
            times[path] = when
    return times


def git_commit_times(folder, zone: dt.tzinfo) -> dict[str, dt.datetime] | None:
    """The last commit time of every file under folder, from ONE git log; None without git or history.

    A shallow clone (CI's default checkout) knows only its newest commits: it would date every file on
    the last one, so it gives None too, and pages fall back to their date.
    """
    def git(*args) -> str:
        # surrogateescape: a name that is not UTF-8 comes back as Python spells that file's path.
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, check=True,
                              encoding="utf-8", errors="surrogateescape").stdout

    try:
        top = git("rev-parse", "--show-toplevel").strip()
        if git("rev-parse", "--is-shallow-repository").strip() != "false":
            return None
        log = git("log", "-z", "--name-only", "--no-show-signature", LOG_FORMAT, "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return None
    return commit_times(log, top, zone)


def item_lastmod(item, commits: dict[str, dt.datetime] | None) -> dt.datetime | None:
    """When a post, page or product last changed: Modified, else its file's last commit, else its date.

    A commit older than the item's date (a scheduled post committed before it went live) gives the date.
    """
    modified = getattr(item, "modified", None)
    if modified:
        return modified
    date = getattr(item, "date", None)
    source = getattr(item, "source_path", None)
    committed = commits.get(os.path.realpath(source)) if commits and source else None
    if committed is None:
        return date
    if date is None:
        return committed
    date = date if date.tzinfo else date.replace(tzinfo=committed.tzinfo)
    return max(committed.astimezone(date.tzinfo), date)


def listing_lastmod(items, commits: dict[str, dt.datetime] | None) -> dt.datetime | None:
    """A listing (home, catalogue, category) changed when the newest of what it lists did."""
    dates = [when for when in (item_lastmod(item, commits) for item in items) if when is not None]
    return max(dates) if dates else None


def listed_items(context) -> list:
    """What a listing without pagination shows, from its page's context.

    The home page: the newest posts (HOME_POSTS) and the featured products; the blog's other direct pages
    (archives, the indexes of tags and categories): every post. Paginated listings have their own page.
    """
    if context.get("page_name") == "index":
        posts = list(context.get("articles") or [])[: context.get("HOME_POSTS") or 0]
        return posts + list(getattr(context.get("shop"), "featured", None) or [])
    if context.get("blog") and context.get("page_name"):
        return list(context.get("dates") or context.get("articles") or [])
    return []
