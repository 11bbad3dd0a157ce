"""The site's security headers, from its settings: a Content-Security-Policy that allows exactly what the
enabled features load, the other protective headers, and their text for _headers, nginx and Apache.

Pure: settings in, a Policy out; the build's signal handler writes the file.

Each feature that loads something from another origin, or needs a browser capability, has one function in
FEATURES. It reads its plugin's validated config from the settings (COMMENTS_CONFIG, SHOP_CONFIG, ...) by
attribute, without importing the plugin, and returns the Needs of that feature; a plugin that is off
contributes nothing. A new feature (embeds, a forms endpoint on its own origin...) adds its function here.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

HEADERS_FILE = "_headers"  # read by Netlify and Cloudflare Pages from the published folder

# The policy every page starts from: its own files only, never a plugin, never framed, forms post home.
BASE_DIRECTIVES = {
    "default-src": ("'self'",),
    "script-src": ("'self'",),
    "style-src": ("'self'",),
    "img-src": ("'self'",),
    "font-src": ("'self'",),
    "connect-src": ("'self'",),
    "frame-src": ("'none'",),
    "object-src": ("'none'",),
    "base-uri": ("'self'",),
    "form-action": ("'self'",),
    "frame-ancestors": ("'none'",),
}
DIRECTIVES = (*BASE_DIRECTIVES, "script-src-elem", "script-src-attr", "style-src-elem", "style-src-attr",
              "media-src", "worker-src", "manifest-src", "child-src", "report-uri")
SCRIPT_DIRECTIVES = ("script-src", "script-src-elem", "script-src-attr")
KEYWORDS = ("'self'", "'none'", "'unsafe-inline'", "'unsafe-eval'", "'wasm-unsafe-eval'", "'unsafe-hashes'",
            "'strict-dynamic'", "'report-sample'")
# Browser capabilities no page of the shop uses: denied to the page and to every frame in it.
DENIED_FEATURES = ("accelerometer", "camera", "display-capture", "geolocation", "gyroscope", "hid",
                   "magnetometer", "microphone", "midi", "payment", "serial", "usb", "browsing-topics")

GISCUS = "https://giscus.app"
# Isso's avatars are SVG squares coloured with style="fill: <colour>" (its default avatar-bg and avatar-fg):
# these exact declarations are allowed by hash, any other inline style stays refused.
ISSO_AVATAR_COLOURS = ("#f0f0f0", "#9abf88", "#5698c4", "#e279a3", "#9163b6", "#be5168", "#f19670", "#e4bf80",
                       "#447c69")
# Isso's own pages, when a web server proxies Isso under the shop's address (SITEURL/isso/): the moderation page
# of the e-mailed Activate and Delete links runs an inline <script> (with that comment's link in it) and the
# admin page has onClick attributes (with each comment's id and key in them), so no hash or nonce can allow
# them and the site's policy would stop both. Their own policy allows inline scripts there and nowhere else;
# it keeps everything else to Isso's files on the shop's address, and never framed (the confirm page and
# the admin's Delete buttons cannot be clickjacked).
ISSO_PAGE_DIRECTIVES = (
    ("default-src", ("'none'",)),
    ("script-src", ("'self'", "'unsafe-inline'")),  # the moderation script, the admin's handlers; admin.js
    ("style-src", ("'self'",)),  # isso.css, admin.css
    ("img-src", ("'self'",)),  # the admin's logo
    ("connect-src", ("'self'",)),  # the moderation page POSTs to itself; admin.js calls Isso's API
    ("form-action", ("'self'",)),  # the admin's login and search forms
    ("base-uri", ("'none'",)),
    ("frame-ancestors", ("'none'",)),
)
SNIPCART_CDN = "https://cdn.snipcart.com"
SNIPCART_APP = "https://app.snipcart.com"
SNIPCART_PAYMENT = "https://payment.snipcart.com"
PAYPAL_CHECKOUT = "https://www.paypal.com"  # the cart page's form posts to its /cgi-bin/webscr

_HOST_SOURCE = re.compile(r"^(?:(?:https?|wss?)://)?(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::(?:\d{1,5}|\*))?(?:/\S*)?$",
                          re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
_SCHEME_SOURCE = re.compile(r"^(?:https|http|data|blob|wss|ws):$")
_HASH_OR_NONCE = re.compile(r"^'(?:sha256|sha384|sha512|nonce)-[A-Za-z0-9+/_-]+={0,2}'$")


class SecurityPolicyError(ValueError):
    """A source or directive of the security policy is malformed or not allowed."""


@dataclass(frozen=True)
class Needs:
    """What one feature asks of the policy: sources per CSP directive, and allowed browser capabilities."""

    feature: str
    sources: dict = field(default_factory=dict)  # CSP directive -> sources to add
    permissions: dict = field(default_factory=dict)  # Permissions-Policy feature -> "self" and/or origins

    def __bool__(self) -> bool:
        return bool(self.sources or self.permissions)


def origin_of(url: str) -> str:
    """The scheme, host and port of an absolute http(s) URL, as a CSP source: http://127.0.0.1:8080."""
    parts = urlsplit(str(url or ""))
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        raise SecurityPolicyError(f"{url!r} is not an absolute http(s) URL")
    port = f":{port}" if port and port != _DEFAULT_PORTS[parts.scheme] else ""
    return f"{parts.scheme}://{parts.hostname.lower()}{port}"


