"""Security headers: the policy module's rules, the _headers file a build writes, and a real browser that gets
those headers from a local server and must report no Content-Security-Policy violation."""

from __future__ import annotations

import base64
import configparser
import hashlib
import http.client
import itertools
import json
import re
import time
import urllib.request
import xml.etree.ElementTree as etree
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import markdown
import pytest
from bs4 import BeautifulSoup
from conftest import ROOT, html_pages, parse, post, run_build, write_content
from pelican.settings import read_settings
from shop_fixtures import PNG, catalogue, product_file
from test_checkout import TODAY

from comments import server as isso_server
from comments.settings import CommentsSettings
from core import markdown_align, security
from core.settings import SiteConfigurationError, site_settings
from servers import CHROMIUM, chromium, free_port, post_in_widget, running_isso, serving

ROOT_MARKDOWN = read_settings(str(ROOT / "pelicanconf.py"))["MARKDOWN"]
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


# --- Isso's own pages under the shop's address -----------------------------------------------------------------

SHOP = "https://www.negozio.example"
ISSO_PROXIED = {"COMMENTS_PROVIDER": "isso", "COMMENTS_ISSO_URL": SHOP + "/isso"}


def parsed_csp(value: str) -> dict[str, list[str]]:
    return {name: sources for name, *sources in (part.split() for part in value.split(";"))}


def test_isso_proxied_under_the_shop_gets_a_policy_of_its_own_at_its_path_only():
    policy = security.policy(settings_with(SHOP, comments=ISSO_PROXIED))
    rules = dict(policy.rules())
    assert list(rules) == ["/*", "/isso/*", "/theme/*", "/images/*"]
    # Only the policy differs there: the other headers of every path still apply.
    assert [name for name, _ in rules["/isso/*"]] == ["Content-Security-Policy"]
    isso = parsed_csp(rules["/isso/*"][0][1])
    # Isso's moderation page and admin run inline scripts and handlers that no hash can name.
    assert isso["script-src"] == ["'self'", "'unsafe-inline'"]
    assert isso["default-src"] == ["'none'"] and isso["frame-ancestors"] == ["'none'"]
    assert isso["form-action"] == isso["connect-src"] == isso["style-src"] == isso["img-src"] == ["'self'"]
    assert "upgrade-insecure-requests" in isso
    assert all("://" not in source for sources in isso.values() for source in sources)
    site = parsed_csp(dict(rules["/*"])["Content-Security-Policy"])
    assert all("'unsafe-inline'" not in site.get(directive, []) for directive in security.SCRIPT_DIRECTIVES)


@pytest.mark.parametrize("siteurl, comments", [
    ("", ISSO_DEV),
    (SHOP, {"COMMENTS_PROVIDER": "isso", "COMMENTS_ISSO_URL": "https://commenti.negozio.example"}),
    (SHOP, GISCUS),
    (SHOP, {"COMMENTS_PROVIDER": "none"}),
], ids=["development", "isso on its own host", "giscus", "no comments"])
def test_no_other_path_gets_a_policy_of_its_own(siteurl, comments):
    rules = security.policy(settings_with(siteurl, comments=comments)).rules()
    assert [pattern for pattern, headers in rules if "Content-Security-Policy" in dict(headers)] == ["/*"]


def isso_rules():
    return security.policy(settings_with(SHOP, comments=ISSO_PROXIED)).rules()


def block(lines: list[str], opening: str, closing: str) -> list[str]:
    start = lines.index(opening)
    return lines[start + 1:lines.index(closing, start)]


def test_nginx_gives_isso_s_location_every_header_with_isso_s_policy():
    rules = isso_rules()
    lines = [line.strip() for line in security.nginx_config(rules).splitlines()]
    isso = block(lines, "location ^~ /isso/ {", "}")
    assert isso[0].startswith("# Isso's proxy_pass"), "nginx allows one block per path: the proxy lines go here"
    headers = {line.split()[1]: line for line in isso[1:]}
    assert list(headers) == [name for name, _ in rules[0][1]]
    assert dict(rules[1][1])["Content-Security-Policy"] in headers["Content-Security-Policy"]
    server_csp = next(line for line in lines if line.startswith("add_header Content-Security-Policy"))
    assert "'unsafe-inline'" not in server_csp and "'unsafe-inline'" in headers["Content-Security-Policy"]
    theme = block(lines, "location ^~ /theme/ {", "}")
    assert server_csp in theme, "the theme's files keep the site's policy"


