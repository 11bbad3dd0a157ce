"""The build's side of the index: a Pagefind process fed while the pages render, swapped into the output at the end.

The index is written into a hidden folder beside its final place and renamed there only once Pagefind said it
is complete, so a failed or interrupted index never leaves a partial one. A failure is reported as an error,
which fails the build: `build`, `publish` and `serve` then keep the last good site, index included.
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
WAIT_LIMIT = 600  # seconds to wait for the index once every page is written


class SearchIndexError(RuntimeError):
    """The index could not be made or written."""


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.kill()
        process.wait()


class IndexRun:
    """One build's index: started with the first entries, written by finish()."""

    def __init__(self, python: str = sys.executable, worker: Path = WORKER):
        self.started = time.monotonic()
        self.entries = 0
        try:
            self.process = subprocess.Popen([python, str(worker), str(os.getpid())], stdin=subprocess.PIPE,
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as error:
            raise SearchIndexError(f"the indexing process could not start: {error}") from None
        # A build that stops half-way (an exception, a warm build process that ends) kills it: nothing is written.
        self._stop = weakref.finalize(self, _stop, self.process)

    def add(self, entries) -> None:
        """Hand entries (records.Entry) to Pagefind, which indexes them while this process goes on."""
        lines = [json.dumps({"entry": entry.message()}, ensure_ascii=False).encode("utf-8") + b"\n"
                 for entry in entries]
        self.entries += len(lines)
        self._send(b"".join(lines))

    def _send(self, data: bytes) -> None:
        try:
            self.process.stdin.write(data)
            self.process.stdin.flush()
        except (BrokenPipeError, OSError):
            raise SearchIndexError(f"the indexing process stopped: {self._why()}") from None

    def _why(self) -> str:
        self._stop()
        error = self.process.stderr.read().decode("utf-8", "replace").strip().splitlines()
        return error[-1] if error else f"exit status {self.process.returncode}"

    def finish(self, output: Path, folder: str) -> int:
        """Write the index to output/folder, one bundle per language in output/folder/<language>/ (replacing the
        last one there); the number of records."""
        output = Path(output)
        partial = Path(tempfile.mkdtemp(prefix=f".{folder}-partial-", dir=output))
        try:
            self._send(json.dumps({"write": str(partial)}).encode("utf-8") + b"\n")
            try:  # communicate() closes its input: the end of the messages
                answer_line, errors = self.process.communicate(timeout=WAIT_LIMIT)
            except subprocess.TimeoutExpired:
                raise SearchIndexError(f"Pagefind did not finish the index in {WAIT_LIMIT} s") from None
            answer = _answer(answer_line)
            if not answer.get("ok"):
                reason = answer.get("error") or _last_line(errors) or f"exit status {self.process.returncode}"
                raise SearchIndexError(f"Pagefind could not write the index: {reason}")
            for lang in answer.get("languages", []):
                if not (partial / lang / "pagefind.js").is_file():
                    raise SearchIndexError(f"Pagefind wrote no {lang}/pagefind.js")
            swap_in(partial, output / folder)
            return int(answer.get("records", 0))
        finally:
            self._stop()
            shutil.rmtree(partial, ignore_errors=True)

    def cancel(self) -> None:
        self._stop()


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
