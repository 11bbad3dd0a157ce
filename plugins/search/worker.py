"""The indexing process: Pagefind's Python API fed with the build's entries, while the build renders its pages.

Run by the build as `python worker.py PARENT_PID` (a script of its own, so it needs nothing of the build).
It reads one JSON message a line on standard input: {"entry": {...}} for each item (its text, body HTML and
records), then {"write": FOLDER}; it then writes one index per language into FOLDER/<language>/ and answers one JSON line on standard
output ({"ok": true, "records": N} or {"error": "..."}). End of input before "write", or a build that is no
longer running, ends it without writing anything.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from html.parser import HTMLParser

SKIPPED_ELEMENTS = {"script", "style", "template"}
PARENT_CHECK = 1.0  # seconds between two checks that the build is still running
# Bundle files only Pagefind's ready-made interfaces use: the shop's page has its own, on pagefind.js.
UNUSED_FILES = ("pagefind-ui.js", "pagefind-ui.css", "pagefind-modular-ui.js", "pagefind-modular-ui.css",
                "pagefind-component-ui.js", "pagefind-component-ui.css", "pagefind-highlight.js")


class TextOf(HTMLParser):
    """The visible text of an HTML fragment (the standard library's parser: no tree is built)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in SKIPPED_ELEMENTS:
            self.skipping += 1

    def handle_endtag(self, tag):
        if tag in SKIPPED_ELEMENTS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def text_of(html: str) -> str:
    parser = TextOf()
    parser.feed(html or "")
    parser.close()
    return " ".join(" ".join(parser.parts).split())


def service_class():
    """Pagefind's service, reading its answers as they come.

    The package's own reader sleeps 0.1 s before each answer it reads: 0.1 s per record, minutes for a shop.
    This one reads on as long as there is an answer, and hands each to the request waiting for it."""
    from pagefind.service import PagefindService

    class Service(PagefindService):
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


async def add_entry(indexes, entry: dict) -> int:
    content = " ".join(part for part in (entry.get("text", ""), text_of(entry.get("html", ""))) if part)
    for record in entry["records"]:
        index = await indexes(record["language"])
        await index.add_custom_record(url=record["url"], content=content, language=record["language"],
                                      meta=record.get("meta") or {}, filters=record.get("filters") or {},
                                      sort=record.get("sort") or {})
    return len(entry["records"])


class Indexes:
    """One index per language, each written as a bundle of its own (FOLDER/<language>/): Pagefind keeps one
    record per URL in an index, and a product has one URL in every language."""

    def __init__(self, service):
        self.service = service
        self.made: dict[str, asyncio.Future] = {}

    def __call__(self, lang: str):
        if lang not in self.made:
            self.made[lang] = asyncio.ensure_future(self.service.create_index({"force_language": lang}))
        return self.made[lang]

    async def write(self, folder: str) -> None:
        for lang, made in sorted(self.made.items()):
            target = os.path.join(folder, lang)
            await (await made).write_files(output_path=target)
            for name in UNUSED_FILES:
                try:
                    os.unlink(os.path.join(target, name))
                except FileNotFoundError:
                    pass


async def watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        await asyncio.sleep(PARENT_CHECK)
    os._exit(1)  # the build was killed: nobody waits for this index


async def run(parent: int, reader: asyncio.StreamReader) -> dict:
    watcher = asyncio.create_task(watch_parent(parent))
    service = await service_class()().launch()
    try:
        indexes = Indexes(service)
        adding: list[asyncio.Task] = []
        while True:
            line = await reader.readline()
            if not line:
                raise EOFError("the build stopped sending before the index was complete")
            message = json.loads(line)
            if "entry" in message:
                adding.append(asyncio.create_task(add_entry(indexes, message["entry"])))
                continue
            counts = await asyncio.gather(*adding)
            await indexes.write(message["write"])
            return {"ok": True, "records": sum(counts), "languages": sorted(indexes.made)}
    finally:
        watcher.cancel()
        await service.close()


async def main(parent: int) -> int:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**26)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    try:
        answer = await run(parent, reader)
    except EOFError:
        return 1
    except Exception as error:  # noqa: BLE001 - any failure is the one answer the build reports
        answer = {"error": f"{type(error).__name__}: {error}"}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0 if answer.get("ok") else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]))))
