"""Comments with real parts: Isso on 127.0.0.1, the built site served locally, headless Chromium driving it."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from urllib.parse import urlparse

import pytest
from conftest import parse, post, run_build, write_content

from comments import server as isso_server
from servers import CHROMIUM, chromium, free_port, post_in_widget, running_isso, serving

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")]


@pytest.fixture
def site(tmp_path):
    """The built site's folder, served on 127.0.0.1 for the browser."""
    output = tmp_path / "output"
    output.mkdir()
    with serving(output) as origin:
        yield output, origin


@pytest.fixture
def isso(tmp_path, site):
    with running_isso(tmp_path / "isso", site[1]) as running:
        yield running


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


CONTENT = {"posts/a.md": post(title="Una guida da commentare", slug="guida", body="Un paragrafo della guida.\n\n" * 80)}


def test_visitor_comments_moderator_approves_and_the_comment_is_in_the_static_html(tmp_path, site, isso, browser):
    started = time.monotonic()
    output, origin = site
    isso_url, isso_log, isso_process = isso
    content = tmp_path / "content"
    write_content(content, CONTENT)
    settings = {"COMMENTS_ISSO_URL": isso_url, "COMMENTS_ISSO_BUILD_URL": isso_url, "CACHE_PATH": str(tmp_path / "cache")}
    run_build(content, output, **settings)

    page = browser.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{origin}/blog/guida/")
    assert page.locator("#isso-thread .static-comments").count() == 1  # before the section is in view
    posted = post_in_widget(page, "Ho seguito la guida: la chitarra suona benissimo.", "Lettore di prova")
    assert posted.status == 202  # accepted, waiting for moderation
    assert {urlparse(url).hostname for url in requests} == {"127.0.0.1"}, "no third party, ever"

    # Moderation: the link Isso prints for the new comment, used as a moderator would.
    activate = None
    for _ in range(50):
        found = re.findall(r"Activate comment: (\S+)", isso_log.read_text(encoding="utf-8"))
        if found:
            activate = found[-1]
            break
        time.sleep(0.1)
    assert activate, "Isso printed no moderation link"
    with urllib.request.urlopen(urllib.request.Request(activate, method="POST")) as response:
        assert b"activated" in response.read()

    run_build(content, output, **settings)
    static = parse(output / "blog" / "guida" / "index.html").select_one("#isso-thread")
    assert static["data-isso-id"] == "/blog/guida/"
    comment = static.select_one(".comment")
    assert "Lettore di prova" in comment.select_one(".comment-meta").get_text()
    assert comment.select_one(".comment-text").get_text(strip=True) == "Ho seguito la guida: la chitarra suona benissimo."

    # The live widget takes over from the static copy, with the same comment, but only once Isso has rendered:
    # while its script is held back, the published comment stays on the page.
    held = []
    page.route("**/js/embed.min.js", lambda route: held.append(route))
    page.goto(f"{origin}/blog/guida/")
    with page.expect_request("**/js/embed.min.js"):
        page.locator("#comments").scroll_into_view_if_needed()
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the widget did not ask for Isso's script"
    assert "suona benissimo" in page.locator(".static-comments .comment-text").inner_text()
    assert page.locator(".isso-comment").count() == 0 and page.locator("[data-comments-offline]").is_hidden()
    held[0].continue_()
    live = page.wait_for_selector("#isso-thread .isso-comment[id^=isso-] .isso-text", timeout=15000)
    assert page.locator(".static-comments").count() == 0
    assert "suona benissimo" in live.inner_text()
    assert page.locator("[data-comments-offline]").is_hidden()

    # Isso down: the rebuild keeps the published comment and says why.
    isso_server.stop(isso_process)
    run_build(content, output, allowed=("Isso is unreachable",), **settings)
    kept = parse(output / "blog" / "guida" / "index.html").select_one("#isso-thread .comment-text")
    assert kept and "suona benissimo" in kept.get_text()
    assert any("Isso is unreachable" in message for message in run_build.last_messages)
    print(f"comment e2e took {time.monotonic() - started:.1f} s")


def write_record(tmp_path, build_url: str) -> None:
    """The record of one published comment (id 5) on the guide, as a build reading build_url keeps it."""
    from comments.settings import DEFAULTS, CommentsSettings

    record = CommentsSettings.from_settings({**DEFAULTS, "CACHE_PATH": str(tmp_path / "cache"),
                                             "COMMENTS_ISSO_BUILD_URL": build_url}).record_path
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"format": "vetrina-comments", "version": 1, "threads": {"/blog/guida/": [
        {"id": 5, "author": "Lettrice di Bari", "website": "", "created": "2026-11-20T10:00:00+00:00",
         "html": "<p>Guida chiarissima, grazie.</p>", "replies": []}]}}), encoding="utf-8")


