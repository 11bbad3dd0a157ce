"""The build's side of the index: a Pagefind process that indexes while the pages render, swapped in at the end.

The entries are written to a file in a hidden folder of the output, and a separate process (worker.py) indexes
them and writes the bundles into that same folder, while the build goes on rendering. At the end the build waits
for its answer and renames the folder into place only when the index is complete, so a failed or interrupted
index never leaves a partial one. A failure is reported as an error, which fails the build: `build`, `publish`
and `serve` then keep the last good site, index included.
"""

from __future__ import annotations

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
        self.partial = Path(tempfile.mkdtemp(prefix=f"{partial_prefix(folder)}{os.getpid()}-", dir=self.output))
        self.process = None
        # A build that stops half-way (an exception, a warm build process that ends) kills it: nothing is kept.
        self._stop = weakref.finalize(self, _stop, None, self.partial)
        self.entries = write_entries(self.partial / ENTRIES_FILE, entries)
        try:
            self.process = subprocess.Popen([python, str(worker), str(os.getpid()), str(self.partial)],
                                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as error:
            self._stop()
            raise SearchIndexError(f"the indexing process could not start: {error}") from None
        self._stop.detach()
        self._stop = weakref.finalize(self, _stop, self.process, self.partial)

    def finish(self) -> int:
        """Wait for the index and put it at output/folder (replacing the last one there); the number of records."""
        try:
            try:
                answer_line, errors = self.process.communicate(timeout=WAIT_LIMIT)
            except subprocess.TimeoutExpired:
                raise SearchIndexError(f"Pagefind did not finish the index in {WAIT_LIMIT} s") from None
            answer = _answer(answer_line)
            if not answer.get("ok"):
                reason = answer.get("error") or _last_line(errors) or f"exit status {self.process.returncode}"
                raise SearchIndexError(f"Pagefind could not write the index: {reason}")
            languages = answer.get("languages", [])
            missing = [lang for lang in languages if not (self.partial / lang / "pagefind.js").is_file()]
            if missing or (self.partial / ENTRIES_FILE).exists():
                raise SearchIndexError(f"Pagefind's bundle is incomplete ({', '.join(missing) or ENTRIES_FILE})")
            swap_in(self.partial, self.output / self.folder)
            return int(answer.get("records", 0))
        finally:
            self._stop()

    def cancel(self) -> None:
        self._stop()


def write_entries(path: Path, entries) -> int:
    """The entries as JSON lines, for the indexing process; how many."""
    count = 0
    with path.open("w", encoding="utf-8") as file:
        for entry in entries:
            file.write(json.dumps(entry.message(), ensure_ascii=False))
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
