"""Redirects from an old site's addresses: the rules in redirects/*.txt, checked against the built site.

One rule a line, `OLD NEW` (`#` starts a comment): OLD is a root-relative path, percent-encoded as browsers
send it, optionally with a query (`/?p=123`); NEW is a page of the new site (root-relative) or an absolute URL.
The build writes them three ways, for three kinds of host:

- `_redirects` (Netlify, Cloudflare Pages): `OLD NEW 301`; a query rule is written as Netlify matches queries
  (`/ p=123 /blog/x/ 301`), which Cloudflare Pages ignores;
- a small HTML page at each OLD path (any host): a canonical link and an immediate meta refresh, which search
  engines treat as a permanent redirect; a query cannot be served by a static file, so query rules have none;
- an nginx `map` (`./vetrina redirects --server nginx`), from the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, unquote, urlsplit

# Cloudflare Pages' limits for _redirects: 2,000 static and 100 dynamic rules (a query rule counts as dynamic).
CLOUDFLARE_STATIC = 2000
CLOUDFLARE_DYNAMIC = 100


@dataclass(frozen=True)
class Rule:
    old: str
    new: str
    source: str  # the rules file, relative to the project
    line: int

    @property
    def query(self) -> str:
        return urlsplit(self.old).query

    @property
    def path(self) -> str:
        return urlsplit(self.old).path or "/"

    def where(self) -> str:
        return f"{self.source}:{self.line}"


def canonical(url: str) -> str:
    """A root-relative path (and query) as browsers send it: `https://x/%ce%ba/?p=1` → `/%CE%BA/?p=1`."""
    parts = urlsplit(str(url).strip())
    path = quote(unquote(parts.path or "/"), safe="/:@!$&'()*+,;=-._~")
    return path + (f"?{parts.query}" if parts.query else "")


class RuleError(ValueError):
    def __init__(self, source: str, line: int, message: str):
        super().__init__(f"{source}:{line}: {message}")


def parse(text: str, source: str) -> tuple[list[Rule], list[RuleError]]:
    """The rules of one file, and a RuleError for each line that is not `OLD NEW`."""
    rules, errors = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not line:
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[0].startswith("/"):
            errors.append(RuleError(source, number, f"redirect {line!r}: write the old path and the new address, "
                                                    "like /2020/05/ciao/ /blog/ciao/"))
            continue
        rules.append(Rule(canonical(parts[0]), parts[1], source, number))
    return rules, errors


def read_folder(folder: Path, root: Path) -> tuple[list[Rule], list[RuleError]]:
    """Every rule of every .txt file in the folder (sorted by name), and the errors; a later duplicate is one."""
    rules, errors, seen = [], [], {}
    for path in sorted(folder.glob("*.txt")) if folder.is_dir() else []:
        source = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        found, bad = parse(path.read_text(encoding="utf-8"), source)
        errors += bad
        for rule in found:
            first = seen.get(rule.old)
            if first is None:
                seen[rule.old] = rule
                rules.append(rule)
            elif first.new != rule.new:
                errors.append(RuleError(rule.source, rule.line, f"redirect from {rule.old}: {first.where()} already "
                                                                f"sends it to {first.new}; keep one of the two lines"))
    return rules, errors


def output_file(url_path: str) -> str:
    """The file a root-relative URL path is served from: `/blog/x/` → `blog/x/index.html` (decoded)."""
    path = unquote(url_path).lstrip("/")
    if not path or path.endswith("/"):
        return path + "index.html"
    return path if "." in path.rsplit("/", 1)[-1] else path + "/index.html"


def netlify_line(rule: Rule) -> str:
    if not rule.query:
        return f"{rule.old} {rule.new} 301"
    conditions = " ".join(f"{key}={value}" for key, value in parse_qsl(rule.query, keep_blank_values=True))
    return f"{rule.path} {conditions} {rule.new} 301"


def redirects_file(rules: list[Rule], existing: str = "") -> str:
    """`_redirects`: the rules (after any the build already wrote), path rules first: Netlify takes the first match."""
    ordered = sorted(rules, key=lambda rule: (bool(rule.query), rule.old))
    lines = [line for line in existing.splitlines() if line.strip()] + [netlify_line(rule) for rule in ordered]
    return "\n".join(lines) + "\n" if lines else ""


def cloudflare_notices(rules: list[Rule]) -> list[str]:
    dynamic = sum(1 for rule in rules if rule.query)
    static = len(rules) - dynamic
    notices = []
    if static > CLOUDFLARE_STATIC:
        notices.append(f"Redirects: {static} path rules in _redirects, over Cloudflare Pages' limit of "
                       f"{CLOUDFLARE_STATIC}; there, serve them with the HTML redirect pages or a Bulk Redirect list")
    if dynamic:
        notices.append(f"Redirects: {dynamic} rules match a query (?p=ID): Netlify and nginx apply them; "
                       "Cloudflare Pages and HTML redirect pages cannot"
                       + (f" (and they pass Cloudflare's limit of {CLOUDFLARE_DYNAMIC} dynamic rules)"
                          if dynamic > CLOUDFLARE_DYNAMIC else ""))
    return notices


def nginx_map(rules: list[Rule]) -> str:
    """An nginx include: two maps (paths by $uri, decoded; queries by $request_uri) and the return they feed."""
    def quoted(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    paths = [f"    {quoted(unquote(rule.old))} {quoted(rule.new)};" for rule in rules if not rule.query]
    queries = [f"    {quoted(rule.old)} {quoted(rule.new)};" for rule in rules if rule.query]
    return "\n".join([
        "# Redirects from the old site's addresses, made by Vetrina from redirects/*.txt.",
        "# In the http block: include this file; in the server block:",
        "#   if ($vetrina_redirect_query) { return 301 $vetrina_redirect_query; }",
        "#   if ($vetrina_redirect_path) { return 301 $vetrina_redirect_path; }",
        "map $uri $vetrina_redirect_path {", "    default \"\";", *paths, "}",
        "map $request_uri $vetrina_redirect_query {", "    default \"\";", *queries, "}",
    ]) + "\n"
