"""The content cache's discipline: one fingerprint of the settings and the plugins, and a file cache keyed by it.

Pelican's reader-level cache keys each file by its modification time only and keeps Tag, Category and
Author objects that carry the settings they were read with; so a build whose settings, plugin code or
Markdown/Pelican versions differ from the cached build's must not load it. The fingerprint says so: at
start, a mismatch removes Pelican's cache files, and the shop's FileCache refuses a file made for another
fingerprint. Files are written to a temporary name and renamed: an interrupted build leaves the old cache
or none, never half of one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import gzip
import hashlib
import logging
import os
import pickle
from importlib import metadata
from pathlib import Path, PurePath

from . import durable

logger = logging.getLogger(__name__)

FINGERPRINT_SETTING = "SITE_CONTENT_FINGERPRINT"
FINGERPRINT_FILE = "content-fingerprint"
# Settings that change from build to build without changing what reading a file gives.
VOLATILE_SETTINGS = frozenset({
    "SITE_NOW", "OUTPUT_PATH", "CACHE_PATH", "SITE_WORKERS", "CACHE_CONTENT", "LOAD_CONTENT_CACHE",
    FINGERPRINT_SETTING, "SITE_REUSE_OUTPUT",
})
PACKAGES = ("pelican", "markdown", "pyyaml")
# Pelican's cache files of its posts and pages generators (reader and generator layers).
PELICAN_CACHES = ("ArticlesGenerator-Readers", "PagesGenerator-Readers", "ArticlesGenerator", "PagesGenerator")


def stable(value) -> str:
    """A text of value that is the same in every process and build (no ids, no set order)."""
    if value is None or isinstance(value, (bool, int, float, str, bytes, decimal.Decimal, dt.date, dt.time,
                                           dt.timedelta, PurePath)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(sorted(f"{stable(k)}:{stable(v)}" for k, v in value.items())) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(stable(v) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        return "{" + ",".join(sorted(stable(v) for v in value)) + "}"
    kind = type(value)
    name = f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(value, enum.Enum):
        return f"{name}.{value.name}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return name + stable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if callable(getattr(value, "getConfigs", None)):  # a Markdown extension: its options count
        return name + stable(value.getConfigs())
    if isinstance(value, type) or callable(value):
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', name)}"
    return name


def _plugin_sources(settings) -> list[Path]:
    files = []
    for folder in settings.get("PLUGIN_PATHS") or []:
        files += [p for p in Path(folder).rglob("*.py") if "__pycache__" not in p.parts]
    return sorted(files)


def fingerprint(settings) -> str:
    """sha256 of the settings (but the volatile ones), the plugins' source and the reading packages' versions."""
    digest = hashlib.sha256()
    for key in sorted(settings):
        if key not in VOLATILE_SETTINGS:
            digest.update(f"{key}={stable(settings[key])}\n".encode())
    for path in _plugin_sources(settings):
        digest.update(f"{path.name}:".encode() + hashlib.sha256(path.read_bytes()).digest())
    for package in PACKAGES:
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=none".encode())
    return digest.hexdigest()


def caching(settings) -> bool:
    return bool(settings.get("CACHE_CONTENT") or settings.get("LOAD_CONTENT_CACHE"))


def check(settings) -> str:
    """At start: this build's fingerprint; Pelican's content caches of another fingerprint are removed."""
    value = fingerprint(settings)
    settings[FINGERPRINT_SETTING] = value
    if not caching(settings):
        return value
    cache = Path(settings["CACHE_PATH"])
    marker = cache / FINGERPRINT_FILE
    try:
        previous = marker.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        previous = None
    if previous != value:
        for name in PELICAN_CACHES:
            (cache / name).unlink(missing_ok=True)
        durable.write_bytes(marker, value.encode("ascii"))
        if previous is not None:
            logger.info("Settings, plugins or packages changed since the last build: content is read afresh")
    for name in PELICAN_CACHES:
        durable.remove_temps(cache / name)  # a save cut by a killed build
    return value


def _save_pelican_cache(self) -> None:
    """Pelican's FileDataCacher.save_cache, written durably (core.durable) instead of in place.

    Compressed at gzip's fastest level, not its slowest: at 2,000 posts that is 0.1 s instead of 0.5 s of
    the build's own process, for a file a quarter bigger, read back by Pelican's gzip.open the same way.
    """
    if not self._cache_data_policy:
        return
    try:
        data = pickle.dumps(self._cache)
        if self.settings["GZIP_CACHE"]:
            data = gzip.compress(data, compresslevel=1)
        durable.write_bytes(Path(self._cache_path), data)
    except (OSError, pickle.PicklingError, TypeError) as error:
        logger.warning("Could not save the content cache %s: %s", self._cache_path, error)


def pelican_caches_survive_interruption() -> None:
    """Pelican 4.12 writes its cache files in place, and stops on one cut short (EOFError, not caught): its
    saves go through a rename, and a cache that cannot be read whole is read afresh. Applied once, at start."""
    from pelican.cache import FileDataCacher

    if getattr(FileDataCacher, "_vetrina", False):
        return
    load = FileDataCacher.__init__

    def load_or_start_empty(self, settings, cache_name, caching_policy, load_policy):
        try:
            load(self, settings, cache_name, caching_policy, load_policy)
        except (EOFError, pickle.UnpicklingError, ValueError, AttributeError, ImportError):
            load(self, settings, cache_name, caching_policy, False)
            logger.info("The content cache %s was incomplete: its files are read afresh", self._cache_path)

    FileDataCacher.__init__ = load_or_start_empty
    FileDataCacher.save_cache = _save_pelican_cache
    FileDataCacher._vetrina = True


def stamp(path: str) -> tuple[int, int] | None:
    """(modification time in ns, size) of a file, or None when it cannot be read."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


