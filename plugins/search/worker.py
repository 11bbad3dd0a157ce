"""The indexing process: Pagefind's Python API fed with the build's entries, while the build renders its pages.

Run by the build as `python worker.py PARENT_PID FOLDER`, where FOLDER holds `entries.jsonl` (one JSON entry a
line: an item's text, its body's HTML and its records). It indexes them, writes one bundle per language into
FOLDER/<language>/, removes the entries and answers one JSON line on standard output ({"ok": true, "records": N,
"languages": [...]} or {"error": "..."}). A build that is no longer running ends it without an answer.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import os
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the plugins folder: core.text

from core.text import NOT_MARKUP, TAG_REST  # noqa: E402

ENTRIES_FILE = "entries.jsonl"
PARENT_CHECK = 1.0  # seconds between two checks that the build is still running
NICENESS = 10  # the index is made in the time the build leaves, not taken from it
IN_FLIGHT = 64  # records handed to Pagefind before its answers are awaited
# Bundle files the shop's page never loads: Pagefind's ready-made interfaces (the page has its own, on
# pagefind.js). Its web worker stays: the search runs there, off the page's thread (Lighthouse's blocking time).
UNUSED_FILES = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
                "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js")
# What is not text in the build's own body HTML: comments, scripts and styles with their content, and tags.
NOT_TEXT = re.compile(rf"{NOT_MARKUP}|</?[a-z][^\s/>]*{TAG_REST}|<![^>]*>", re.IGNORECASE | re.DOTALL)


def text_of(body: str) -> str:
    """The visible text of the build's body HTML (a scan, as core.text's other scans of it: no tree is built)."""
    return " ".join(html.unescape(NOT_TEXT.sub(" ", body or "")).split())


def service_class():
    """Pagefind's service, reading its answers as they come.

    The package's own reader sleeps 0.1 s before each answer it reads: 0.1 s per record, minutes for a shop.
    This one reads on as long as there is an answer, and hands each to the request waiting for it. Its sender
    formats every request and answer for a debug line even when nobody logs them (a record's whole text, three
    times): this one only sends."""
    from pagefind.service import PagefindService

    class Service(PagefindService):
        async def send(self, payload):
            self._message_id += 1
            waiting = self._responses[self._message_id] = self._loop.create_future()
            request = json.dumps({"message_id": self._message_id, "payload": payload}, ensure_ascii=False)
            self._backend.stdin.write(base64.b64encode(request.encode("utf-8")) + b",")
            await self._backend.stdin.drain()
            return await waiting

        async def _wait_for_responses(self) -> None:
            while True:
                output = await self._backend.stdout.readuntil(b",")
                answer = json.loads(base64.b64decode(output[:-1]))
                if not answer:
                    continue
                payload = answer.get("payload") or {}
                message_id = answer.get("message_id")
                if message_id is None and payload.get("original_message"):
                    message_id = json.loads(payload["original_message"]).get("message_id")
                waiting = self._responses.pop(message_id, None)
                if waiting is None or waiting.done():
                    continue
                if payload.get("type") == "Error":
                    waiting.set_exception(RuntimeError(payload.get("message", "Pagefind failed")))
                else:
                    waiting.set_result(payload)

    return Service


class Indexes:
    """One index per language, each written as a bundle of its own (FOLDER/<language>/): Pagefind keeps one
    record per URL in an index, and a product has one URL in every language."""

    def __init__(self, service):
        self.service = service
        self.made: dict[str, object] = {}

    async def of(self, lang: str):
        if lang not in self.made:
            self.made[lang] = await self.service.create_index({"force_language": lang})
        return self.made[lang]

    async def write(self, folder: Path) -> None:
        for lang, index in sorted(self.made.items()):
            target = folder / lang
            await index.write_files(output_path=str(target))
            for name in UNUSED_FILES:
                (target / name).unlink(missing_ok=True)


def contents(entry: dict) -> list[str]:
    """The text each of an entry's records indexes: its text and its body's, or its text only for a record
    marked "body": false (a product in a language its body is not written in)."""
    text = entry.get("text", "")
    with_body = [record.get("body", True) for record in entry["records"]]
    whole = " ".join(part for part in (text, text_of(entry.get("html", ""))) if part) if any(with_body) else text
    return [whole if body else text for body in with_body]


async def index_entries(indexes: Indexes, lines) -> int:
    """Hand every record to Pagefind, a few at a time (each answer is awaited, in batches)."""
    pending, count = [], 0
    for line in lines:
        entry = json.loads(line)
        for record, content in zip(entry["records"], contents(entry)):
            index = await indexes.of(record["language"])
            pending.append(index.add_custom_record(
                url=record["url"], content=content, language=record["language"], meta=record.get("meta") or {},
                filters=record.get("filters") or {}, sort=record.get("sort") or {}))
            count += 1
        if len(pending) >= IN_FLIGHT:
            await asyncio.gather(*pending)
            pending = []
    await asyncio.gather(*pending)
    return count


async def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_CHECK)
    os._exit(1)  # the build was killed: nobody waits for this index


async def run(parent: int, folder: Path) -> dict:
    watcher = asyncio.create_task(watch_parent(parent))
    service = await service_class()().launch()
    try:
        indexes = Indexes(service)
        entries = folder / ENTRIES_FILE
        with entries.open("rb") as lines:
            count = await index_entries(indexes, lines)
        entries.unlink()
        await indexes.write(folder)
        return {"ok": True, "records": count, "languages": sorted(indexes.made)}
    finally:
        watcher.cancel()
        await service.close()


def main(parent: int, folder: str) -> int:
    if hasattr(os, "nice"):
        os.nice(NICENESS)  # Pagefind, its child, too: the pages the build renders meanwhile come first
    try:
        answer = asyncio.run(run(parent, Path(folder)))
    except Exception as error:  # noqa: BLE001 - any failure is the one answer the build reports
        answer = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0 if answer.get("ok") else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), sys.argv[2]))
