"""Checks on a built site: broken internal links and assets, unique titles and descriptions.

Used by `invoke check` and by the tests; each function returns a list of problems as strings.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import defaultdict
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

from bs4 import BeautifulSoup

from .rendering import clean_path

LINK_ATTRIBUTES = (("a", "href"), ("link", "href"), ("img", "src"), ("script", "src"), ("source", "src"))


def html_files(output: Path) -> list[Path]:
    return sorted(output.rglob("*.html"))


def page_url(output: Path, file: Path) -> str:
    """The root-relative URL a file is served at ("/blog/x/" for blog/x/index.html)."""
    return "/" + clean_path(file.relative_to(output).as_posix())


def resolve(output: Path, url_path: str) -> Path | None:
    """The file a root-relative URL path is served from, or None."""
    target = output / unquote(url_path).lstrip("/")
    if url_path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def broken_links(output: Path, site_url: str = "") -> list[str]:
    """Internal links, assets and fragments that point nowhere."""
    problems = []
    ids_cache: dict[Path, set[str]] = {}
    base = urlparse(site_url) if site_url else None
    for file in html_files(output):
        soup = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")
        here = page_url(output, file)
        for tag_name, attribute in LINK_ATTRIBUTES:
            for tag in soup.find_all(tag_name):
                value = tag.get(attribute)
                if not value:
                    continue
                problem = _check_link(output, here, value, base, soup, ids_cache)
                if problem:
                    problems.append(f"{file.relative_to(output)}: <{tag_name} {attribute}={value!r}>: {problem}")
        for tag in soup.find_all(srcset=True):
            for candidate in tag["srcset"].split(","):
                url = candidate.split()[0]
                problem = _check_link(output, here, url, base, soup, ids_cache)
                if problem:
                    problems.append(f"{file.relative_to(output)}: <{tag.name} srcset> {url!r}: {problem}")
    return problems


def _check_link(output, here, value, base, soup, ids_cache):
    url = urlparse(urljoin(here, value))
    if url.scheme in ("mailto", "tel", "data"):
        return None
    if url.scheme in ("http", "https"):
        if not base or url.netloc != base.netloc:
            return None  # external: counted, never fetched
        url = url._replace(path=url.path[len(base.path.rstrip("/")) :] or "/")
    target = resolve(output, url.path)
    if target is None:
        return "no such file"
    if url.fragment:
        if target not in ids_cache:
            target_soup = soup if target == output / here.lstrip("/") else BeautifulSoup(
                target.read_text(encoding="utf-8"), "html.parser"
            )
            ids_cache[target] = {tag["id"] for tag in target_soup.find_all(id=True)}
        if unquote(url.fragment) not in ids_cache[target]:
            return f"no element with id {url.fragment!r}"
    return None


def duplicate_heads(output: Path) -> list[str]:
    """Titles and meta descriptions shared by two or more indexable pages."""
    seen = {"title": defaultdict(list), "description": defaultdict(list)}
    problems = []
    for file in html_files(output):
        soup = BeautifulSoup(file.read_text(encoding="utf-8"), "html.parser")
        robots = soup.find("meta", attrs={"name": "robots"})
        if robots and "noindex" in robots.get("content", ""):
            continue
        title = soup.title.get_text() if soup.title else ""
        description_tag = soup.find("meta", attrs={"name": "description"})
        description = description_tag.get("content", "") if description_tag else ""
        name = str(file.relative_to(output))
        if not title.strip():
            problems.append(f"{name}: no <title>")
        if not description.strip():
            problems.append(f"{name}: no meta description")
        seen["title"][title].append(name)
        seen["description"][description].append(name)
    for kind, values in seen.items():
        for value, files in values.items():
            if value and len(files) > 1:
                problems.append(f"{kind} {value!r} is used by {len(files)} pages: {', '.join(files)}")
    return problems


PROJECT_ROOT = Path(__file__).resolve().parents[2]


VNU_JAR = PROJECT_ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


class ValidatorMissing(Exception):
    """The current W3C Nu validator (npm's vnu-jar, pinned in package-lock.json) is not installed."""


def vnu_jar() -> Path:
    """The current W3C Nu validator: npm's vnu-jar in node_modules; never an older copy.

    Raises ValidatorMissing, whose message says what to install, when it is not there.
    """
    if VNU_JAR.is_file():
        return VNU_JAR
    raise ValidatorMissing(
        f"the W3C HTML validator is not installed ({VNU_JAR.relative_to(PROJECT_ROOT)} is missing): "
        "install npm (for example: sudo apt-get install npm), then run `npm ci` or `./vetrina test`"
    )


JAVA_PACKAGE = "default-jre-headless"
# Validator messages that make a page fail: errors, fatal parse errors, and files it could not read at all.
FAILING_MESSAGES = ("error", "non-document-error")


def missing_validator(java: str = "java", which=shutil.which) -> str | None:
    """One line saying what to install when the HTML validator cannot run here, else None: asked before a build."""
    problems = []
    if which(java) is None:
        problems.append(f"the W3C HTML validator needs Java ({java} not found): "
                        f"sudo apt-get install {JAVA_PACKAGE}")
    try:
        vnu_jar()
    except ValidatorMissing as error:
        problems.append(str(error))
    return "; ".join(problems) or None


def validator_command(output: Path, jar: Path, java: str = "java") -> list[str]:
    """The validator on the whole folder: it walks the folder itself, so the command stays short for any number
    of pages (a list of 20,000 paths would exceed the system's limit on a command line)."""
    return [java, "-Xss8m", "-jar", str(jar), "--format", "json", "--exit-zero-always", "--skip-non-html",
            str(output)]


def invalid_html(output: Path, java: str = "java") -> list[str]:
    """Every error the W3C Nu validator finds in the site's HTML files (one JVM for all).

    Raises ValidatorMissing when the current validator is not installed; a validator that cannot start, crashes
    or writes no report is one problem line.
    """
    jar = vnu_jar()
    if not html_files(output):
        return ["no HTML files"]
    try:
        result = subprocess.run(validator_command(output, jar, java), capture_output=True, text=True)
    except OSError as error:
        return [f"the W3C HTML validator could not start {java!r} ({error.strerror or error}): "
                f"install Java (sudo apt-get install {JAVA_PACKAGE})"]
    report = _validator_report(result.stderr)
    if result.returncode != 0 or report is None:
        detail = next((line.strip() for line in result.stderr.splitlines() if line.strip()), "no output")
        return [f"the W3C HTML validator failed (exit {result.returncode}) and wrote no report: {detail}"]
    problems = []
    for message in report:
        if message.get("type") in FAILING_MESSAGES or message.get("subType") == "fatal":
            where = Path(unquote(urlparse(message.get("url", "")).path))
            try:
                where = where.relative_to(Path(output).resolve())
            except ValueError:
                pass
            problems.append(f"{where}:{message.get('lastLine', '?')}: {message.get('message')}")
    return problems


def _validator_report(text: str) -> list[dict] | None:
    """The messages of vnu's JSON report, which may follow lines the JVM writes first; None without one."""
    decoder = json.JSONDecoder()
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.startswith("{"):
            try:
                report, _ = decoder.raw_decode(text, offset)
            except ValueError:
                report = None
            if isinstance(report, dict) and isinstance(report.get("messages"), list):
                return report["messages"]
        offset += len(line)
    return None


def run_all(output: Path, site_url: str = "", html: bool = True) -> dict[str, list[str]]:
    """Every check on a built folder, by section; a check that cannot run is a problem of its section."""
    sections = {
        "links and assets": lambda: broken_links(output, site_url),
        "titles and descriptions": lambda: duplicate_heads(output),
    }
    if html:
        sections["HTML validity (W3C Nu)"] = lambda: invalid_html(output)
    results = {}
    for name, run in sections.items():
        try:
            results[name] = run()
        except ValidatorMissing as error:
            results[name] = [str(error)]
        except (OSError, ValueError) as error:  # an unreadable file, a page that is not UTF-8...
            results[name] = [f"the check could not run: {type(error).__name__}: {error}"]
    return results


def passes(output: Path, site_url: str = "", html: bool = True, say=print) -> bool:
    """Run every check on a built folder, say each section's problems, and whether there were none."""
    failed = False
    for name, problems in run_all(output, site_url, html).items():
        say(f"{name}: {len(problems)} problem(s)")
        for problem in problems:
            say(f"  {problem}")
        failed = failed or bool(problems)
    return not failed
