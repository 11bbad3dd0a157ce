"""The build's side of the index: a Pagefind process that indexes while the pages render, swapped in at the end.

The entries are written to a file in a hidden folder of the output, and a separate process (worker.py) indexes
them and writes the bundles into that same folder, while the build goes on rendering. At the end the build waits
for its answer and renames the folder into place only when the index is complete, so a failed or interrupted
index never leaves a partial one. A failure is reported as an error, which fails the build: `build`, `publish`
and `serve` then keep the last good site, index included.

A language whose records are the same as those of the bundle in place (each bundle keeps the digest of what it
was made from) is not indexed again: its bundle is linked into the new folder. A warm build after a post is
edited indexes that post's language only, and one with nothing changed starts no process at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

WORKER = Path(__file__).with_name("worker.py")
ENTRIES_FILE = "entries.jsonl"
STAMP_FILE = ".vetrina-records"  # in each language's bundle: the digest of the records it was made from
WAIT_LIMIT = 600  # seconds to wait for the index once every page is written


class SearchIndexError(RuntimeError):
    """The index could not be made or written."""


def partial_prefix(folder: str) -> str:
    return f".{folder}-partial-"


def remove_stale(output: Path, folder: str) -> None:
    """Hidden index folders that a killed earlier build left in output (a build still running keeps its own)."""
    prefix = partial_prefix(folder)
    if not output.is_dir():
        return
    for path in output.iterdir():
        pid = path.name[len(prefix):].partition("-")[0]
        if path.name.startswith(prefix) and path.is_dir() and not (pid.isdigit() and _alive(int(pid))):
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _stop(process: subprocess.Popen | None, folder: Path) -> None:
    if process is not None and process.poll() is None:
        process.kill()
        process.wait()
    shutil.rmtree(folder, ignore_errors=True)


class IndexRun:
    """One build's index: started with every entry at once, swapped into place by finish()."""

    def __init__(self, output: Path, folder: str, entries, python: str = sys.executable, worker: Path = WORKER):
        self.started = time.monotonic()
        self.output, self.folder = Path(output), folder
        self.output.mkdir(parents=True, exist_ok=True)
        remove_stale(self.output, folder)
        entries = list(entries)
        self.entries = len(entries)
        self.digests = digests(entries)
        current = self.output / folder
        self.kept = {lang for lang, digest in self.digests.items() if stamp_of(current / lang) == digest}
        self.records = {lang: 0 for lang in self.digests}
        for entry in entries:
            for record in entry.records:
                self.records[record["language"]] += 1
        self.unchanged = self.kept == set(self.digests) == languages_in(current)
        self.partial = self.process = None
        if self.unchanged:
            return
        self.partial = Path(tempfile.mkdtemp(prefix=f"{partial_prefix(folder)}{os.getpid()}-", dir=self.output))
        # A build that stops half-way (an exception, a warm build process that ends) kills it: nothing is kept.
        self._stop = weakref.finalize(self, _stop, None, self.partial)
        if self.kept == set(self.digests):
            return  # a language was removed: the others are linked in by finish(), nothing to index
        write_entries(self.partial / ENTRIES_FILE, entries, skip=self.kept)
        try:
            self.process = subprocess.Popen([python, str(worker), str(os.getpid()), str(self.partial)],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as error:
            self._stop()
            raise SearchIndexError(f"the indexing process could not start: {error}") from None
        self._stop.detach()
        self._stop = weakref.finalize(self, _stop, self.process, self.partial)

    @property
    def indexed(self) -> int:
        """The records Pagefind is given (those of the languages that changed)."""
        return sum(count for lang, count in self.records.items() if lang not in self.kept)

    def finish(self) -> int:
        """Wait for the index and put it at output/folder (replacing the last one there); the records it holds."""
        if self.unchanged:
            return sum(self.records.values())
        try:
            if self.process is not None:
                self._wait()
            current = self.output / self.folder
            for lang in sorted(self.kept):
                shutil.copytree(current / lang, self.partial / lang, copy_function=os.link)
            for lang, digest in self.digests.items():
                (self.partial / lang / STAMP_FILE).write_text(digest + "\n", encoding="utf-8")
            swap_in(self.partial, current)
            return sum(self.records.values())
        finally:
            self._stop()

    def _wait(self) -> None:
        try:
            answer_line, errors = self.process.communicate(timeout=WAIT_LIMIT)
        except subprocess.TimeoutExpired:
            raise SearchIndexError(f"Pagefind did not finish the index in {WAIT_LIMIT} s") from None
        answer = _answer(answer_line)
        if not answer.get("ok"):
            reason = answer.get("error") or _last_line(errors) or f"exit status {self.process.returncode}"
            raise SearchIndexError(f"Pagefind could not write the index: {reason}")
        missing = [lang for lang in self.digests if lang not in self.kept
                   and not (self.partial / lang / "pagefind.js").is_file()]
        if missing or (self.partial / ENTRIES_FILE).exists():
            raise SearchIndexError(f"Pagefind's bundle is incomplete ({', '.join(missing) or ENTRIES_FILE})")

    def cancel(self) -> None:
        if self.partial is not None:
            self._stop()


def digests(entries) -> dict[str, str]:
    """Per language, a digest of everything its bundle is made from: its records, the text and body they index,
    the order they come in, and the indexer's own version (an upgrade of Pagefind makes every bundle again)."""
    made: dict[str, hashlib._Hash] = {}
    for entry in entries:
        text = hashlib.sha256(f"{entry.text}\0{entry.html}".encode("utf-8")).digest()
        for record in entry.records:
            lang = record["language"]
            if lang not in made:
                made[lang] = hashlib.sha256(f"{indexer_version()}\0{lang}".encode("utf-8"))
            made[lang].update(text)
            made[lang].update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode("utf-8"))
    return {lang: digest.hexdigest() for lang, digest in made.items()}


def indexer_version() -> str:
    """Pagefind's version and the worker's source: what else makes a bundle."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        pagefind = version("pagefind")
    except PackageNotFoundError:
        pagefind = "none"
    return f"{pagefind}\0{hashlib.sha256(WORKER.read_bytes()).hexdigest()}"


def stamp_of(bundle: Path) -> str | None:
    """The digest a bundle in place was made from, if it is complete."""
    try:
        if (bundle / "pagefind.js").is_file():
            return (bundle / STAMP_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        pass
    return None


def languages_in(folder: Path) -> set[str]:
    return {path.name for path in folder.iterdir() if path.is_dir()} if folder.is_dir() else set()


def write_entries(path: Path, entries, skip=frozenset()) -> int:
    """The entries as JSON lines, for the indexing process, without the records of the languages in skip;
    how many entries were written."""
    count = 0
    with path.open("w", encoding="utf-8") as file:
        for entry in entries:
            message = entry.message()
            message["records"] = [record for record in message["records"] if record["language"] not in skip]
            if not message["records"]:
                continue
            file.write(json.dumps(message, ensure_ascii=False))
            file.write("\n")
            count += 1
    return count


def _answer(line: bytes) -> dict:
    try:
        answer = json.loads(line.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {}
    return answer if isinstance(answer, dict) else {}


def _last_line(text: bytes) -> str:
    lines = text.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else ""


def swap_in(new: Path, target: Path) -> None:
    """Put the complete folder new at target: the last one moved aside first, then removed."""
    old = target.with_name(f".{target.name}-old-{os.getpid()}")
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
