"""Warm rebuilds render only the pages whose inputs changed: each other page keeps the file it had.

Every write_file call gets a key, a digest of what its page can show:

- the site: the settings and plugins (core.contentcache's fingerprint), the theme's files, the versions of
  Jinja2 and Babel, the clock's day, the non-page files under content/ (the images whose sizes the pages
  state), and the build's context beyond the settings (the lists of posts, tags, the catalogue...), in which
  every item counts by what
  any page may show of it: its fields, prices, dates, tags, but not its body (when a summary of its own
  stands for it) nor the lists only its own page shows (related items, mentions, comments);
- the call: its output name, template and variables, and the whole of the item it writes, those
  lists and body included.

A call whose key is the one recorded for the same output at the last build, and whose files are still
there as that build left them (same size and modification time), is not rendered: its files are kept, or
hard-linked from the served folder into a staging one, and what its pages left behind (the sitemap's
entries, the images asked for...) is taken from the record. A page whose render logged anything is never
recorded, so its message comes again at every build. Anything the key cannot tell apart (an object it
cannot see into) counts by its type; the demo's output is compared with a fully rendered build (tests).

The records live in CACHE_PATH (render-records.pickle), written when the build finished, so an
interrupted build leaves the last ones. VETRINA_RENDER_ALL=1 renders every page.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import hashlib
import logging
import os
import pickle
import shutil
from pathlib import Path, PurePath
from typing import Any, Callable

from pelican.contents import Content
from pelican.urlwrappers import URLWrapper

from . import durable

logger = logging.getLogger(__name__)

RECORDS_FILE = "render-records.pickle"
RECORDS_VERSION = 1
REUSE_SETTING = "SITE_REUSE_OUTPUT"  # a finished build's folder whose unchanged files a staging build links
RENDER_ALL_VARIABLE = "VETRINA_RENDER_ALL"
# What only an item's own page shows: a change there re-renders that page alone.
OWN_PAGE_ONLY = frozenset({
    "related_posts", "related_products", "mentions", "mentions_by_reference", "mentioned_in", "comments",
    "comments_known",
})
# Never part of an item's state: the settings and the build's context it carries (counted once, as the site).
NOT_STATE = frozenset({"_context", "settings"})
# Context entries the pages add to while they render (what they leave behind, not what they show).
NOT_INPUT = {"SEO_SITEMAP_ENTRIES", "SEO_MISSING_RECOMMENDED", "SITE_RESPONSIVE_IMAGES"}
# Context lists in no one order (the static files, as the folders list them), which no page lists in order.
UNORDERED = {"staticfiles"}
# What renders a page beyond the reading packages of the content fingerprint: another version, every page again.
RENDERING_PACKAGES = ("jinja2", "babel", "markupsafe")
PAGE_SOURCES = (".md", ".markdown", ".mkd", ".mdown", ".html", ".htm", ".rst")


@dataclasses.dataclass(frozen=True)
class Effect:
    """What one write leaves behind while it renders, to be taken again when it is kept instead."""

    begin: Callable[[dict], Any]  # context -> a mark (before the write)
    end: Callable[[dict, Any], Any]  # context, mark -> everything this write added (picklable)
    replay: Callable[[dict, Any], None]  # context, what end returned -> add it again


EFFECTS: dict[str, Effect] = {}


def leaves_behind(name: str, begin, end, replay) -> None:
    """Declare what the pages add to while rendering (once per process, at plugin registration)."""
    EFFECTS[name] = Effect(begin, end, replay)


@dataclasses.dataclass
class Record:
    key: str
    files: list[tuple[str, int, int]]  # (path under the output folder, size, modification time in ns)
    effects: dict[str, Any]


# --- what a page can show, as text ----------------------------------------------------------------------------

class Canon:
    """A text of a value that is the same in every process and build: items by their source, by reference."""

    def __init__(self):
        self.items: dict[int, Content] = {}  # every item met, by id
        self._open: set[int] = set()
        self._kinds: dict[type, Any] = {}

    def text(self, value) -> str:
        kind = type(value)
        if kind in _PLAIN:
            return repr(value)
        if kind is list or kind is tuple:
            return self._sequence(value)
        if kind is dict:
            return self._mapping(value)
        known = self._kinds.get(kind)
        if known is None:
            known = self._kinds[kind] = _kind_of(kind)
        if known is Content:
            self.items.setdefault(id(value), value)
            return f"@{kind.__name__}:{value.source_path}:{getattr(value, 'lang', '')}"
        if known is URLWrapper:
            return f"{kind.__name__}({value.name!r})"
        if known is str:
            return repr(value)
        return self._other(value, kind)

    def _sequence(self, value) -> str:
        return "[" + ",".join([self.text(v) for v in value]) + "]"

    def _mapping(self, value) -> str:
        # In key order: a dict filled by parallel readers has no one order of its own.
        return "{" + ",".join(sorted([f"{self.text(k)}:{self.text(v)}" for k, v in value.items()])) + "}"

    def _other(self, value, kind) -> str:
        if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
            return self._sequence(value)
        if isinstance(value, dict):
            return self._mapping(value)
        if isinstance(value, (set, frozenset)):
            return "{" + ",".join(sorted(self.text(v) for v in value)) + "}"
        if isinstance(value, enum.Enum):
            return f"{kind.__qualname__}.{value.name}"
        if isinstance(value, type) or callable(value) and not hasattr(value, "__dict__"):
            return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', kind.__qualname__)}"
        if id(value) in self._open:
            return f"<{kind.__qualname__} again>"
        self._open.add(id(value))
        try:
            if dataclasses.is_dataclass(value):
                fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
                return kind.__qualname__ + self.text(fields)
            if isinstance(value, tuple):  # a named tuple
                return kind.__qualname__ + self._sequence(value)
            state = getattr(value, "__dict__", None)
            if isinstance(state, dict) and not callable(value):
                return kind.__qualname__ + self.text(state)
            text = repr(value)
            return text if " at 0x" not in text else kind.__qualname__
        finally:
            self._open.discard(id(value))


_PLAIN = frozenset({str, int, float, bool, type(None), bytes, decimal.Decimal, dt.date, dt.datetime, dt.time,
                    dt.timedelta})


def _kind_of(kind: type):
    """How Canon writes a type: an item, a tag or category, a plain value, or anything else."""
    if issubclass(kind, Content):
        return Content
    if issubclass(kind, URLWrapper):
        return URLWrapper
    if issubclass(kind, (str, int, float, decimal.Decimal, dt.date, dt.time, dt.timedelta, PurePath)) \
            and not issubclass(kind, enum.Enum):
        return str
    return object


def _body_is_shown_elsewhere(item: Content) -> bool:
    """Whether other pages show part of the item's body: its summary, when it has none of its own."""
    if type(item).summary is not Content.summary:
        return False  # a summary of its own kind (a product's comes from its record)
    return "summary" not in getattr(item, "metadata", {})