def test_apache_replaces_the_policy_in_isso_s_location_only():
    rules = isso_rules()
    lines = [line.strip() for line in security.apache_config(rules).splitlines()]
    isso = block(lines, '<LocationMatch "^/isso/">', "</LocationMatch>")
    assert isso[1:] == [f'Header always set Content-Security-Policy "{dict(rules[1][1])["Content-Security-Policy"]}"']
    assert "'unsafe-inline'" not in next(line for line in lines if line.startswith("Header always set Content-Sec"))


def test_the_headers_file_says_where_isso_s_rule_applies_and_reads_back():
    text = security.headers_file(isso_rules())
    lines = text.splitlines()
    note = lines[lines.index("/isso/*") - 3:lines.index("/isso/*")]
    assert all(line.startswith("# ") for line in note)
    assert "Netlify sends no _headers on a proxied path" in " ".join(note)
    assert security.parse_headers_file(text) == isso_rules()


def test_the_readme_shows_isso_s_policy_as_the_build_writes_it():
    """For Isso on a host of its own, whose server the build does not configure, the README gives the policy."""
    policy = security.policy(settings_with(SHOP, comments=ISSO_PROXIED))
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Content-Security-Policy: {policy.isso_content_security_policy}\n" in readme


# --- Which URLs a directive lets the browser load ---------------------------------------------------------------

@pytest.mark.parametrize("source, url, self_origin, allowed", [
    ("'self'", "https://www.negozio.example/images/a.jpg", SHOP, True),
    ("'self'", "https://altro.example/a.jpg", SHOP, False),
    ("'self'", "https://www.negozio.example/a.jpg", "", False),  # development: the site's address is unknown
    ("'self'", "https://127.0.0.1:8765/a.jpg", "http://127.0.0.1:8765", True),  # an http site's https form
    ("'none'", "https://www.negozio.example/a.jpg", SHOP, False),
    ("'unsafe-inline'", "https://a.example/a.jpg", SHOP, False),
    ("https:", "https://a.example/a.jpg", SHOP, True),
    ("https:", "http://a.example/a.jpg", SHOP, False),
    ("http:", "https://a.example/a.jpg", SHOP, True),
    ("data:", "data:image/png;base64,iVBORw0KGgo=", SHOP, True),
    ("data:", "https://a.example/a.jpg", SHOP, False),
    ("https://foto.example.it", "https://foto.example.it/a/b.jpg", SHOP, True),
    ("https://foto.example.it", "http://foto.example.it/b.jpg", SHOP, False),
    ("https://foto.example.it", "https://foto.example.it:8443/b.jpg", SHOP, False),
    ("https://foto.example.it:8443", "https://foto.example.it:8443/b.jpg", SHOP, True),
    ("https:", "https://foto.example.it:99999/b.jpg", SHOP, False),  # no port a browser could use
    ("https://foto.example.it:*", "https://foto.example.it:9/b.jpg", SHOP, True),
    ("http://foto.example.it", "https://foto.example.it/b.jpg", SHOP, True),  # the upgrade is allowed
    ("FOTO.example.it", "https://foto.example.it/b.jpg", SHOP, True),  # no scheme: the site's, https
    ("foto.example.it", "http://foto.example.it/b.jpg", SHOP, False),
    ("foto.example.it", "http://foto.example.it/b.jpg", "", True),  # development: http or https
    ("https://*.disquscdn.com", "https://c.disquscdn.com/a.png", SHOP, True),
    ("https://*.disquscdn.com", "https://disquscdn.com/a.png", SHOP, False),  # the bare domain is not a subdomain
    ("https://*.disquscdn.com", "https://cdisquscdn.com/a.png", SHOP, False),
    ("https://foto.example.it/album/", "https://foto.example.it/album/a%20b.jpg", SHOP, True),
    ("https://foto.example.it/album/", "https://foto.example.it/altro/a.jpg", SHOP, False),
    ("https://foto.example.it/album/a.jpg", "https://foto.example.it/album/a.jpg?v=2", SHOP, True),
    ("https://foto.example.it/album/a.jpg", "https://foto.example.it/album/a.jpg/b", SHOP, False),
])
def test_a_source_allows_the_urls_a_browser_would_load(source, url, self_origin, allowed):
    assert security.source_allows(source, url, self_origin) is allowed