def test_published_comments_stay_when_isso_renders_none_of_them(tmp_path, site, isso, browser):
    """A record kept on an apparent mass loss: Isso answers with an empty thread, the built comments stay."""
    output, origin = site
    isso_url, _, _ = isso
    content = tmp_path / "content"
    write_content(content, CONTENT)
    write_record(tmp_path, isso_url)
    run_build(content, output, allowed=("apparent mass loss",), CACHE_PATH=str(tmp_path / "cache"),
              COMMENTS_ISSO_URL=isso_url, COMMENTS_ISSO_BUILD_URL=isso_url, COMMENTS_MIN_LOSS=1)
    assert parse(output / "blog" / "guida" / "index.html").select_one("#comment-5 .comment-text")

    page = browser.new_page()
    # Isso's permalink (as in its e-mails): before Isso has rendered, it leads to the built comment, which brings
    # the section into view and so loads Isso.
    with page.expect_request("**/js/embed.min.js"):
        page.goto(f"{origin}/blog/guida/#isso-5")
    page.wait_for_function("() => { const box = document.getElementById('comment-5').getBoundingClientRect();"
                           " return box.top >= 0 && box.bottom <= innerHeight; }", timeout=15000)  # scrolls smoothly
    page.wait_for_function("document.querySelector('#isso-thread .isso-thread-heading')"
                           " && document.querySelector('#isso-thread .isso-thread-heading').textContent.trim()",
                           timeout=15000)
    assert page.locator("#isso-root .isso-comment").count() == 0  # Isso has none of them
    comments = page.locator("#isso-thread .static-comments .comment-text")
    assert comments.count() == 1 and comments.first.is_visible()
    assert comments.first.inner_text() == "Guida chiarissima, grazie."
    assert page.locator(".isso-thread-heading").is_hidden()  # no "No comments yet" under a published comment
    assert page.locator("[data-comments-offline]").is_visible()
    assert page.locator("textarea.isso-textarea").is_visible()  # visitors can still write


def test_published_comments_stay_when_the_isso_script_is_missing(tmp_path, site, browser):
    output, origin = site
    content = tmp_path / "content"
    write_content(content, CONTENT)
    down = f"http://127.0.0.1:{free_port()}"
    write_record(tmp_path, down)
    # Visitors reach Isso under the site's own /isso/, which this server answers with 404.
    run_build(content, output, allowed=("Isso is unreachable",), CACHE_PATH=str(tmp_path / "cache"),
              COMMENTS_ISSO_URL=f"{origin}/isso", COMMENTS_ISSO_BUILD_URL=down)

    page = browser.new_page()
    statuses = {}
    page.on("response", lambda response: statuses.__setitem__(urlparse(response.url).path, response.status))
    page.goto(f"{origin}/blog/guida/")
    page.locator("#comments").scroll_into_view_if_needed()
    note = page.wait_for_selector("[data-comments-offline]", state="visible", timeout=15000)
    assert statuses.get("/isso/js/embed.min.js") == 404
    assert "non sono disponibili" in note.inner_text()  # the page is Italian
    comments = page.locator("#isso-thread .static-comments .comment-text")
    assert comments.count() == 1 and comments.first.is_visible()
    assert comments.first.inner_text() == "Guida chiarissima, grazie."
    assert page.locator("#isso-thread .comment-meta").first.inner_text().startswith("Lettrice di Bari")


GISCUS = {"repo": "shop/comments", "repo_id": "R_1", "category": "Comments", "category_id": "DIC_1"}


@pytest.mark.parametrize("provider, settings, third_party", [
    ("giscus", {"COMMENTS_GISCUS": GISCUS}, "giscus.app"),
    ("disqus", {"COMMENTS_DISQUS_SHORTNAME": "cordeelegni"}, "cordeelegni.disqus.com"),
])
def test_third_party_comments_load_nothing_before_consent(tmp_path, site, browser, provider, settings, third_party):
    output, origin = site
    content = tmp_path / "content"
    write_content(content, CONTENT)
    run_build(content, output, COMMENTS_PROVIDER=provider, **settings)
    page = browser.new_page()
    outside = []

    def guard(route):
        # Nothing may leave this machine: record third-party requests, then refuse them.
        if urlparse(route.request.url).hostname != "127.0.0.1":
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    page.goto(f"{origin}/blog/guida/")
    page.locator("#comments").scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    assert outside == [], f"requests before consent: {outside}"
    notice = page.locator(".consent")
    assert provider.capitalize()[:3].lower() in notice.inner_text().lower()
    page.check("[data-consent-remember]")
    with page.expect_request(lambda request: third_party in request.url):
        page.click("[data-consent-show]")
    assert any(third_party in url for url in outside)
    # The choice is remembered in localStorage (no cookie): the next visit loads the provider at once.
    assert page.evaluate(f"localStorage.getItem('vetrina-consent-{provider}')") == "yes"
    assert page.context.cookies() == []
    outside.clear()
    with page.expect_request(lambda request: third_party in request.url):
        page.reload()


def test_demo_pages_make_no_third_party_request(tmp_path, site, isso, browser):
    from conftest import ROOT

    output, origin = site
    isso_url, _, _ = isso
    run_build(ROOT / "content", output, COMMENTS_ISSO_URL=isso_url, COMMENTS_ISSO_BUILD_URL=isso_url,
              CACHE_PATH=str(tmp_path / "cache"))
    page = browser.new_page()
    hosts = set()

    def guard(route):
        hosts.add(urlparse(route.request.url).hostname)
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            route.abort()

    page.route("**/*", guard)
    for path in ("/", "/blog/comprare-chitarra-usata/", "/prodotti/chitarra-elettrica-squier-stratocaster/",
                 "/prodotti/", "/chi-siamo/"):
        page.goto(origin + path)
        page.mouse.wheel(0, 20000)  # scroll to the end: comments and lazy images load
        page.wait_for_timeout(600)
    assert hosts == {"127.0.0.1"}
