"""Redirects from an old site's addresses: the rules, the build's _redirects and HTML pages, the nginx map."""

from __future__ import annotations

import http.server
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import BuildFailed, parse, post, run_build, write_content

from importers import redirects

RULES = """# the old site
/2019/05/ciao-mondo/ /blog/ciao/
/?p=12 /blog/ciao/
/category/news/ /blog/categoria/notizie/
/%ce%ba%ce%b1/ /blog/ciao/
"""


def test_rules_are_read_with_their_file_and_line():
    rules, errors = redirects.parse(RULES + "not a rule\n", "redirects/wordpress.txt")
    assert [(rule.old, rule.line) for rule in rules][:2] == [("/2019/05/ciao-mondo/", 2), ("/?p=12", 3)]
    assert [str(error) for error in errors] == [
        "redirects/wordpress.txt:6: redirect 'not a rule': write the old path and the new address, like "
        "/2020/05/ciao/ /blog/ciao/"]


def test_netlify_lines_put_paths_first_and_match_queries_by_parameter():
    rules, _ = redirects.parse(RULES, "r.txt")
    lines = redirects.redirects_file(rules).splitlines()
    assert lines[-1] == "/ p=12 /blog/ciao/ 301"
    assert "/2019/05/ciao-mondo/ /blog/ciao/ 301" in lines[:-1]


def test_the_nginx_map_matches_paths_decoded_and_queries_as_sent():
    rules, _ = redirects.parse(RULES, "r.txt")
    text = redirects.nginx_map(rules)
    assert '"/κα/" "/blog/ciao/";' in text and rules[3].old == "/%CE%BA%CE%B1/" and '"/?p=12" "/blog/ciao/";' in text
    assert "map $uri $vetrina_redirect_path {" in text and "map $request_uri $vetrina_redirect_query {" in text


def test_cloudflare_limits_are_said():
    many = [redirects.Rule(f"/old/{n}/", "/", "r.txt", n) for n in range(2001)]
    notices = redirects.cloudflare_notices(many + [redirects.Rule("/?p=1", "/", "r.txt", 1)])
    assert any("over Cloudflare Pages' limit of 2000" in line for line in notices)
    assert any("1 rules match a query" in line for line in notices)


def test_a_second_line_for_the_same_old_address_is_a_problem(tmp_path):
    folder = tmp_path / "redirects"
    folder.mkdir()
    (folder / "a.txt").write_text("/old/ /blog/one/\n", encoding="utf-8")
    (folder / "b.txt").write_text("/old/ /blog/two/\n", encoding="utf-8")
    rules, errors = redirects.read_folder(folder, tmp_path)
    assert len(rules) == 1 and "redirects/b.txt:1: redirect from /old/: redirects/a.txt:1 already" in str(errors[0])


# --- In a build -------------------------------------------------------------------------------------------

def shop(tmp_path: Path, rules: str) -> Path:
    content = tmp_path / "content"
    write_content(content, {"posts/ciao.md": post(title="Ciao", slug="ciao"),
                            "pages/chi-siamo.md": "Title: Chi siamo\nSlug: chi-siamo\nSummary: Noi.\n\nNoi.\n"})
    (tmp_path / "redirects").mkdir()
    (tmp_path / "redirects" / "wordpress.txt").write_text(rules, encoding="utf-8")
    return content


def test_the_build_writes_redirects_and_a_page_at_each_old_path(tmp_path):
    rules = "/2019/05/ciao-mondo/ /blog/ciao/\n/?p=12 /blog/ciao/\n/%ce%ba%ce%b1/ /chi-siamo/\n/vecchia.html /blog/ciao/\n"
    output = run_build(shop(tmp_path, rules), tmp_path / "output", "publishconf.py", allowed=("Redirects:",))
    lines = (output / "_redirects").read_text(encoding="utf-8").splitlines()
    assert "/2019/05/ciao-mondo/ /blog/ciao/ 301" in lines and "/ p=12 /blog/ciao/ 301" in lines
    page = parse(output / "2019" / "05" / "ciao-mondo" / "index.html")
    refresh = page.find("meta", attrs={"http-equiv": "refresh"})["content"]
    assert refresh.endswith("url=https://www.cordeelegni.example/blog/ciao/")
    assert page.find("link", rel="canonical")["href"] == "https://www.cordeelegni.example/blog/ciao/"
    assert page.html["lang"] == "it" and page.h1.get_text() == "Questa pagina si è spostata"
    assert (output / "κα" / "index.html").is_file() and (output / "vecchia.html").is_file()
    assert not (output / "index.html").read_text(encoding="utf-8").count("http-equiv")  # ?p=12: no page
    sitemap = (output / "sitemap.xml").read_text(encoding="utf-8")
    assert "ciao-mondo" not in sitemap


@pytest.mark.parametrize("rules, says", [
    ("/old/ /blog/nessuno/\n", "redirects/wordpress.txt:1: redirect from /old/ to /blog/nessuno/: the build wrote no page"),
    ("/chi-siamo/ /blog/ciao/\n", "redirects/wordpress.txt:1: redirect from /chi-siamo/: a page of the new site"),
])
def test_a_redirect_to_nowhere_or_over_a_page_fails_the_build(tmp_path, rules, says):
    with pytest.raises(BuildFailed) as failed:
        run_build(shop(tmp_path, rules), tmp_path / "output")
    assert any(says in message for message in failed.value.messages), failed.value.messages


class RedirectingHandler(http.server.SimpleHTTPRequestHandler):
    """A static host that applies _redirects as Netlify does: a path rule, or a path with a query parameter."""

    rules: dict = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        parts = urlsplit(redirects.canonical(self.path))
        target = self.rules.get((parts.path, parts.query)) or self.rules.get((parts.path, ""))
        if target:
            self.send_response(301)
            self.send_header("Location", target)
            self.end_headers()
            return
        super().do_GET()


def load_rules(output: Path) -> dict:
    rules = {}
    for line in (output / "_redirects").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        query = parts[1] if len(parts) == 4 else ""
        rules[(parts[0], query)] = parts[-2]
    return rules


def follow(base: str, old: str) -> tuple[int, str]:
    """The status and path of the page an old address ends at (301s followed by urllib)."""
    with urllib.request.urlopen(base + old) as answer:
        return answer.status, unquote(urlsplit(answer.geturl()).path)


def test_every_old_address_reaches_a_page_through_a_server_that_applies_redirects(tmp_path):
    rules = "/2019/05/ciao-mondo/ /blog/ciao/\n/?p=12 /blog/ciao/\n/%ce%ba%ce%b1/ /chi-siamo/\n"
    output = run_build(shop(tmp_path, rules), tmp_path / "output", allowed=("Redirects:",))
    handler = type("Handler", (RedirectingHandler,), {"rules": load_rules(output)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(output)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert follow(base, "/2019/05/ciao-mondo/") == (200, "/blog/ciao/")
        assert follow(base, "/?p=12") == (200, "/blog/ciao/")
        assert follow(base, "/%CE%BA%CE%B1/") == (200, "/chi-siamo/")
        assert follow(base, "/%ce%ba%ce%b1/") == (200, "/chi-siamo/")
        with pytest.raises(urllib.error.HTTPError):
            follow(base, "/2019/05/un-altro/")
    finally:
        server.shutdown()
        server.server_close()
