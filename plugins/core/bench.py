"""The bench and audit harness: Vetrina against vanilla Pelican on the same posts, pages and images."""

from __future__ import annotations

import gzip
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

VANILLA_SETTINGS = """\
AUTHOR = "Redazione"
SITENAME = "Vanilla Pelican"
SITEURL = ""
PATH = {content!r}
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
FEED_ALL_ATOM = None
CATEGORY_FEED_ATOM = None
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
DEFAULT_PAGINATION = 6
"""


def vanilla_settings(folder: Path, content: Path) -> Path:
    """Pelican's own defaults (notmyidea theme, no plugins) on the same posts, pages and images."""
    path = Path(folder) / "vanilla.py"
    path.write_text(VANILLA_SETTINGS.format(content=str(content)), encoding="utf-8")
    return path


def timed_build(root: Path, settings: Path, output: Path, content: Path) -> float:
    """Seconds a quiet Pelican build of content into a fresh output takes."""
    shutil.rmtree(output, ignore_errors=True)
    started = time.perf_counter()
    command = [sys.executable, "-m", "pelican", str(content), "-s", str(settings), "-o", str(output), "-q"]
    subprocess.run(command, cwd=root, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def page_weights(output: Path) -> list[int]:
    """Gzip size of each HTML page plus the same-site CSS and JS it loads (each file counted once per page)."""
    from bs4 import BeautifulSoup

    weights = []
    for page in sorted(output.rglob("*.html")):
        html = page.read_bytes()
        soup = BeautifulSoup(html, "html.parser")
        assets = {tag.get("href") for tag in soup.find_all("link", rel="stylesheet")}
        assets |= {tag.get("src") for tag in soup.find_all("script", src=True)}
        total = len(gzip.compress(html, 6))
        for asset in filter(None, assets):
            path = output / asset.split("?")[0].lstrip("/")
            if path.is_file():
                total += len(gzip.compress(path.read_bytes(), 6))
        weights.append(total)
    return weights


@dataclass(frozen=True)
class BuildTimes:
    """Median build times in seconds over `runs` builds of each kind, and their ratio."""

    runs: int
    median_vetrina: float
    median_vanilla: float

    @property
    def ratio(self) -> float:
        return self.median_vetrina / self.median_vanilla


@dataclass(frozen=True)
class Weights:
    """Page weights of one site: how many pages, the median and the heaviest in kB (1024 bytes)."""

    name: str
    pages: int
    median_kb: float
    heaviest_kb: float


def build_times(vetrina: list[float], vanilla: list[float]) -> BuildTimes:
    return BuildTimes(len(vetrina), statistics.median(vetrina), statistics.median(vanilla))


def weights(name: str, sizes: list[int]) -> Weights:
    return Weights(name, len(sizes), statistics.median(sizes) / 1024, max(sizes) / 1024)


def median_ratio(vetrina: list[int], vanilla: list[int]) -> float:
    return statistics.median(vetrina) / statistics.median(vanilla)


def bench(root: Path, settings: Path, content: Path, runs: int) -> BuildTimes:
    """Build the site and vanilla Pelican `runs` times each, after one warm-up build of the site."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        vanilla = vanilla_settings(folder, content)
        timed_build(root, settings, folder / "warm", content)  # fills the image cache, as a second build finds it
        ours = [timed_build(root, settings, folder / "vetrina", content) for _ in range(runs)]
        theirs = [timed_build(root, vanilla, folder / "vanilla", content) for _ in range(runs)]
    return build_times(ours, theirs)


def audit(root: Path, settings: Path, content: Path) -> tuple[list[Weights], float]:
    """Rows for vanilla Pelican and Vetrina (in that order) and the ratio of the medians Vetrina / vanilla."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        timed_build(root, settings, folder / "vetrina", content)
        timed_build(root, vanilla_settings(folder, content), folder / "vanilla", content)
        ours, theirs = page_weights(folder / "vetrina"), page_weights(folder / "vanilla")
    return [weights("vanilla Pelican", theirs), weights("Vetrina", ours)], median_ratio(ours, theirs)
