"""Comments fetched in bulk: Isso's counts first, then one thread request per page that has comments."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import parse, post

from comments import isso
from comments.server import post_comment
from servers import running_isso

PAGES = 20


def pages() -> dict:
    """Twenty posts; their Isso threads are /blog/post-N/."""
    return {f"posts/p{n}.md": post(title=f"Prova numero {n}", slug=f"post-{n}", date=f"2026-03-{n + 1:02d} 10:00")
            for n in range(PAGES)}


def uri(n: int) -> str:
    return f"/blog/post-{n}/"


class CountingProxy(BaseHTTPRequestHandler):
    """Forwards every request to Isso and notes its method and path: what Isso received, one entry a request."""

    upstream = ""
    received: list

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        self.received.append((self.command, self.path))
        headers = {name: value for name, value in self.headers.items() if name.lower() in ("content-type", "accept")}
        request = urllib.request.Request(self.upstream + self.path, data=body, method=self.command, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, payload, kind = response.status, response.read(), response.headers.get("Content-Type")
        except urllib.error.HTTPError as error:
            status, payload, kind = error.code, error.read(), error.headers.get("Content-Type")
        self.send_response(status)
        self.send_header("Content-Type", kind or "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = forward

    def log_message(self, *args):
        pass


@contextmanager
def serving(handler):
    """A threading HTTP server on 127.0.0.1 with this handler; yields its URL, and stops it after."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@contextmanager
def counting(upstream: str):
    """A proxy on 127.0.0.1 in front of upstream; yields (its URL, the list of requests it passed on)."""
    received: list = []
    with serving(type("Proxy", (CountingProxy,), {"upstream": upstream, "received": received})) as url:
        yield url, received


def add_comment(isso_url: str, thread: str, author: str, text: str, parent: int | None = None) -> int:
    return post_comment(isso_url, thread, author, text, parent).comment["id"]


@pytest.fixture
def isso_url(tmp_path):
    with running_isso(tmp_path / "isso", "http://127.0.0.1:8000", moderated=False, guarded=False) as (url, _, _):
        yield url


def comment_texts(output, thread: str) -> list[str]:
    section = parse(output / thread.strip("/") / "index.html").select_one("#isso-thread")
    return [c.get_text(strip=True) for c in section.select(".comment-text")]


def test_twenty_pages_with_comments_on_two_cost_one_count_and_two_threads(build_site, tmp_path, isso_url):
    first = add_comment(isso_url, uri(3), "Cliente di Modena", "Utile, grazie.")
    add_comment(isso_url, uri(3), "Corde & Legni", "Grazie a te!", parent=first)
    add_comment(isso_url, uri(11), "Lettrice di Bari", "Ottima guida.")
    with counting(isso_url) as (proxy, received):
        output = build_site(pages(), CACHE_PATH=str(tmp_path / "cache"), COMMENTS_ISSO_URL=proxy,
                            COMMENTS_ISSO_BUILD_URL=proxy)
    assert [method for method, _ in received].count("POST") == 1 and received[0] == ("POST", "/count")
    threads = sorted(path for method, path in received if method == "GET")
    assert len(received) == 3 and threads == sorted(
        f"/?{urllib.parse.urlencode({'uri': uri(n), 'nested_limit': 50})}" for n in (3, 11))
    assert comment_texts(output, uri(3)) == ["Utile, grazie.", "Grazie a te!"]
    assert comment_texts(output, uri(11)) == ["Ottima guida."]
    assert all(comment_texts(output, uri(n)) == [] for n in range(PAGES) if n not in (3, 11))
    # Every page is in the published record, the eighteen without comments as fetched-empty threads.
    published = json.loads((output / "comments.json").read_text(encoding="utf-8"))["threads"]
    assert sorted(published) == sorted(uri(n) for n in range(PAGES))
    assert {key: len(value) for key, value in published.items() if value} == {uri(3): 1, uri(11): 1}


