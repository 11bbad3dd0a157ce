"""One import run into a shop: the files it writes, their manifest, the redirects, a lock against a second run.

Idempotent by construction:

- every imported item has a key (`post:123`, `image:2020/01/photo.jpg`) and a Uid derived from it (uuid5), so a
  second import, even without the manifest, gives the same Uid and writes the same file;
- the manifest (`imports/<source>.json`) remembers each key's file and the hash of what was written; a file
  whose bytes differ from that hash was edited by the owner and is kept (listed in the report) unless `force`;
- each write is journalled (`imports/<source>.journal`, one JSON line) before the next one, and the journal is
  folded into the manifest at the end: an import killed half-way loses nothing and the next run resumes;
- `imports/.lock` (flock) makes a second import into the same shop wait for nothing: it stops at once.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from core import durable

from .report import Report

IMPORTS_FOLDER = "imports"
REDIRECTS_FOLDER = "redirects"
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://vetrina.invalid/import")


class ImportError_(RuntimeError):
    """An import that cannot start or go on (a lock held, a shop folder that is not a shop)."""


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class Written:
    """What write_text/copy_file did: the file (relative to the shop) and new/updated/unchanged/kept."""

    path: str
    status: str


@dataclass
class ImportSession:
    shop: Path
    source: str
    settings: dict
    report: Report
    force: bool = False
    manifest: dict = field(default_factory=dict)
    claimed: dict = field(default_factory=dict)

    # --- lifetime -----------------------------------------------------------------------------------------
    def __enter__(self) -> "ImportSession":
        self.folder = self.shop / IMPORTS_FOLDER
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.folder / ".lock", "w")
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock.close()
            raise ImportError_(f"another import into {self.shop} is running; wait for it to end") from None
        self.manifest_path = self.folder / f"{self.source}.json"
        self.journal_path = self.folder / f"{self.source}.journal"
        self.manifest = self._load()
        self.claimed = {entry["path"]: key for key, entry in self.manifest["items"].items() if "path" in entry}
        self._journal = open(self.journal_path, "a", encoding="utf-8")
        return self

    def __exit__(self, kind, error, trace) -> None:
        self._journal.close()
        self.save()
        self._lock.close()

    def _load(self) -> dict:
        manifest = {"items": {}, "redirects": {}, "announced": []}
        if self.manifest_path.is_file():
            manifest.update(json.loads(self.manifest_path.read_text(encoding="utf-8")))
        if self.journal_path.is_file():
            for line in self.journal_path.read_text(encoding="utf-8").splitlines():
                try:
                    key, entry = json.loads(line)
                except ValueError:
                    continue  # the last line of a killed run may be cut
                manifest["items"][key] = entry
        return manifest

    def save(self) -> None:
        """The manifest with the journal folded in, written whole; then the journal is emptied."""
        durable.write_json(self.manifest_path, self.manifest)
        self.journal_path.unlink(missing_ok=True)
        self.write_redirects()
        self.write_announced()

    # --- identities -----------------------------------------------------------------------------------------
    def uid(self, key: str) -> str:
        entry = self.manifest["items"].get(key)
        if entry and entry.get("uid"):
            return entry["uid"]
        return str(uuid.uuid5(NAMESPACE, f"{self.source}:{key}"))

    def path_for(self, key: str, wanted: str, data: bytes | None = None) -> str:
        """The file an item is written to: the one it had before, else `wanted`, made unique (`-2`, `-3`...).

        A file already there is this item's when it carries its Uid (a text) or holds `data` (a copied file).
        """
        entry = self.manifest["items"].get(key)
        if entry:
            return entry["path"]
        stem, suffix = wanted.rsplit(".", 1) if "." in PurePosixPath(wanted).name else (wanted, "")
        dot = "." if suffix else ""
        candidate, number = wanted, 2
        while self._taken(candidate, key, data):
            candidate, number = f"{stem}-{number}{dot}{suffix}", number + 1
        self.claimed[candidate] = key
        return candidate

    def _taken(self, relative: str, key: str, data: bytes | None) -> bool:
        owner = self.claimed.get(relative)
        if owner is not None:
            return owner != key
        target = self.shop / relative
        if not target.exists():
            return False
        # A file of an earlier run killed before its manifest was saved is this item's: it is not taken.
        if data is not None:
            return target.read_bytes() != data
        return self.uid(key) not in target.read_text(encoding="utf-8", errors="replace")

    def slug_of(self, key: str, wanted: str) -> str:
        """The slug an item keeps: the one its earlier import gave it, else `wanted`."""
        return self.manifest["items"].get(key, {}).get("slug") or wanted

    # --- writing --------------------------------------------------------------------------------------------
    def write_text(self, key: str, relative: str, text: str, kind: str, **extra) -> Written:
        return self._write(key, relative, text.encode("utf-8"), kind, extra)

    def copy_file(self, key: str, relative: str, source: Path, kind: str = "images") -> Written:
        return self._write(key, relative, Path(source).read_bytes(), kind, {})

    def _write(self, key: str, relative: str, data: bytes, kind: str, extra: dict) -> Written:
        target = self.shop / relative
        entry = self.manifest["items"].get(key)
        new_hash = digest(data)
        status = "new"
        if target.exists():
            current = digest(target.read_bytes())
            if current == new_hash:
                status = "unchanged"
            elif entry and current != entry["sha256"] and not self.force:
                self.report.count(kind, "kept")
                self.report.note("kept (edited since the last import; --force overwrites)", relative)
                return Written(relative, "kept")
            else:
                status = "updated"
        if status != "unchanged":
            target.parent.mkdir(parents=True, exist_ok=True)
            temporary = target.with_name(f"{durable.TEMP_PREFIX}{os.getpid()}-{target.name}")
            temporary.write_bytes(data)
            os.replace(temporary, target)
        self.report.count(kind, status)
        record = {"path": relative, "sha256": new_hash, "uid": self.uid(key), **extra}
        if record != entry:
            self.manifest["items"][key] = record
            self._journal.write(json.dumps([key, record], ensure_ascii=False) + "\n")
            self._journal.flush()
        return Written(relative, status)

    def remember(self, key: str, record: dict) -> None:
        """Something imported elsewhere than a file (a comment in Isso), journalled like a written file."""
        self.manifest["items"][key] = record
        self._journal.write(json.dumps([key, record], ensure_ascii=False) + "\n")
        self._journal.flush()

    def announce(self, guid: str) -> None:
        """A post already sent to the old site's readers: the first newsletter after the move leaves it out."""
        if guid not in self.manifest["announced"]:
            self.manifest["announced"].append(guid)

    def write_announced(self) -> None:
        """The announced posts go into the newsletter's state, which `newsletter --send` reads."""
        if not self.manifest["announced"]:
            return
        from newsletter import state

        path = self.shop / self.settings.get("NEWSLETTER_STATE_FILE", "newsletter/sent.json")
        recorded = state.load(path)
        updated = state.with_announced(recorded, self.manifest["announced"])
        if updated != recorded:
            state.save(path, updated)

    # --- URLs -------------------------------------------------------------------------------------------------
    def url(self, kind: str, slug: str, lang: str | None = None) -> str:
        """The new site's URL (root-relative, `/blog/slug/`) of an item or a term, from the shop's settings."""
        names = {"article": "ARTICLE", "page": "PAGE", "product": "SHOP_PRODUCT", "category": "CATEGORY",
                 "tag": "TAG", "product_category": "SHOP_CATEGORY", "author": "AUTHOR"}
        name = names[kind]
        translated = lang and lang != self.settings.get("DEFAULT_LANG") and kind in ("article", "page")
        pattern = self.settings[f"{name}_LANG_URL" if translated else f"{name}_URL"]
        return "/" + pattern.format(slug=slug, lang=lang or "").lstrip("/")

    def term_slug(self, kind: str, name: str) -> str:
        """The slug Pelican (categories, tags) or the shop (product categories) gives a term's name."""
        from pelican.utils import slugify

        settings = self.settings
        if kind == "product_category":
            return slugify(name, regex_subs=settings["SLUG_REGEX_SUBSTITUTIONS"])
        subs = settings.get(f"{kind.upper()}_REGEX_SUBSTITUTIONS", settings.get("SLUG_REGEX_SUBSTITUTIONS", []))
        return slugify(name, regex_subs=subs, preserve_case=settings.get("SLUGIFY_PRESERVE_CASE", False),
                       use_unicode=settings.get("SLUGIFY_USE_UNICODE", False))

    # --- redirects ----------------------------------------------------------------------------------------
    def redirect(self, old: str, new: str) -> None:
        """The old site's URL (absolute or not; a `?p=ID` query kept) to the new root-relative URL."""
        old, new = old_path(old), old_path(new) if new.startswith("/") else new
        if old and old != new:
            self.manifest["redirects"][old] = new

    def write_redirects(self) -> None:
        redirects = self.manifest.get("redirects") or {}
        if not redirects:
            return
        lines = [f"# Old addresses of the {self.source} site and the new pages they lead to (301).",
                 f"# Written by each import from {self.source}; add your own in another .txt file of this folder."]
        lines += [f"{old} {new}" for old, new in sorted(redirects.items())]
        durable.write_bytes(self.shop / REDIRECTS_FOLDER / f"{self.source}.txt",
                            ("\n".join(lines) + "\n").encode("utf-8"))


def load_settings(shop: Path) -> dict:
    """The shop's Pelican settings (its pelicanconf.py), as the build reads them."""
    from pelican.settings import read_settings

    conf = Path(shop) / "pelicanconf.py"
    if not conf.is_file():
        raise ImportError_(f"{shop}: no pelicanconf.py here; run the import in a shop folder (see `vetrina init`)")
    return read_settings(str(conf))


def old_path(url: str) -> str:
    """`https://old.example/2020/01/ciao/?p=1` → `/2020/01/ciao/?p=1`, percent-encoded as a request line is."""
    from .redirects import canonical

    return canonical(url)