def item_states(item: Content, canon: Canon) -> tuple[str, str]:
    """(what any page may show of the item, what only its own page shows) as digests."""
    state = vars(item)
    own_only = OWN_PAGE_ONLY if _body_is_shown_elsewhere(item) else OWN_PAGE_ONLY | {"_content"}
    shown = {k: v for k, v in state.items() if k not in NOT_STATE and k not in own_only}
    # The metadata become the item's fields: only those that differ from the field count again.
    metadata = shown.pop("metadata", None) or {}
    shown["metadata"] = {k: v for k, v in metadata.items() if state.get(k.lower(), _MISSING) is not v}
    own = {k: v for k, v in state.items() if k in own_only}
    return _digest(canon.text(shown)), _digest(canon.text(own))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _files_digest(paths) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for path in paths:
        digest.update(f"{path}:".encode("utf-8", "surrogateescape") + hashlib.blake2b(path.read_bytes()).digest())
    return digest.hexdigest()


def _versions(packages) -> str:
    from importlib import metadata

    found = []
    for package in packages:
        try:
            found.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            found.append(f"{package}=none")
    return ",".join(found)


def content_files(content: Path, pages: bool):
    """(path, stat) of each file under content that is (pages=True) or is not a page source, in path order."""
    for folder, folders, files in os.walk(content):
        folders.sort()
        for name in sorted(files):
            if name.endswith(PAGE_SOURCES) != pages:
                continue
            path = os.path.join(folder, name)
            try:
                yield path, os.stat(path)
            except OSError:
                continue


def _other_files(content: Path) -> str:
    """The files under content/ that are not pages (images, data), by size and modification time."""
    return _digest("\n".join(f"{os.path.relpath(path, content)}:{info.st_size}:{info.st_mtime_ns}"
                             for path, info in content_files(content, pages=False)))


