"""Security headers: the policy module's rules, the _headers file a build writes, and a real browser that gets
those headers from a local server and must report no Content-Security-Policy violation."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import time
import urllib.request
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from conftest import ROOT, html_pages, parse, post, run_build
from shop_fixtures import catalogue
from test_checkout import TODAY

from comments.settings import CommentsSettings
from core import security
from core.settings import SiteConfigurationError, site_settings
from servers import CHROMIUM, chromium, running_isso, serving

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")


# --- The policy module, fed with settings ------------------------------------------------------------------

def settings_with(siteurl="", comments=None, checkout=None, **extra):
    """A build's validated settings as the plugins leave them: SITE_CONFIG, and the features' configs if on."""
    settings = {"SITEURL": siteurl, **extra}
    settings["SITE_CONFIG"] = site_settings(settings)
    if comments:
        settings["COMMENTS_CONFIG"] = CommentsSettings.from_settings(comments)
    if checkout:
        settings["SHOP_CONFIG"] = SimpleNamespace(checkout=checkout)
    return settings


def csp_of(policy: security.Policy) -> dict[str, list[str]]:
    """The Content-Security-Policy header parsed back into directive -> sources."""
    parsed = {}
    for part in policy.content_security_policy.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


ISSO_DEV = {"COMMENTS_PROVIDER": "isso", "COMMENTS_ISSO_URL": "http://127.0.0.1:8080"}
GISCUS = {"COMMENTS_PROVIDER": "giscus",
          "COMMENTS_GISCUS": {"repo": "a/b", "repo_id": "R", "category": "C", "category_id": "D"}}
DISQUS = {"COMMENTS_PROVIDER": "disqus", "COMMENTS_DISQUS_SHORTNAME": "cordeelegni"}

FEATURE_CASES = [
    # (name, settings of the feature, origin or keyword it brings, directives where it must appear)
    ("isso", {"comments": ISSO_DEV}, "http://127.0.0.1:8080", {"script-src", "connect-src", "style-src"}),
    ("giscus", {"comments": GISCUS}, "https://giscus.app", {"script-src", "style-src", "frame-src"}),
    ("disqus", {"comments": DISQUS}, "https://cordeelegni.disqus.com", {"script-src"}),
    ("snipcart", {"checkout": "snipcart"}, "https://cdn.snipcart.com",
     {"script-src", "style-src", "font-src", "img-src", "connect-src"}),
    ("snipcart payment", {"checkout": "snipcart"}, "https://payment.snipcart.com", {"connect-src", "frame-src"}),
    ("pagefind", {"SEARCH_CONFIG": SimpleNamespace(enabled=True)}, "'wasm-unsafe-eval'", {"script-src"}),
    ("forms", {"FORMS_CONFIG": SimpleNamespace(endpoint="https://moduli.example.it/invia")},
     "https://moduli.example.it", {"form-action", "connect-src"}),
]


@pytest.mark.parametrize("name, feature, source, directives", FEATURE_CASES, ids=[c[0] for c in FEATURE_CASES])
def test_a_feature_s_sources_appear_only_where_and_when_it_is_on(name, feature, source, directives):
    on = csp_of(security.policy(settings_with(**feature)))
    assert {directive for directive, sources in on.items() if source in sources} == directives
    off = security.policy(settings_with()).content_security_policy
    assert source not in off


def test_the_base_policy_is_the_site_s_own_files_only():
    policy = security.policy(settings_with(comments={"COMMENTS_PROVIDER": "none"}, checkout="email"))
    csp = csp_of(policy)
    assert csp["default-src"] == csp["script-src"] == csp["style-src"] == csp["connect-src"] == ["'self'"]
    assert csp["object-src"] == csp["frame-src"] == csp["frame-ancestors"] == ["'none'"]
    assert csp["base-uri"] == csp["form-action"] == ["'self'"]
    assert "upgrade-insecure-requests" not in csp, "development is served over http"
    assert "://" not in policy.content_security_policy
    assert policy.features == ()
    headers = dict(policy.headers())
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in headers
    denied = dict(item.split("=") for item in headers["Permissions-Policy"].split(", "))
    assert {"camera", "microphone", "geolocation", "payment", "usb"} <= set(denied)
    assert set(denied.values()) == {"()"}


@pytest.mark.parametrize("provider, checkout, search", list(itertools.product(
    [ISSO_DEV, GISCUS, DISQUS, {"COMMENTS_PROVIDER": "none"}], ["email", "snipcart", "stripe", "paypal"], [False, True])))
def test_no_combination_of_features_ever_allows_inline_scripts(provider, checkout, search):
    extra = {"SEARCH_CONFIG": SimpleNamespace(enabled=True)} if search else {}
    csp = csp_of(security.policy(settings_with(comments=provider, checkout=checkout, **extra)))
    for directive in security.SCRIPT_DIRECTIVES:
        assert "'unsafe-inline'" not in csp.get(directive, [])
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'self'"]


def test_isso_s_avatar_colours_are_allowed_by_hash_and_no_other_inline_style():
    csp = csp_of(security.policy(settings_with(comments=ISSO_DEV)))
    hashes = csp["style-src-attr"][1:]
    assert csp["style-src-attr"][0] == "'unsafe-hashes'" and len(hashes) == len(security.ISSO_AVATAR_COLOURS)
    # sha256 of the declaration Isso writes for its background square, computed independently.
    background = base64.b64encode(hashlib.sha256(b"fill: #f0f0f0").digest()).decode()
    assert f"'sha256-{background}'" in hashes
    assert all("'unsafe-inline'" not in sources for sources in csp.values())
    assert "style-src-attr" not in csp_of(security.policy(settings_with(comments=GISCUS)))


def test_a_feature_asking_for_inline_scripts_stops_the_policy(monkeypatch):
    def careless(settings):
        return security.Needs("careless widget", {"script-src": ("'unsafe-inline'",)})

    monkeypatch.setattr(security, "FEATURES", (*security.FEATURES, careless))
    with pytest.raises(security.SecurityPolicyError, match="careless widget: script-src: 'unsafe-inline' is never"):
        security.policy(settings_with())


def test_production_folds_isso_on_the_shop_s_domain_into_self_and_upgrades_requests():
    isso = {"COMMENTS_PROVIDER": "isso", "COMMENTS_ISSO_URL": "https://www.negozio.example/isso"}
    policy = security.policy(settings_with("https://www.negozio.example", comments=isso))
    csp = csp_of(policy)
    assert csp["script-src"] == csp["connect-src"] == csp["style-src"] == ["'self'"]
    assert "upgrade-insecure-requests" in csp
    assert dict(policy.headers())["Strict-Transport-Security"] == "max-age=31536000"
    # Isso on its own host in production is named, and only there.
    other = csp_of(security.policy(settings_with("https://www.negozio.example", comments={
        "COMMENTS_PROVIDER": "isso", "COMMENTS_ISSO_URL": "https://commenti.negozio.example"})))
    assert other["script-src"] == ["'self'", "https://commenti.negozio.example"]
    # A production-like build served over plain http (a local preview) is not upgraded.
    local = security.policy(settings_with("http://127.0.0.1:8765", comments=ISSO_DEV))
    assert "upgrade-insecure-requests" not in local.content_security_policy
    assert "Strict-Transport-Security" not in dict(local.headers())


def test_payment_is_allowed_only_to_snipcart_s_frame_when_snipcart_is_the_checkout():
    for checkout in ("email", "stripe", "paypal"):
        assert "payment=()" in security.policy(settings_with(checkout=checkout)).permissions_policy
    policy = security.policy(settings_with(checkout="snipcart"))
    assert 'payment=(self "https://payment.snipcart.com")' in policy.permissions_policy
    assert "camera=()" in policy.permissions_policy


def test_site_csp_extra_adds_sources_and_replaces_none():
    policy = security.policy(settings_with(SITE_CSP_EXTRA={"frame-src": ["https://www.youtube-nocookie.com"],
                                                           "img-src": "https://foto.example.it"}))
    csp = csp_of(policy)
    assert csp["frame-src"] == ["https://www.youtube-nocookie.com"]
    assert csp["img-src"] == ["'self'", "https://foto.example.it"]
    self_framed = csp_of(security.policy(settings_with(SITE_CSP_EXTRA={"frame-ancestors": ["'self'"]})))
    assert self_framed["frame-ancestors"] == ["'self'"]


@pytest.mark.parametrize("settings, message", [
    ({"SITE_CSP_EXTRA": {"script-src": ["'unsafe-inline'"]}}, "SITE_CSP_EXTRA['script-src']: 'unsafe-inline' is never"),
    ({"SITE_CSP_EXTRA": {"scripts": ["https://a.example"]}}, "unknown directive 'scripts'"),
    ({"SITE_CSP_EXTRA": {"img-src": ["https://a.example; script-src *"]}}, "is not a single source"),
    ({"SITE_CSP_EXTRA": {"img-src": ["'unsafe'"]}}, "is not a CSP keyword"),
    ({"SITE_CACHE_CONTROL": {"theme/*": "public"}}, "SITE_CACHE_CONTROL must map a path pattern"),
    ({"SITE_HSTS_MAX_AGE": -1}, "SITE_HSTS_MAX_AGE must be a whole number"),
    ({"SITE_INTEGRITY": {"https://cdn.example/x.js": "md5-abc"}}, "SITE_INTEGRITY['https://cdn.example/x.js']"),
    ({"SITE_INTEGRITY": {"http://cdn.example/x.js": "sha384-" + "A" * 64}}, "map an https URL to its hash"),
])
def test_wrong_security_settings_stop_the_build_with_the_setting_named(settings, message):
    with pytest.raises(SiteConfigurationError, match=re.escape(message)):
        settings_with(**settings)


RULES = [("/*", [("Content-Security-Policy", "default-src 'self'"),
                 ("Permissions-Policy", 'payment=(self "https://payment.snipcart.com")')]),
         ("/theme/*", [("Cache-Control", "public, max-age=86400")])]


def test_headers_file_round_trip_and_malformed_lines():
    text = security.headers_file(RULES)
    assert text.splitlines()[1:4] == ["/*", "  Content-Security-Policy: default-src 'self'",
                                      '  Permissions-Policy: payment=(self "https://payment.snipcart.com")']
    assert security.parse_headers_file(text) == RULES
    with pytest.raises(security.SecurityPolicyError, match="line 1"):
        security.parse_headers_file("  Cache-Control: no-store\n")


def test_nginx_repeats_every_header_in_each_location_and_hides_the_headers_file():
    config = security.nginx_config(RULES)
    lines = [line.strip() for line in config.splitlines()]
    assert "add_header Content-Security-Policy \"default-src 'self'\" always;" in lines
    assert 'add_header Permissions-Policy "payment=(self \\"https://payment.snipcart.com\\")" always;' in lines
    start = lines.index("location ^~ /theme/ {")
    block = lines[start + 1:lines.index("}", start)]
    assert [line.split()[1] for line in block] == ["Content-Security-Policy", "Permissions-Policy", "Cache-Control"]
    assert all(line.endswith(" always;") for line in lines if line.startswith("add_header"))
    assert "location = /_headers { return 404; }" in lines


def test_apache_sets_the_headers_always_and_the_cache_by_location():
    config = security.apache_config(RULES)
    lines = [line.strip() for line in config.splitlines()]
    assert "Header always set Content-Security-Policy \"default-src 'self'\"" in lines
    start = lines.index('<LocationMatch "^/theme/">')
    assert lines[start + 1] == 'Header always set Cache-Control "public, max-age=86400"'
    assert '<Files "_headers">' in lines


def test_server_config_converts_a_built_headers_file_and_names_the_servers_it_knows():
    text = security.headers_file(RULES)
    assert security.server_config(text, "nginx") == security.nginx_config(RULES)
    assert security.server_config(text, "apache") == security.apache_config(RULES)
    with pytest.raises(security.SecurityPolicyError, match="unknown server 'caddy': use one of nginx, apache"):
        security.server_config(text, "caddy")


# --- What builds write ---------------------------------------------------------------------------------------

def read_rules(output: Path) -> list[tuple[str, dict[str, str]]]:
    """The rules of a built _headers, read as Netlify documents the format (not with the module's parser)."""
    rules = []
    for line in (output / "_headers").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0] in " \t":
            name, _, value = line.strip().partition(":")
            rules[-1][1][name.strip()] = value.strip()
        else:
            rules.append((line.strip(), {}))
    return rules


