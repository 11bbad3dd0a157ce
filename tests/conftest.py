"""Shared fixtures: build tiny sites (or the demo) into tmp_path and parse what comes out."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "plugins"))

from pelican import Pelican  # noqa: E402
from pelican.log import LimitFilter  # noqa: E402
from pelican.settings import read_settings  # noqa: E402


class BuildFailed(Exception):
    """A build logged warnings or errors; .messages holds them."""

    def __init__(self, messages):
        super().__init__("\n".join(messages))
        self.messages = messages


class _Collector(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def run_build(content_dir: Path, output_dir: Path, settings_file: str = "pelicanconf.py",
              allowed: tuple[str, ...] = (), **overrides) -> Path:
    """Build in this process with the project's settings; warnings and errors fail the build.

    allowed: substrings of warnings a test expects (they are kept in run_build.last_messages).
    Comments are not fetched from Isso unless a test gives COMMENTS_ISSO_BUILD_URL.
    """
    settings = read_settings(
        str(ROOT / settings_file),
        override={
            "PATH": str(content_dir),
            "OUTPUT_PATH": str(output_dir),
            "THEME": str(ROOT / "theme"),
            "PLUGIN_PATHS": [str(ROOT / "plugins")],
            "COMMENTS_ISSO_BUILD_URL": "",
            # Each build its own content and image cache, never the repository's cache/ nor another test's.
            "CACHE_PATH": str(output_dir.parent / f"{output_dir.name}-cache"),
            **overrides,
        },
    )
    # Pelican de-duplicates log messages for the whole process; each build starts afresh.
    LimitFilter._ignore.clear()
    LimitFilter._raised_messages.clear()
    collector = _Collector()
    root_logger = logging.getLogger()
    root_logger.addHandler(collector)
    try:
        Pelican(settings).run()
    finally:
        root_logger.removeHandler(collector)
    run_build.last_messages = collector.messages
    unexpected = [m for m in collector.messages if not any(part in m for part in allowed)]
    if unexpected:
        raise BuildFailed(unexpected)
    return output_dir


def write_content(content_dir: Path, files: dict) -> None:
    for relative, text in files.items():
        path = content_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


@pytest.fixture
def build_site(tmp_path):
    """build_site(content={"posts/a.md": "..."}, **settings) -> output path of a tiny site."""

    def build(content: dict | None = None, settings_file: str = "pelicanconf.py", **settings) -> Path:
        content_dir = tmp_path / "content"
        write_content(content_dir, content or {})
        return run_build(content_dir, tmp_path / "output", settings_file, **settings)

    return build


@pytest.fixture(scope="session")
def demo_output(tmp_path_factory) -> Path:
    """The demo shop built with the development settings, once per test run."""
    return run_build(ROOT / "content", tmp_path_factory.mktemp("demo") / "output")


@pytest.fixture(scope="session")
def demo_production(tmp_path_factory) -> Path:
    """The demo shop built with the production settings, once per test run."""
    return run_build(ROOT / "content", tmp_path_factory.mktemp("demo-prod") / "output", "publishconf.py")


def parse(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def tree(folder: Path) -> dict:
    """Every file's bytes by its path in the output, Pagefind's index left out: its bundle's file names and
    bytes differ between two builds of the same site (its records are tested in test_search)."""
    files = {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    return {path: p.read_bytes() for path, p in files.items() if not path.startswith("pagefind/")}


def html_pages(output: Path) -> list[Path]:
    return sorted(output.rglob("*.html"))


def post(title="Una prova", slug="una-prova", date="2026-03-01 10:00", summary="Un riassunto di prova.",
         body="Un paragrafo.", **extra) -> str:
    """The text of a Markdown post with the given fields."""
    fields = {"Title": title, "Slug": slug, "Date": date, "Category": "Prove", "Tags": "prova",
              "Summary": summary, **{key.capitalize(): value for key, value in extra.items()}}
    header = "\n".join(f"{key}: {value}" for key, value in fields.items())
    return f"{header}\n\n{body}\n"


THEME_SCRIPTS = ("/theme/js/comments.js", "/theme/js/cart-badge.js", "/theme/js/search.js")


def scripts(soup: BeautifulSoup) -> list:
    """The <script> elements a browser runs, but JSON-LD data blocks, the comment loader, the cart's badge and the
    search page's script (each tested on its own: tests/test_comments*.py, tests/test_cart*.py, tests/test_search.py)."""
    return [s for s in soup.find_all("script")
            if s.get("type") != "application/ld+json" and not s.get("src", "").endswith(THEME_SCRIPTS)]


def jsonld(soup: BeautifulSoup) -> dict:
    """The page's JSON-LD graph, parsed; exactly one block per page."""
    import json

    blocks = soup.find_all("script", type="application/ld+json")
    assert len(blocks) == 1, f"{len(blocks)} JSON-LD blocks"
    return json.loads(blocks[0].string)


def nodes(graph: dict, kind: str) -> list[dict]:
    return [node for node in graph["@graph"] if node.get("@type") == kind]


def require_validator() -> Path:
    """The current W3C validator's jar. Missing, it skips the test, but fails it in CI (CI=true)."""
    import os

    from core import checks

    try:
        return checks.vnu_jar()
    except checks.ValidatorMissing as error:
        missing = str(error)
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and {missing}", pytrace=False)
    pytest.skip(f"HTML validity not tested: {missing}")