def source_problem(directive: str, source: str) -> str | None:
    """Why `source` cannot stand in `directive` (a short reason), or None when it can."""
    if directive not in DIRECTIVES:
        return f"unknown directive {directive!r}; use one of {', '.join(DIRECTIVES)}"
    if not isinstance(source, str) or not source or any(char in source for char in ' \t\n;,"'):
        return f"{source!r} is not a single source (no spaces, ';' or ',')"
    if directive in SCRIPT_DIRECTIVES and source == "'unsafe-inline'":
        return "'unsafe-inline' is never allowed for scripts: move the script to a file under theme/static/js"
    if directive == "report-uri":
        return None if source.startswith(("https://", "/")) else f"{source!r}: report-uri takes an https URL or a path"
    if source.startswith("'"):
        return None if source in KEYWORDS or _HASH_OR_NONCE.match(source) else f"{source!r} is not a CSP keyword"
    if _SCHEME_SOURCE.match(source) or _HOST_SOURCE.match(source):
        return None
    return f"{source!r} is not a CSP source (write an origin such as https://cdn.example.com)"


_SOURCE_PARTS = re.compile(r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\*|(?:\*\.)?[^/:]+)(?::(?P<port>\d+|\*))?"
                           r"(?P<path>/.*)?$", re.IGNORECASE)
# A source for http (or ws) also matches the secure scheme, as browsers match them (CSP Level 3, 6.7.2).
_SECURE = {"http": ("http", "https"), "ws": ("ws", "wss"), "https": ("https",), "wss": ("wss",)}