def headers_for(rules, path: str) -> dict[str, str]:
    applied = {}
    for pattern, headers in rules:
        if path == pattern or (pattern.endswith("*") and path.startswith(pattern[:-1])):
            applied.update(headers)
    return applied


def csp_header(output: Path, path: str = "/") -> dict[str, list[str]]:
    value = headers_for(read_rules(output), path)["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in value.split(";"))}


def test_the_demo_s_development_and_production_builds_each_get_their_own_policy(demo_output, demo_production):
    dev = csp_header(demo_output)
    assert "http://127.0.0.1:8080" in dev["script-src"] and "http://127.0.0.1:8080" in dev["connect-src"]
    assert "upgrade-insecure-requests" not in dev
    prod = csp_header(demo_production)
    assert prod["script-src"] == ["'self'"], "Isso is on the shop's own domain in production"
    assert "upgrade-insecure-requests" in prod
    assert "Strict-Transport-Security" in headers_for(read_rules(demo_production), "/")
    assert headers_for(read_rules(demo_production), "/theme/css/main.css")["Cache-Control"].startswith("public")
    assert "Cache-Control" not in headers_for(read_rules(demo_production), "/blog/"), "HTML is never cached long"


def test_no_page_of_the_demo_has_inline_script_or_style(demo_output):
    pages = html_pages(demo_output)
    assert len(pages) > 30
    for path in pages:
        soup = parse(path)
        for script in soup.find_all("script"):
            assert script.get("src") or script.get("type") == "application/ld+json", path
        assert soup.find("style") is None, path
        handlers = [(tag.name, name) for tag in soup.find_all(True) for name in tag.attrs
                    if name.startswith("on") or name == "style"]
        assert handlers == [], path
        links = [a["href"] for a in soup.find_all(href=True) if a["href"].startswith("javascript:")]
        assert links == [], path


def test_the_off_switch_writes_no_headers_file(build_site):
    output = build_site({"posts/a.md": post()}, SITE_HEADERS=False)
    assert (output / "blog" / "una-prova" / "index.html").is_file()
    assert not (output / "_headers").exists()


# --- In a browser ------------------------------------------------------------------------------------------

class HeadersHandler(SimpleHTTPRequestHandler):
    """Serves the built folder with the headers its _headers file gives each path, as a static host would."""

    def end_headers(self):
        rules_file = Path(self.directory) / "_headers"
        if rules_file.is_file():
            for name, value in headers_for(read_rules(Path(self.directory)), urlsplit(self.path).path).items():
                self.send_header(name, value)
        super().end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def site(tmp_path):
    output = tmp_path / "output"
    output.mkdir()
    with serving(output, HeadersHandler) as origin:
        yield output, origin


@pytest.fixture
def isso(tmp_path, site):
    with running_isso(tmp_path / "isso", site[1]) as (url, log, _):
        yield url, log


@pytest.fixture
def browser():
    with chromium() as launched:
        yield launched


# Records every violation the page reports, before any of the page's own scripts run.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI + " " + (event.sample || ""));
});
"""


def watched_page(context, console: list):
    page = context.new_page()
    page.add_init_script(WATCH_VIOLATIONS)
    page.on("console", lambda message: console.append(message.text))
    return page


def policy_messages(console: list) -> list[str]:
    return [text for text in console if "Content Security Policy" in text or "Permissions-Policy" in text
            or "Content-Security-Policy" in text]


def activate_latest_comment(log: Path) -> None:
    """Approve the newest comment with the link Isso prints, as a moderator would."""
    for _ in range(50):
        found = re.findall(r"Activate comment: (\S+)", log.read_text(encoding="utf-8"))
        if found:
            with urllib.request.urlopen(urllib.request.Request(found[-1], method="POST")) as response:
                assert b"activated" in response.read()
            return
        time.sleep(0.1)
    raise AssertionError("Isso printed no moderation link")


@pytest.mark.slow
@needs_chromium
def test_demo_pages_under_their_own_headers_report_no_violation(tmp_path, site, isso, browser):
    output, origin = site
    isso_url, isso_log = isso
    # Production settings, served from this machine: the shop's address is the local server, Isso is elsewhere.
    run_build(ROOT / "content", output, "publishconf.py", SITEURL=origin, COMMENTS_ISSO_URL=isso_url,
              COMMENTS_ISSO_BUILD_URL=isso_url, CACHE_PATH=str(tmp_path / "cache"))
    expected = headers_for(read_rules(output), "/")
    assert isso_url in expected["Content-Security-Policy"]

    context = browser.new_context()
    console: list[str] = []
    page = watched_page(context, console)
    post_path = "/blog/comprare-chitarra-usata/"
    for path in ("/", "/prodotti/", "/prodotti/chitarra-elettrica-squier-stratocaster/", post_path, "/chi-siamo/"):
        response = page.goto(origin + path)
        assert response.status == 200
        assert response.headers["content-security-policy"] == expected["Content-Security-Policy"], path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
        page.mouse.wheel(0, 20000)  # lazy images load
        if page.locator("#comments").count():
            page.locator("#comments").scroll_into_view_if_needed()  # the comment widget loads
            page.wait_for_selector("textarea.isso-textarea", timeout=15000)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], path
    stylesheet = context.request.get(origin + "/theme/css/main.css")
    assert stylesheet.headers["cache-control"] == "public, max-age=86400"

    # A comment written under the policy, approved, then shown by the widget with its avatar.
    page.goto(origin + post_path)
    page.locator("#comments").scroll_into_view_if_needed()
    page.wait_for_selector("textarea.isso-textarea", timeout=15000)
    page.fill("textarea.isso-textarea", "Letto tutto: utile anche per chi compra il primo strumento.")
    page.fill("input[name=author]", "Lettrice di prova")
    with page.expect_response(lambda response: "/new?" in response.url) as posted:
        page.click(".isso-postbox input[type=submit]")
    assert posted.value.status == 202
    activate_latest_comment(isso_log)
    page.reload()
    page.locator("#comments").scroll_into_view_if_needed()
    page.wait_for_selector("#isso-thread .isso-comment .isso-avatar svg rect", timeout=15000)
    page.wait_for_load_state("networkidle")
    fills = page.eval_on_selector_all(".isso-avatar svg rect", "rects => rects.map(r => getComputedStyle(r).fill)")
    assert "rgb(240, 240, 240)" in fills and "rgb(0, 0, 0)" not in fills, "the avatar's colours are allowed by hash"
    assert page.evaluate("window.__violations") == []
    assert policy_messages(console) == []

    # The watch itself works: an injected inline script is refused and reported.
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                             document.head.appendChild(s); }""")
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__ran") is None
    assert page.evaluate("window.__violations")[0].startswith("script-src")
    context.close()