def test_the_site_s_origin_drops_a_default_port_and_is_empty_in_development():
    assert security.site_origin(settings_with("https://www.negozio.example:443/negozio")) == SHOP
    assert security.site_origin(settings_with("")) == ""
    assert security.origin_of("http://127.0.0.1:8080/isso") == "http://127.0.0.1:8080"


# --- Markdown the policy allows: aligned tables as classes -------------------------------------------------

ALIGNED_TABLE = """| Modello | Corde | Prezzo | Note |
|:--------|:-----:|-------:|------|
| Squier  | 6     | 249,00 | usata |
"""


def converted(text: str) -> BeautifulSoup:
    md = markdown.Markdown(extensions=["markdown.extensions.extra", "markdown.extensions.toc",
                                       markdown_align.AlignClassExtension()], output_format="html")
    return BeautifulSoup(md.convert(text), "html.parser")


def cell_classes(soup: BeautifulSoup) -> list[list[str]]:
    return [[cell.get("class", []) for cell in row.find_all(["th", "td"])] for row in soup.find_all("tr")]


def test_aligned_columns_get_classes_and_no_style():
    soup = converted(ALIGNED_TABLE)
    assert cell_classes(soup) == [[["align-left"], ["align-center"], ["align-right"], []]] * 2
    assert soup.find(style=True) is None and soup.find(align=True) is None


@pytest.mark.parametrize("style, expected", [
    ("text-align: right;", "right"),
    ("text-align:center", "center"),
    (" TEXT-ALIGN: Left; ", "left"),
    ("text-align: justify;", None),
    ("color: red;", None),
    ("text-align: right; color: red;", None),
])
def test_only_a_whole_text_align_style_is_an_alignment(style, expected):
    assert markdown_align.alignment(style) == expected


def test_an_author_s_own_cell_style_and_classes_are_left_alone():
    root = etree.fromstring('<div><table><tr><td class="prezzo" style="text-align: right;">1</td>'
                            '<td style="color: red">2</td><th>3</th></tr></table><p style="text-align: right;">p</p>'
                            "</div>")
    markdown_align.AlignClassProcessor(markdown.Markdown()).run(root)
    first, second, third = root.find("table/tr")
    assert first.attrib == {"class": "prezzo align-right"}
    assert second.attrib == {"style": "color: red"} and third.attrib == {}
    assert root.find("p").get("style") == "text-align: right;", "only table cells"