def source_allows(source: str, url: str, self_origin: str = "") -> bool:
    """Whether a browser lets one source expression of a directive load url (an absolute URL).

    self_origin is the site's origin ("" when the build does not know it: then 'self' matches no absolute URL
    and a host source without a scheme matches http and https)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        parts.port
    except ValueError:
        return False  # no browser loads it
    if source == "'self'":
        return bool(self_origin) and scheme in ("http", "https") and _origin_or_none(url) in _upgrades(self_origin)
    if source.startswith("'"):
        return False  # 'none', keywords, hashes and nonces allow no URL
    if _SCHEME_SOURCE.match(source):
        return scheme in _SECURE.get(source[:-1].lower(), (source[:-1].lower(),))
    match = _SOURCE_PARTS.match(source)
    if not match or not parts.hostname:
        return False
    wanted = (match["scheme"] or urlsplit(self_origin).scheme or "http").lower()
    if scheme not in _SECURE.get(wanted, (wanted,)):
        return False
    host, pattern = parts.hostname.lower(), match["host"].lower()
    if pattern != "*" and not (host.endswith(pattern[1:]) if pattern.startswith("*.") else host == pattern):
        return False
    port = parts.port or _DEFAULT_PORTS.get(scheme)
    if match["port"] != "*":
        allowed = int(match["port"]) if match["port"] else _DEFAULT_PORTS.get(wanted)
        if port != allowed and not (allowed == 80 and port == 443 and scheme in ("https", "wss")):
            return False
    path = unquote(match["path"] or "")
    if not path:
        return True
    return unquote(parts.path).startswith(path) if path.endswith("/") else unquote(parts.path) == path


def _origin_or_none(url: str) -> str | None:
    try:
        return origin_of(url)
    except SecurityPolicyError:
        return None


def _upgrades(origin: str) -> tuple[str, ...]:
    """The origins 'self' stands for: the site's, and its https form when the site is on http."""
    parts = urlsplit(origin)
    if parts.scheme != "http":
        return (origin,)
    port = f":{parts.port}" if parts.port and parts.port != 80 else ""
    return (origin, f"https://{parts.hostname}{port}")


def allows(sources, url: str, self_origin: str = "") -> bool:
    """Whether a directive with these sources lets a browser load url."""
    return any(source_allows(source, url, self_origin) for source in sources)