FAKE_SNIPCART = b"window.Snipcart = {ready: true}; document.dispatchEvent(new Event('snipcart.ready'));"


@pytest.mark.slow
@needs_chromium
def test_snipcart_loads_under_the_policy_only_when_its_pinned_hash_matches(tmp_path, site, browser):
    output, origin = site
    version = "3.7.1"
    script_url = f"https://cdn.snipcart.com/themes/v{version}/default/snipcart.js"
    digest = "sha384-" + base64.b64encode(hashlib.sha384(FAKE_SNIPCART).digest()).decode()
    content = tmp_path / "content"
    from conftest import write_content

    write_content(content, catalogue())
    run_build(content, output, SHOP_TODAY=TODAY, SHOP_CHECKOUT="snipcart", SHOP_SNIPCART_API_KEY="pk_test",
              SHOP_SNIPCART_VERSION=version, COMMENTS_PROVIDER="none", SITE_INTEGRITY={script_url: digest},
              CACHE_PATH=str(tmp_path / "cache"))
    config = parse(output / "prodotti" / "ebook" / "index.html").find(id="snipcart")
    assert config["data-vetrina-js"] == script_url and config["data-vetrina-js-integrity"] == digest

    def visit(body: bytes):
        context = browser.new_context()
        console: list[str] = []
        page = watched_page(context, console)
        served = []

        def cdn(route):
            # Nothing leaves the machine: the CDN answers from here, with the CORS header SRI needs.
            served.append(route.request.url)
            kind = "text/css" if route.request.url.endswith(".css") else "text/javascript"
            route.fulfill(status=200, body=body if kind == "text/javascript" else b".snipcart{}",
                          headers={"Content-Type": kind, "Access-Control-Allow-Origin": "*"})

        page.route("https://cdn.snipcart.com/**", cdn)
        page.goto(origin + "/prodotti/ebook/")
        assert served == [], "nothing from Snipcart before the first click"
        page.click("button.snipcart-add-item")
        return context, page, console, served

    context, page, console, served = visit(FAKE_SNIPCART)
    page.wait_for_function("window.Snipcart && window.Snipcart.ready === true")
    assert script_url in served
    assert page.evaluate("window.__violations") == [] and policy_messages(console) == []
    context.close()

    # The CDN serves something else: the browser refuses to run it and the order e-mail link takes over.
    context, page, console, served = visit(FAKE_SNIPCART.replace(b"ready: true", b"ready: 'altered'"))
    page.wait_for_selector("button.snipcart-add-item + a[href^='mailto:']", timeout=10000)
    assert page.evaluate("window.Snipcart") is None
    assert any("integrity" in text for text in console)
    assert page.evaluate("window.__violations") == []
    context.close()