class FileCache:
    """{key: (file stamp, pickled value)} in one file under CACHE_PATH, valid for one fingerprint."""

    def __init__(self, path: Path, fingerprint_value: str, load: bool, save: bool):
        self.path, self.fingerprint, self.saving = path, fingerprint_value, save
        self.entries: dict[str, tuple] = {}
        self.used: set[str] = set()
        self.dirty = False
        if load:
            self.entries = self._load()

    @classmethod
    def for_settings(cls, settings, name: str) -> FileCache | None:
        """The cache called name under CACHE_PATH when the settings turn the content cache on, else None."""
        if not caching(settings):
            return None
        value = settings.get(FINGERPRINT_SETTING) or fingerprint(settings)
        return cls(Path(settings["CACHE_PATH"]) / name, value, bool(settings.get("LOAD_CONTENT_CACHE")),
                   bool(settings.get("CACHE_CONTENT")))

    def _load(self) -> dict:
        try:
            with open(self.path, "rb") as stream:
                document = pickle.load(stream)
        except FileNotFoundError:
            return {}
        except Exception as error:  # noqa: BLE001 - a damaged cache is only a slower build
            logger.info("The content cache %s cannot be read (%s): reading every file", self.path, error)
            return {}
        if not isinstance(document, dict) or document.get("fingerprint") != self.fingerprint:
            return {}
        return document.get("entries", {})

    def has(self, key: str, file_stamp) -> bool:
        """Whether a value is cached for key from a file with this stamp."""
        entry = self.entries.get(key)
        return file_stamp is not None and entry is not None and entry[0] == file_stamp

    def get(self, key: str, file_stamp):
        """The value cached for key if it was cached from a file with this stamp, else None."""
        entry = self.entries.get(key)
        if file_stamp is None or entry is None or entry[0] != file_stamp:
            return None
        self.used.add(key)
        return pickle.loads(entry[1])

    def put(self, key: str, file_stamp, value) -> None:
        """Cache a snapshot of value (later changes to it are not cached)."""
        self.used.add(key)
        if file_stamp is None or not self.saving:
            return
        self.entries[key] = (file_stamp, pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
        self.dirty = True

    def save(self, exists) -> None:
        """Write the cache when it changed; entries of files that are gone (exists(key) false) are dropped."""
        gone = [key for key in self.entries if key not in self.used and not exists(key)]
        for key in gone:
            del self.entries[key]
        if not self.saving or not (self.dirty or gone):
            return
        document = {"fingerprint": self.fingerprint, "entries": self.entries}
        try:
            durable.write_bytes(self.path, pickle.dumps(document, protocol=pickle.HIGHEST_PROTOCOL))
        except OSError as error:
            logger.warning("%s: the content cache cannot be written (%s); check that the folder is writable",
                           self.path, error)
            return
        self.dirty = False
