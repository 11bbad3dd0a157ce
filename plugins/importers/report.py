"""What an import did: counts per kind and status, and a line for everything skipped or changed, with why."""

from __future__ import annotations

import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from core import durable

STATUSES = ("new", "updated", "unchanged", "kept", "skipped")


class Report:
    """Collects an import's outcome; printed at the end and written beside the manifest."""

    def __init__(self, title: str, stream=None):
        self.title = title
        self.counts: Counter = Counter()
        self.notes: dict[str, list[str]] = defaultdict(list)
        self.stream = stream if stream is not None else sys.stderr
        self._last_progress = 0.0

    def count(self, kind: str, status: str) -> None:
        self.counts[kind, status] += 1

    def note(self, section: str, line: str) -> None:
        """One line under a heading such as "skipped" or "images not found"."""
        self.notes[section].append(line)

    def progress(self, done: int, total: int, what: str = "items") -> None:
        """A progress line at most twice a second, and always for the last item."""
        now = time.monotonic()
        if done == total or now - self._last_progress >= 0.5:
            self._last_progress = now
            end = "\n" if done == total else "\r"
            print(f"  {what}: {done}/{total}", end=end, file=self.stream, flush=True)

    def kinds(self) -> list[str]:
        return sorted({kind for kind, _ in self.counts})

    def total(self, status: str) -> int:
        return sum(number for (_, state), number in self.counts.items() if state == status)

    def render(self) -> str:
        lines = [self.title, ""]
        for kind in self.kinds():
            parts = [f"{self.counts[kind, status]} {status}" for status in STATUSES if self.counts[kind, status]]
            lines.append(f"  {kind}: {', '.join(parts)}")
        for section in sorted(self.notes):
            lines += ["", f"{section} ({len(self.notes[section])}):"]
            lines += [f"  {line}" for line in self.notes[section]]
        return "\n".join(lines) + "\n"

    def write(self, path: Path) -> None:
        durable.write_bytes(path, self.render().encode("utf-8"))