def style_hash(declarations: str) -> str:
    """The CSP source that allows exactly this inline style (with 'unsafe-hashes' for a style attribute)."""
    digest = hashlib.sha256(declarations.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


# --- What each feature needs ---------------------------------------------------------------------------------

def comments_needs(settings) -> Needs:
    """The comment provider of COMMENTS_CONFIG: its script, API, stylesheet and frames."""
    config = settings.get("COMMENTS_CONFIG")
    provider = getattr(config, "provider", "none")
    if provider == "isso":
        origin = origin_of(config.isso_url)
        # comments.js adds Isso's embed.min.js, which calls Isso's API and, with data-isso-css, links
        # Isso's isso.css; its avatars are inline SVG (no image request) with a style attribute per square.
        avatars = tuple(style_hash(f"fill: {colour}") for colour in ISSO_AVATAR_COLOURS)
        return Needs("comments: Isso", {"script-src": (origin,), "connect-src": (origin,), "style-src": (origin,),
                                        "style-src-attr": ("'unsafe-hashes'", *avatars)})
    if provider == "giscus":
        # client.js links giscus's stylesheet and puts the thread in an iframe from the same origin.
        return Needs("comments: giscus", {"script-src": (GISCUS,), "style-src": (GISCUS,), "frame-src": (GISCUS,)})
    if provider == "disqus":
        forum = f"https://{config.disqus_shortname}.disqus.com"
        return Needs("comments: Disqus", {
            "script-src": (forum, "https://*.disquscdn.com"),
            "style-src": ("https://*.disquscdn.com",),
            "img-src": ("https://*.disquscdn.com", "https://*.disqus.com"),
            "connect-src": ("https://*.disqus.com",),
            "frame-src": ("https://disqus.com",),
        })
    return Needs("comments")


def checkout_needs(settings) -> Needs:
    """The checkout of SHOP_CONFIG: Snipcart's cart runs in the page; the other modes only link away."""
    config = settings.get("SHOP_CONFIG")
    if getattr(config, "checkout", "") != "snipcart":
        # email: mailto links; stripe and paypal: payment links the visitor follows, which CSP does not govern.
        return Needs("checkout")
    return Needs("checkout: Snipcart", {
        # Snipcart v3 compiles its (customisable) cart templates in the browser, which needs eval.
        "script-src": (SNIPCART_CDN, "'unsafe-eval'"),
        # The cart adds style elements of its own besides snipcart.css.
        "style-src": (SNIPCART_CDN, "'unsafe-inline'"),
        "font-src": (SNIPCART_CDN,),
        "img-src": (SNIPCART_CDN, "data:"),
        "connect-src": (SNIPCART_APP, SNIPCART_CDN, SNIPCART_PAYMENT),
        "frame-src": (SNIPCART_APP, SNIPCART_PAYMENT),
    }, {"payment": ("self", SNIPCART_PAYMENT)})


def search_needs(settings) -> Needs:
    """The search plugin (SEARCH_CONFIG, when present and enabled): Pagefind's files are the site's own."""
    config = settings.get("SEARCH_CONFIG")
    if config is None or not getattr(config, "enabled", True):
        return Needs("search")
    # Pagefind compiles its WebAssembly search engine: that needs 'wasm-unsafe-eval', not 'unsafe-eval'.
    return Needs("search: Pagefind", {"script-src": ("'wasm-unsafe-eval'",)})


def forms_needs(settings) -> Needs:
    """The forms plugin (FORMS_CONFIG with `endpoint`, the URL its forms post to, and `services`, third-party form
    services a form may post to instead): the forms post there; only the endpoint is ever fetched."""
    config = settings.get("FORMS_CONFIG")
    endpoint = getattr(config, "endpoint", "")
    if not endpoint:
        return Needs("forms")
    origin = origin_of(endpoint)
    services = tuple(origin_of(url) for url in getattr(config, "services", {}).values())
    return Needs("forms", {"form-action": tuple(dict.fromkeys((origin, *services))), "connect-src": (origin,)})


def cart_needs(settings) -> Needs:
    """The cart (SHOP_CONFIG.cart): its files are the site's own; with PayPal its checkout posts the cart there."""
    config = settings.get("SHOP_CONFIG")
    if not getattr(config, "cart", False) or getattr(config, "checkout", "") != "paypal":
        return Needs("cart")
    return Needs("cart: PayPal cart upload", {"form-action": (PAYPAL_CHECKOUT,)})


FEATURES = (comments_needs, checkout_needs, search_needs, forms_needs, cart_needs)


# --- The policy ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    """The headers of every page of one build, and the cache rules of its static files."""

    directives: tuple  # ((directive, (source, ...)), ...) in a stable order
    upgrade_insecure: bool  # the site is served over https: upgrade any http subresource
    permissions: tuple  # ((feature, (allowed, ...)), ...); () denies the feature
    hsts_max_age: int  # Strict-Transport-Security, sent only over https; 0: not sent
    cache_control: tuple  # ((path pattern, Cache-Control value), ...)
    features: tuple = ()  # the features that added something, for the build's log
    isso_path: str = ""  # "/isso/": Isso proxied under the site's own address, whose pages get their own policy

    def sources(self, directive: str) -> tuple:
        return dict(self.directives).get(directive, ())

    @property
    def content_security_policy(self) -> str:
        parts = [" ".join((name, *sources)) for name, sources in self.directives]
        if self.upgrade_insecure:
            parts.append("upgrade-insecure-requests")
        return "; ".join(parts)

    @property
    def isso_content_security_policy(self) -> str:
        """The policy of Isso's own pages (moderation, admin), when Isso is proxied at isso_path."""
        parts = [" ".join((name, *sources)) for name, sources in ISSO_PAGE_DIRECTIVES]
        if self.upgrade_insecure:
            parts.append("upgrade-insecure-requests")
        return "; ".join(parts)

    @property
    def permissions_policy(self) -> str:
        def allowlist(allowed):
            return " ".join(item if item == "self" else f'"{item}"' for item in allowed)

        return ", ".join(f"{name}=({allowlist(allowed)})" for name, allowed in self.permissions)

    @property
    def frame_options(self) -> str | None:
        """X-Frame-Options for browsers without frame-ancestors, when the policy can be said in it."""
        ancestors = self.sources("frame-ancestors")
        return {("'none'",): "DENY", ("'self'",): "SAMEORIGIN"}.get(ancestors)

    def headers(self) -> list[tuple[str, str]]:
        """The headers every response of the site gets."""
        headers = [
            ("Content-Security-Policy", self.content_security_policy),
            ("Referrer-Policy", "strict-origin-when-cross-origin"),
            ("X-Content-Type-Options", "nosniff"),
            ("Permissions-Policy", self.permissions_policy),
        ]
        if self.frame_options:
            headers.append(("X-Frame-Options", self.frame_options))
        if self.upgrade_insecure and self.hsts_max_age:
            headers.append(("Strict-Transport-Security", f"max-age={self.hsts_max_age}"))
        return headers

    def rules(self) -> list[tuple[str, list[tuple[str, str]]]]:
        """(path pattern, headers) pairs: every path first, then Isso's own policy at its path (when it is
        proxied there), then the cache rules of static folders."""
        isso = [(f"{self.isso_path}*", [("Content-Security-Policy", self.isso_content_security_policy)])]
        return [("/*", self.headers()), *(isso if self.isso_path else ()),
                *((pattern, [("Cache-Control", value)]) for pattern, value in self.cache_control)]


def _add(directives: dict, directive: str, sources, self_origin: str, who: str) -> None:
    for source in sources:
        problem = source_problem(directive, source)
        if problem:
            raise SecurityPolicyError(f"{who}: {directive}: {problem}")
        if source == self_origin:
            source = "'self'"
        current = list(directives.get(directive, ()))
        if source in current:
            continue
        if source == "'none'" and current:
            continue
        directives[directive] = tuple([s for s in current if s != "'none'"] + [source])


def site_origin(settings) -> str:
    """The origin of SITEURL ("https://www.example.it"), or "" when the build has no absolute SITEURL."""
    site_url = settings["SITE_CONFIG"].site_url
    return origin_of(site_url) if site_url.startswith(("http://", "https://")) else ""


def isso_path(settings, self_origin: str) -> str:
    """The path Isso is proxied at on the site's own address ("/isso/"), or "" (elsewhere, or not in use)."""
    config = settings.get("COMMENTS_CONFIG")
    if getattr(config, "provider", "none") != "isso" or not self_origin or origin_of(config.isso_url) != self_origin:
        return ""
    path = urlsplit(config.isso_url).path.rstrip("/")
    return f"{path}/" if path else ""  # Isso at the site's root would be the whole site: no path of its own


def policy(settings) -> Policy:
    """The policy of a build: the base, what each enabled feature needs, then SITE_CSP_EXTRA."""
    site = settings["SITE_CONFIG"]
    config = site.security
    self_origin = site_origin(settings)
    directives = dict(BASE_DIRECTIVES)
    permissions = {name: () for name in DENIED_FEATURES}
    features = []
    for needs_of in FEATURES:
        needs = needs_of(settings)
        if not needs:
            continue
        features.append(needs.feature)
        for directive, sources in needs.sources.items():
            _add(directives, directive, sources, self_origin, needs.feature)
        for name, allowed in needs.permissions.items():
            permissions[name] = tuple(dict.fromkeys((*permissions.get(name, ()), *allowed)))
    for directive, sources in config.csp_extra.items():
        _add(directives, directive, sources, self_origin, "SITE_CSP_EXTRA")
    for directive in SCRIPT_DIRECTIVES:
        if "'unsafe-inline'" in directives.get(directive, ()):
            raise SecurityPolicyError(f"{directive}: 'unsafe-inline' is never allowed for scripts")
    return Policy(directives=tuple(directives.items()), upgrade_insecure=site.site_url.startswith("https://"),
                  permissions=tuple(permissions.items()), hsts_max_age=config.hsts_max_age,
                  cache_control=tuple(config.cache_control.items()), features=tuple(features),
                  isso_path=isso_path(settings, self_origin))


# --- Text for the hosts ----------------------------------------------------------------------------------------

def headers_file(rules) -> str:
    """Netlify / Cloudflare Pages `_headers`: a path pattern, then its headers indented below it."""
    lines = ["# Security and cache headers of this build, written from the site's settings."]
    for pattern, headers in rules:
        if _own_policy(pattern, headers):
            lines.extend(PROXIED_NOTE)
        lines.append(pattern)
        lines.extend(f"  {name}: {value}" for name, value in headers)
    return "\n".join(lines) + "\n"


PROXIED_NOTE = (
    "# Isso's own pages (moderation links, admin) when a web server proxies Isso at this path. `vetrina headers`",
    "# gives nginx and Apache this policy there instead of the site's. Netlify sends no _headers on a proxied path",
    "# and Cloudflare Pages proxies no other server: there, Isso's own server sends its headers.",
)


def _own_policy(pattern: str, headers) -> bool:
    """Whether a rule other than every path's sets a policy of its own (Isso's pages, as policy() writes them)."""
    return pattern != "/*" and any(name == "Content-Security-Policy" for name, _ in headers)


def parse_headers_file(text: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """The rules of a `_headers` file (as headers_file writes them); a malformed line raises, with its number."""
    rules = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            rules.append((line.strip(), []))
            continue
        name, colon, value = line.strip().partition(":")
        if not colon or not rules or not name:
            raise SecurityPolicyError(f"{HEADERS_FILE}, line {number}: expected '  Header-Name: value' under a path")
        rules[-1][1].append((name.strip(), value.strip()))
    return rules


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _prefix(pattern: str) -> tuple[str, bool]:
    """'/theme/*' -> ('/theme/', True); '/404.html' -> ('/404.html', False)."""
    return (pattern[:-1], True) if pattern.endswith("*") else (pattern, False)


def nginx_config(rules) -> str:
    """add_header lines for the site's server block. nginx drops the server's add_header lines in a location
    that has its own, so each location repeats every header."""
    common = dict(rules[0][1]) if rules and rules[0][0] == "/*" else {}
    lines = ["# Inside the site's server { } block."]
    lines.extend(f"add_header {name} {_quoted(value)} always;" for name, value in common.items())
    for pattern, headers in (rules[1:] if common else rules):
        path, is_prefix = _prefix(pattern)
        lines.append(f"location {'^~' if is_prefix else '='} {path} {{")
        if _own_policy(pattern, headers):
            # nginx refuses two blocks for one path: this one is also Isso's proxy block.
            lines.append("    # Isso's proxy_pass and proxy_set_header lines go in this block too.")
        for name, value in {**common, **dict(headers)}.items():
            lines.append(f"    add_header {name} {_quoted(value)} always;")
        lines.append("}")
    lines.append(f"location = /{HEADERS_FILE} {{ return 404; }}")
    return "\n".join(lines) + "\n"


def apache_config(rules) -> str:
    """mod_headers lines for the site's <VirtualHost> (or .htaccess without the <Location> blocks)."""
    lines = ["# Inside the site's <VirtualHost>; needs mod_headers."]
    for pattern, headers in rules:
        path, is_prefix = _prefix(pattern)
        sets = [f"Header always set {name} {_quoted(value)}" for name, value in headers]
        if pattern == "/*":
            lines.extend(sets)
            continue
        match = f'"^{re.escape(path)}"' if is_prefix else f'"^{re.escape(path)}$"'
        lines.append(f"<LocationMatch {match}>")
        if _own_policy(pattern, headers):
            lines.append("    # Isso's pages: this policy replaces the site's one; ProxyPass for Isso stays as it is.")
        lines.extend(f"    {line}" for line in sets)
        lines.append("</LocationMatch>")
    lines.append(f'<Files "{HEADERS_FILE}">\n    Require all denied\n</Files>')
    return "\n".join(lines) + "\n"


SERVERS = {"nginx": nginx_config, "apache": apache_config}


def server_config(headers_text: str, server: str) -> str:
    """The configuration for `server` (nginx or apache) of the headers in a built `_headers` file's text."""
    if server not in SERVERS:
        raise SecurityPolicyError(f"unknown server {server!r}: use one of {', '.join(SERVERS)}")
    return SERVERS[server](parse_headers_file(headers_text))