@pytest.mark.parametrize("min_loss, kept, warned", [
    (10, [], "taken as moderation"),  # one comment of a small site gone: moderation, removed
    (1, ["Chiaro e completo."], "apparent mass loss"),  # every thread empty once the record had enough: kept
])
def test_a_thread_emptied_in_isso_counts_as_fetched_empty_for_the_loss_rule(build_site, tmp_path, isso_url,
                                                                             min_loss, kept, warned):
    """Isso counts no comment anywhere: no thread is requested, and the loss rule still sees every page empty."""
    add_comment(isso_url, uri(5), "Cliente di Torino", "Chiaro e completo.")
    with counting(isso_url) as (proxy, received):
        settings = {"CACHE_PATH": str(tmp_path / "cache"), "COMMENTS_ISSO_URL": proxy,
                    "COMMENTS_ISSO_BUILD_URL": proxy, "COMMENTS_MIN_LOSS": min_loss}
        output = build_site(pages(), **settings)
        assert comment_texts(output, uri(5)) == ["Chiaro e completo."]
        _drop_all_comments(tmp_path / "isso" / "comments.db")
        received.clear()
        output = build_site(pages(), allowed=(warned, "no longer in Isso"), **settings)
    assert received == [("POST", "/count")]  # every count 0: no thread asked for
    assert comment_texts(output, uri(5)) == kept
    published = json.loads((output / "comments.json").read_text(encoding="utf-8"))["threads"]
    assert [c["html"] for c in published[uri(5)]] == [f"<p>{text}</p>" for text in kept]
    assert len(published) == PAGES


def _drop_all_comments(database) -> None:
    """What a moderator's deletion leaves in Isso's database: the thread, without comments."""
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM comments")


def test_a_pending_comment_is_neither_counted_nor_fetched(tmp_path):
    with running_isso(tmp_path / "moderated", "http://127.0.0.1:8000", moderated=True, guarded=False) as (url, _, _):
        request = urllib.request.Request(f"{url}/new?uri={uri(1)}", method="POST",
                                         data=json.dumps({"text": "In attesa", "title": "t"}).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request) as response:
            assert response.status == 202  # waiting for moderation
        with counting(url) as (proxy, received):
            assert isso.fetch_all(proxy, [uri(1)], 5) == {uri(1): []}
        assert received == [("POST", "/count")]


@pytest.mark.parametrize("answer", [b"{}", b"[1]", b"[1, true]", b"not json"])
def test_a_count_answer_that_does_not_fit_is_treated_as_isso_unreachable(answer):
    class Wrong(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    with serving(Wrong) as url:
        with pytest.raises(isso.IssoUnreachable, match="/count"):
            isso.counts(url, [uri(1), uri(2)], 5)


def test_count_requests_stay_under_isso_s_body_limit_in_order():
    uris = [f"/blog/{'è' * (n % 7)}articolo-{n}/" for n in range(3000)]
    batches = isso.count_batches(uris, limit=4096)
    assert [u for batch in batches for u in batch] == uris
    assert all(len(isso.count_body(batch)) <= 4096 for batch in batches) and len(batches) > 10
    assert isso.count_batches(["/" + "x" * 5000 + "/"], limit=100) == [["/" + "x" * 5000 + "/"]]
    assert isso.count_batches([]) == []
    assert len(isso.count_batches(uris)) == 2  # the default: a few requests for thousands of pages


class SlowThreads(BaseHTTPRequestHandler):
    """Counts every page as commented; each thread answers after a pause with its own comment, the failing one
    with HTTP 500. Notes the threads asked for."""

    failing = ""
    asked: list

    def do_POST(self):
        uris = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.answer(200, [1] * len(uris))

    def do_GET(self):
        import time
        import urllib.parse

        thread = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)["uri"][0]
        self.asked.append(thread)
        time.sleep(0.05)
        if thread == self.failing:
            self.answer(500, {})
            return
        self.answer(200, {"replies": [{"id": len(thread), "author": "Ada", "text": f"<p>Su {thread}</p>",
                                       "created": 1767225600.0, "mode": 1, "replies": []}]})

    def answer(self, status, data):
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@contextmanager
def slow_threads(failing: str = ""):
    asked: list = []
    with serving(type("Slow", (SlowThreads,), {"failing": failing, "asked": asked})) as url:
        yield url, asked


def test_threads_fetched_a_few_at_a_time_are_each_page_s_own_in_order():
    uris = [uri(n) for n in range(12)]
    with slow_threads() as (url, asked):
        fetched = isso.fetch_all(url, uris, 5)
        one_by_one = {u: isso.fetch(url, u, 5) for u in uris}
    assert list(fetched) == uris
    assert fetched == one_by_one
    assert [c.html for u in uris for c in fetched[u]] == [f"<p>Su {u}</p>" for u in uris]
    assert sorted(asked[:12]) == sorted(uris)  # each thread asked once by the bulk fetch


def test_a_thread_that_fails_stops_the_fetch_without_asking_for_the_rest():
    uris = [uri(n) for n in range(40)]
    with slow_threads(failing=uri(2)) as (url, asked):
        with pytest.raises(isso.IssoUnreachable, match="HTTP 500"):
            isso.fetch_all(url, uris, 5)
    assert uri(2) in asked
    assert len(asked) <= 2 * isso.FETCHES_AT_ONCE + 1  # those in flight when it failed, not the forty