# --- the build's side -----------------------------------------------------------------------------------------

class Site:
    """What every page of this build may show, digested once, before the first page is rendered."""

    def __init__(self, settings: dict, context: dict):
        from . import schedule
        from .contentcache import FINGERPRINT_SETTING

        self.settings = settings
        self.context = context
        self.canon = Canon()
        self.states: dict[int, tuple[str, str]] = {}
        theme = Path(settings["THEME"])
        parts = [str(settings.get(FINGERPRINT_SETTING)), settings["THEME"], _versions(RENDERING_PACKAGES),
                 _files_digest(sorted(p for p in theme.rglob("*") if p.is_file())),
                 schedule.clock(settings).date().isoformat(), _other_files(Path(settings["PATH"]))]
        beyond = {k: v for k, v in context.items() if k not in NOT_INPUT and (k not in settings or settings[k] is not v)}
        for name in UNORDERED & beyond.keys():
            beyond[name] = set(beyond[name])
        parts.append(self.canon.text(beyond))
        parts.append(self._states_of_met())
        self.digest = _digest("\n".join(parts))

    def _states_of_met(self) -> str:
        """The shown state of every item met so far, and of those their states lead to."""
        done, texts = 0, []
        while done < len(self.canon.items):
            pending = list(self.canon.items.values())[done:]
            done += len(pending)
            self._shared_out(pending)
            for item in pending:
                texts.append(f"{self.canon.text(item)}={self.state(item)[0]}")
        return ",".join(sorted(texts))

    def _shared_out(self, items: list) -> None:
        """The states of many items, computed by this process and forks of it (core.pagepool.fork_map).

        A fork's Canon is its own: an item whose state names items this one has not met is read again here,
        so that they are met (and their states follow), as when this process reads every item itself.
        """
        from .pagepool import fork_map
        from .parallel import workers_of

        todo = [item for item in items if id(item) not in self.states]
        if len(todo) < MIN_FORKED_STATES:
            return
        for item, (states, met) in zip(todo, fork_map(_states_and_met, todo, self.context, workers_of(self.settings))):
            self.states[id(item)] = states
            if not all(key in self.canon.items for key in met):
                item_states(item, self.canon)

    def state(self, item: Content) -> tuple[str, str]:
        known = self.states.get(id(item))
        if known is None:
            known = self.states[id(item)] = item_states(item, self.canon)
        return known

    def key(self, name: str, template, context: dict, args: tuple, kwargs: dict) -> str:
        met = len(self.canon.items)
        changed = {k: v for k, v in context.items()
                   if k not in NOT_INPUT and self.context.get(k, _MISSING) is not v}
        parts = [self.digest, name, getattr(template, "name", "") or "", self.canon.text(list(args)),
                 self.canon.text(kwargs), self.canon.text(changed)]
        for value in kwargs.values():
            if isinstance(value, Content):
                parts.append(self.state(value)[1])
        # Items this call names that the site did not (a draft's translation...): their shown state too.
        parts += [self.state(item)[0] for item in list(self.canon.items.values())[met:]]
        return _digest("\n".join(parts))


_MISSING = object()
# Below this many items to digest, forking costs more than it saves.
MIN_FORKED_STATES = 256


def _states_and_met(item: Content) -> tuple[tuple[str, str], list[int]]:
    """In a fork (or this process): an item's states, and the ids of the items they name."""
    canon = Canon()
    return item_states(item, canon), list(canon.items)


