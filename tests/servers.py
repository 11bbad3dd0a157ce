"""Real servers on 127.0.0.1 for the tests: a free port, a folder served over HTTP, an Isso of its own."""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from comments import server as isso_server
from comments.server import free_port  # noqa: F401  (the tests' one free port)


class QuietHandler(SimpleHTTPRequestHandler):
    """Serves a folder without a log line per request."""

    def log_message(self, *args):
        pass


@contextmanager
def serving(folder: Path, handler: type[SimpleHTTPRequestHandler] = QuietHandler):
    """Serve folder on 127.0.0.1 until the block ends; yields its origin (http://127.0.0.1:PORT)."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(folder)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def running_isso(folder: Path, site_origin: str, **options):
    """An Isso with its own database in folder, for a site at site_origin; yields (url, log path, process)."""
    port = free_port()
    config = isso_server.write_config(folder, site_origin, port, **options)
    log = folder / "isso.log"
    process = isso_server.start(config, log)
    url = f"http://127.0.0.1:{port}"
    try:
        isso_server.wait_until_ready(url, process)
        yield url, log, process
    finally:
        if process.poll() is None:
            isso_server.stop(process)


CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright never downloads a browser of its own
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--disable-quic"]


@contextmanager
def chromium():
    """Headless Debian Chromium driven by Playwright (executable_path)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def post_in_widget(page, text: str, author: str):
    """Write a comment in Isso's widget on page, as a visitor does; Isso's answer to the post."""
    page.locator("#comments").scroll_into_view_if_needed()
    page.wait_for_selector("textarea.isso-textarea", timeout=15000)
    page.fill("textarea.isso-textarea", text)
    page.fill("input[name=author]", author)
    with page.expect_response(lambda response: "/new?" in response.url) as posted:
        page.click(".isso-postbox input[type=submit]")
    return posted.value