def test_no_markdown_extension_of_the_site_writes_another_inline_style():
    text = (ALIGNED_TABLE + "\n[TOC]\n\n## Titolo {#titolo .grande}\n\nNota[^1] su *HTML*.\n\n"
            "*[HTML]: HyperText Markup Language\n\nTermine\n:   Definizione\n\n```python\nx = 1\n```\n\n"
            "[^1]: Una nota.\n")
    md = markdown.Markdown(**{**ROOT_MARKDOWN, "extensions": list(ROOT_MARKDOWN["extension_configs"])})
    soup = BeautifulSoup(md.convert(text), "html.parser")
    assert soup.find("abbr") and soup.find(class_="footnote") and soup.find(class_="toc") and soup.find("dl")
    assert soup.find("code", class_="language-python") and soup.find(class_="align-right")
    assert [tag.name for tag in soup.find_all(style=True)] == []


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
    # Isso is on the shop's own domain in production; Pagefind's WebAssembly is the search's one addition.
    assert prod["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert "upgrade-insecure-requests" in prod
    assert "Strict-Transport-Security" in headers_for(read_rules(demo_production), "/")
    assert headers_for(read_rules(demo_production), "/theme/css/main.css")["Cache-Control"].startswith("public")
    assert "Cache-Control" not in headers_for(read_rules(demo_production), "/blog/"), "HTML is never cached long"


def assert_no_inline_script_or_style(pages: list[Path]) -> None:
    """No page runs an inline script or handler, or carries a style element or attribute, that the policy refuses."""
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


def test_no_page_of_the_demo_has_inline_script_or_style(demo_output):
    pages = html_pages(demo_output)
    assert len(pages) > 30
    assert_no_inline_script_or_style(pages)


TABLE_BODY = "Le misure:\n\n" + ALIGNED_TABLE


def test_aligned_tables_of_posts_pages_and_products_are_classes_and_no_page_has_inline_style(build_site):
    output = build_site({
        "posts/misure.md": post(slug="misure", body=TABLE_BODY),
        "pages/misure.md": "Title: Misure\nSlug: tabella-misure\n\n" + TABLE_BODY,
        "images/p.png": PNG,
        "products/chitarra.md": product_file(body=TABLE_BODY),
    }, SHOP_TODAY=TODAY)
    written = {"post": output / "blog" / "misure" / "index.html",
               "page": output / "tabella-misure" / "index.html",
               "product": output / "prodotti" / "chitarra-di-prova" / "index.html"}
    for kind, path in written.items():
        table = parse(path).select_one(".prose table")
        assert table is not None, kind
        assert cell_classes(table) == [[["align-left"], ["align-center"], ["align-right"], []]] * 2, kind
        assert table.find(style=True) is None and table.find(align=True) is None, kind
    assert_no_inline_script_or_style(html_pages(output))
    stylesheet = (output / "theme" / "css" / "main.css").read_text(encoding="utf-8")
    assert ".prose .align-right { text-align: right; }" in stylesheet


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
    # A search runs under the same policy: Pagefind's script, its worker and its WebAssembly.
    response = page.goto(origin + "/cerca/?q=chitarra&type=prodotti")
    assert response.headers["content-security-policy"] == expected["Content-Security-Policy"]
    page.wait_for_selector(".search-result", timeout=15000)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("window.__violations") == [], "/cerca/"
    stylesheet = context.request.get(origin + "/theme/css/main.css")
    assert stylesheet.headers["cache-control"] == "public, max-age=86400"

    # A comment written under the policy, approved, then shown by the widget with its avatar.
    page.goto(origin + post_path)
    posted = post_in_widget(page, "Letto tutto: utile anche per chi compra il primo strumento.", "Lettrice di prova")
    assert posted.status == 202
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


class ShopServer(HeadersHandler):
    """A web server in front of the shop: the built folder, and Isso proxied at /isso/ as the README's nginx block
    does (prefix stripped, X-Script-Name). Every response gets the headers _headers gives its path, a later
    rule's header replacing an earlier one's, as in the nginx and Apache configuration `vetrina headers` prints."""

    isso_port = 0  # set once Isso runs

    def do_GET(self):
        self.proxy("GET") if self.path.startswith("/isso/") else super().do_GET()

    def do_POST(self):
        self.proxy("POST") if self.path.startswith("/isso/") else self.send_error(405)

    def proxy(self, method: str):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        headers = {name: value for name, value in self.headers.items() if name.lower() != "connection"}
        connection = http.client.HTTPConnection("127.0.0.1", self.isso_port, timeout=30)
        connection.request(method, self.path[len("/isso"):], body, {**headers, "X-Script-Name": "/isso"})
        answer = connection.getresponse()
        data = answer.read()
        connection.close()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("connection", "transfer-encoding", "content-length", "date", "server"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


ADMIN_PASSWORD = "una-prova-di-moderazione"


@pytest.fixture
def shop_with_isso(tmp_path):
    """(output folder, origin, Isso's log): the shop served with Isso behind it at /isso/, as in production."""
    output = tmp_path / "output"
    output.mkdir()
    handler = type("Shop", (ShopServer,), {})
    with serving(output, handler) as origin:
        port = free_port()
        config_path = isso_server.write_config(tmp_path / "isso", origin, port, admin_password=ADMIN_PASSWORD)
        config = configparser.ConfigParser()
        config.read(config_path, encoding="utf-8")
        config["server"]["public-endpoint"] = f"{origin}/isso"  # its links and admin files: through the proxy
        with config_path.open("w", encoding="utf-8") as handle:
            config.write(handle)
        log = tmp_path / "isso" / "isso.log"
        process = isso_server.start(config_path, log)
        try:
            isso_server.wait_until_ready(f"http://127.0.0.1:{port}", process)
            handler.isso_port = port
            yield output, origin, log
        finally:
            isso_server.stop(process)


def moderation_links(log: Path, action: str) -> list[str]:
    for _ in range(50):
        found = re.findall(rf"{action.capitalize()} comment: (\S+)", log.read_text(encoding="utf-8"))
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"Isso printed no {action} link")


def approved(origin: str, uri: str) -> list[str]:
    with urllib.request.urlopen(f"{origin}/isso/?uri={uri}") as response:
        return [comment["text"] for comment in json.load(response)["replies"]]


@pytest.mark.slow
@needs_chromium
def test_isso_s_moderation_and_admin_pages_work_under_the_headers_of_their_path(tmp_path, shop_with_isso, browser):
    output, origin, log = shop_with_isso
    content = tmp_path / "content"
    write_content(content, {"posts/a.md": post()})
    run_build(content, output, "publishconf.py", SITEURL=origin, COMMENTS_ISSO_URL=f"{origin}/isso",
              COMMENTS_ISSO_BUILD_URL="", CACHE_PATH=str(tmp_path / "cache"))
    rules = read_rules(output)
    assert "'unsafe-inline'" in headers_for(rules, "/isso/id/1/activate/x")["Content-Security-Policy"]
    site_csp = headers_for(rules, "/")["Content-Security-Policy"]
    uri = "/blog/una-prova/"
    new = urllib.request.Request(f"{origin}/isso/new?uri={uri}", method="POST", headers={
        "Content-Type": "application/json"}, data=json.dumps({"text": "Da approvare.", "title": "Una prova"}).encode())
    with urllib.request.urlopen(new) as response:
        assert response.status == 202
    activate, delete = moderation_links(log, "activate")[-1], moderation_links(log, "delete")[-1]
    assert activate.startswith(f"{origin}/isso/id/")

    context = browser.new_context()
    console: list[str] = []
    page = watched_page(context, console)
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.accept()))

    # Control: Isso's Delete page under the site's own policy. Its inline script is refused, so nothing is asked
    # or deleted: this is what the site-wide policy did to the e-mailed links.
    def with_site_policy(route):
        answer = route.fetch()
        route.fulfill(response=answer, headers={**answer.headers, "content-security-policy": site_csp})

    page.route(delete, with_site_policy)
    page.goto(delete)
    page.wait_for_function("window.__violations.length > 0")
    assert page.evaluate("window.__violations")[0].startswith("script-src")
    assert dialogs == []
    page.unroute(delete)

    # The e-mailed Activate link under the headers of its path: Isso's page asks, posts, then shows the thread.
    response = page.goto(activate)
    assert response.headers["content-security-policy"] == headers_for(rules, "/isso/")["Content-Security-Policy"]
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["x-frame-options"] == "DENY"
    page.wait_for_url(f"{origin}{uri}*", timeout=15000)
    assert dialogs == ["Activate: Are you sure?"]
    assert approved(origin, uri) == ["<p>Da approvare.</p>"]
    console.clear()

    # The admin page: its login form, admin.js and the onClick handlers (here: Log Out) all run.
    page.goto(f"{origin}/isso/admin/")
    page.fill("input[name=password]", ADMIN_PASSWORD)
    page.press("input[name=password]", "Enter")
    page.wait_for_selector("#logout")
    assert page.evaluate("typeof log_out") == "function", "admin.js loaded"
    assert page.evaluate("window.__violations") == []
    page.click("#logout")
    page.wait_for_selector("#login input[name=password]")
    assert page.evaluate("window.__violations") == [] and policy_messages(console) == []
    context.close()