class RenderCache:
    """One build's records: the last build's (to keep pages by) and this one's (to be saved at the end)."""

    def __init__(self, settings: dict, output: str):
        self.settings = settings
        self.enabled = os.environ.get(RENDER_ALL_VARIABLE) != "1" and bool(settings.get("CACHE_PATH"))
        self.path = Path(settings.get("CACHE_PATH") or ".") / RECORDS_FILE
        self.output = Path(output)
        reuse = settings.get(REUSE_SETTING)
        self.reuse = Path(reuse) if reuse and Path(reuse).resolve() != self.output.resolve() else None
        self.last: dict[str, Record] = self._load() if self.enabled else {}
        self.made: dict[str, Record] = {}
        self.site: Site | None = None
        self.kept = self.rendered = 0

    def _load(self) -> dict[str, Record]:
        try:
            with open(self.path, "rb") as handle:
                version, fingerprint, records = pickle.load(handle)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError, TypeError, AttributeError):
            return {}
        return records if version == RECORDS_VERSION and fingerprint == self._fingerprint() else {}

    def _fingerprint(self) -> str:
        from .contentcache import FINGERPRINT_SETTING

        return str(self.settings.get(FINGERPRINT_SETTING))

    def save(self) -> None:
        if not self.enabled:
            return
        data = pickle.dumps((RECORDS_VERSION, self._fingerprint(), self.made), protocol=pickle.HIGHEST_PROTOCOL)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            durable.write_bytes(self.path, data)
        except OSError as error:
            logger.info("The render records could not be saved (%s): the next build renders every page", error)

    def prepare(self, context: dict) -> None:
        """What every page may show, digested once (before the page-rendering forks start, who share it)."""
        if self.enabled and self.site is None:
            self.site = Site(self.settings, context)

    def key(self, name, template, context, args, kwargs) -> str | None:
        if not self.enabled:
            return None
        self.prepare(context)
        return self.site.key(name, template, context, args, kwargs)

    def keep(self, name: str, key: str | None, claim: Callable[[list[str]], bool], context: dict) -> bool:
        """Keep the files of a write whose key is the last build's, taking what its pages left behind.

        claim: the writer's bookkeeping of the files (False when this build already wrote one of them)."""
        record = self.last.get(name)
        if key is None or record is None or record.key != key or not self._in_place(record):
            return False
        if not claim([str(self.output / path) for path, _, _ in record.files]):
            return False
        for effect, value in record.effects.items():
            if effect in EFFECTS:
                EFFECTS[effect].replay(context, value)
        self.made[name] = record
        self.kept += 1
        return True

    def _in_place(self, record: Record) -> bool:
        """Whether each file is in the output as the last build left it (linked there from the served folder)."""
        for path, size, mtime in record.files:
            target = self.output / path
            if _same(target, size, mtime):
                continue
            if self.reuse is None or not _same(self.reuse / path, size, mtime):
                return False
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    target.unlink()
                try:
                    os.link(self.reuse / path, target)
                except OSError:
                    shutil.copy2(self.reuse / path, target)
            except OSError:
                return False
        return True

    def begin(self, context: dict) -> dict:
        return {name: effect.begin(context) for name, effect in EFFECTS.items()}

    def record(self, name: str, key: str | None, marks: dict, files: list[str], context: dict) -> None:
        self.rendered += 1
        if key is None:
            return
        found = []
        for path in files:
            try:
                info = os.stat(path)
            except OSError:
                return
            found.append((os.path.relpath(path, self.output), info.st_size, info.st_mtime_ns))
        self.made[name] = Record(key, found, {n: EFFECTS[n].end(context, m) for n, m in marks.items()})


def _same(path: Path, size: int, mtime: int) -> bool:
    try:
        info = path.stat()
    except OSError:
        return False
    return info.st_size == size and info.st_mtime_ns == mtime


# --- one cache per build --------------------------------------------------------------------------------------

_current: RenderCache | None = None


def of_build(settings: dict, output: str) -> RenderCache:
    """This build's render cache (a kept `serve` process runs many builds, each with its own settings)."""
    global _current
    if _current is None or _current.settings is not settings:
        _current = RenderCache(settings, output)
    return _current


def save(pelican) -> None:
    """At the end of a build: this build's records, for the next one; and how many pages were kept."""
    global _current
    cache, _current = _current, None
    if cache is None or cache.settings is not pelican.settings:
        return
    cache.save()
    if cache.kept:
        logger.info("Rendered %d page writes, kept %d unchanged since the last build", cache.rendered, cache.kept)


def register() -> None:
    """The records a page-rendering fork made come back to this process with its pages (core.pagepool)."""
    from pelican import signals

    from . import pagepool

    def start(context):
        cache = _current
        return None if cache is None else (len(cache.made), cache.kept, cache.rendered)

    def additions(context, mark):
        cache = _current
        if cache is None or mark is None:
            return None
        made, kept, rendered = mark
        return list(cache.made.items())[made:], cache.kept - kept, cache.rendered - rendered

    def merge(context, found):
        cache = _current
        if cache is None or found is None:
            return
        made, kept, rendered = found
        cache.made.update(made)
        cache.kept += kept
        cache.rendered += rendered

    pagepool.accumulates("render records", start, additions, merge)
    signals.finalized.connect(save)
