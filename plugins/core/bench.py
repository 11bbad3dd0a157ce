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


# --- The performance harness: a synthetic shop, cold and warm Vetrina builds, vanilla Pelican ------------------

# Vanilla Pelican on the synthetic shop: its built-in simple theme, no plugins, its default feeds; frozen here
# so that every measurement compares against the same thing.
VANILLA_SIMPLE_SETTINGS = """\
AUTHOR = "Redazione"
SITENAME = "Vanilla Pelican"
SITEURL = ""
PATH = {content!r}
CACHE_PATH = {cache!r}
ARTICLE_PATHS = ["posts", "products"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
THEME = "simple"
PLUGINS = []
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
DEFAULT_PAGINATION = 6
"""

# The project's own settings, with the synthetic shop's folders and the bench's Isso.
SHOP_SETTINGS = """\
import runpy as _runpy

globals().update({{name: value for name, value in _runpy.run_path({project!r}).items() if name.isupper()}})
PATH = {content!r}
CACHE_PATH = {cache!r}
THEME = {theme!r}
PLUGIN_PATHS = [{plugins!r}]
SHOP_TODAY = {today!r}
COMMENTS_ISSO_URL = {isso!r} or COMMENTS_ISSO_URL
COMMENTS_ISSO_BUILD_URL = {isso!r}
"""

PHASE_LINE = "VETRINA_PHASE"
IMAGE_CPU_LINE = "VETRINA_IMAGE_CPU"
IMAGE_CPU_KEY = "image encoding CPU"  # in parse_phases' answer; not a phase of the build's wall time
SAMPLE_EVERY = 0.05  # seconds between two samples of the memory of a build and its workers
COMMENTED_SHARE = 10  # one item in this many gets comments
TARGET_COLD = 1.5  # a cold build, at most this many times vanilla Pelican's (paired median)
TARGET_LIVE = 2.0  # seconds from saving a post to its page served with the edit
TARGET_WARM = 0.5  # a warm rebuild after editing one post, at most this share of the cold build


def shop_settings(folder: Path, root: Path, content: Path, cache: Path, isso_url: str, today: str) -> Path:
    path = Path(folder) / "vetrina-settings.py"
    path.write_text(SHOP_SETTINGS.format(
        project=str(Path(root) / "pelicanconf.py"), content=str(content), cache=str(cache),
        theme=str(Path(root) / "theme"), plugins=str(Path(root) / "plugins"), today=today, isso=isso_url),
        encoding="utf-8")
    return path


def vanilla_simple_settings(folder: Path, content: Path, cache: Path) -> Path:
    path = Path(folder) / "vanilla-simple.py"
    path.write_text(VANILLA_SIMPLE_SETTINGS.format(content=str(content), cache=str(cache)), encoding="utf-8")
    return path


class PhaseClock:
    """Where a build's time goes: each generator's context and output, what runs between and after, images.

    The runner makes one when VETRINA_PHASES=1 and prints its lines on stderr at the end of the build.
    """

    def __init__(self, clock=time.perf_counter):
        self.clock = clock
        self.started = self.last = clock()
        self.marks: list[tuple[str, float]] = []
        self.spans: list[tuple[str, float, float]] = []  # (generator phase, start, end)
        self.images: list[tuple[float, float]] = []

    @classmethod
    def from_environment(cls) -> PhaseClock | None:
        import os

        if os.environ.get("VETRINA_PHASES") != "1":
            return None
        clock = cls()
        clock.attach()
        return clock

    def attach(self) -> None:
        from pelican import signals

        signals.generator_init.connect(self._wrap_generator, weak=False)
        try:
            from .responsive import ResponsiveImages
        except ImportError:
            return
        write = getattr(ResponsiveImages, "write", None)
        if write is not None:
            ResponsiveImages.write = self._timed_images(write)
        from . import responsive

        responsive.make_webp = _cpu_told(responsive.make_webp)

    def _timed_images(self, write):
        def timed(images, *args, **kwargs):
            start = self.clock()
            try:
                return write(images, *args, **kwargs)
            finally:
                self.images.append((start, self.clock()))
        return timed

    def _wrap_generator(self, generator) -> None:
        name = type(generator).__name__
        for method, phase in (("generate_context", "context"), ("generate_output", "output")):
            bound = getattr(generator, method, None)
            if bound is not None:
                setattr(generator, method, self._timed(f"{name} {phase}", bound))

    def _timed(self, name: str, function):
        def timed(*args, **kwargs):
            start = self.clock()
            try:
                return function(*args, **kwargs)
            finally:
                self.spans.append((name, start, self.clock()))
        return timed

    def mark(self, name: str) -> None:
        now = self.clock()
        self.marks.append((name, now - self.last))
        self.last = now

    def phases(self) -> dict[str, float]:
        return phases_of(self.marks, self.spans, self.images)

    def lines(self) -> str:
        return "\n".join(f"{PHASE_LINE}\t{name}\t{seconds:.4f}" for name, seconds in self.phases().items())


def _cpu_told(encode):
    """An encoding that tells its CPU seconds on stderr, from whichever process runs it (the side worker, a
    pool's worker, the build): the WebP work a build does beside its own, which its phases do not show."""
    def told(*args, **kwargs):
        import os

        start = time.process_time()
        try:
            return encode(*args, **kwargs)
        finally:
            os.write(2, f"{IMAGE_CPU_LINE}\t{time.process_time() - start:.4f}\n".encode())  # one write: one line
    return told


def phases_of(marks: list[tuple[str, float]], spans: list[tuple[str, float, float]],
              images: list[tuple[float, float]]) -> dict[str, float]:
    """Seconds per phase, in order; the generator spans are split out of the mark named "run", images out of
    the phase that ran them, so the phases add up to the whole build."""
    found: dict[str, float] = {}
    image_time = sum(end - start for start, end in images)

    def inside(start: float, end: float) -> float:
        return sum(e - s for s, e in images if s >= start and e <= end)

    for name, seconds in marks:
        if name != "run" or not spans:
            found[name] = found.get(name, 0.0) + seconds - (image_time if name == "run" else 0.0)
            continue
        contexts = [span for span in spans if span[0].endswith(" context")]
        outputs = [span for span in spans if span[0].endswith(" output")]
        for phase, start, end in spans:
            found[phase] = found.get(phase, 0.0) + (end - start) - inside(start, end)
        if contexts and outputs:
            between = min(s for _, s, _ in outputs) - max(e for _, _, e in contexts)
            found["between reading and writing"] = between - inside(max(e for _, _, e in contexts),
                                                                     min(s for _, s, _ in outputs))
        accounted = sum(found[phase] for phase in dict.fromkeys(span[0] for span in spans))
        found["the rest of the run (finalized signals)"] = (seconds - accounted - image_time
                                                            - found.get("between reading and writing", 0.0))
    if images:
        found["images (WebP)"] = image_time
    return {name: max(0.0, value) for name, value in found.items()}


def parse_phases(stderr: str) -> tuple[dict[str, float], str]:
    """The phase lines a build printed, and the rest of what it printed."""
    phases, rest = {}, []
    for line in stderr.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0] == PHASE_LINE:
            phases[parts[1]] = phases.get(parts[1], 0.0) + float(parts[2])
        elif len(parts) == 2 and parts[0] == IMAGE_CPU_LINE:
            phases[IMAGE_CPU_KEY] = phases.get(IMAGE_CPU_KEY, 0.0) + float(parts[1])
        else:
            rest.append(line)
    return phases, "\n".join(rest)


@dataclass(frozen=True)
class Measured:
    """One build: wall and CPU seconds (the process and the workers it waited for), peak RSS in bytes
    (the sum over the process and its children, sampled), and its phases when it printed them."""

    seconds: float
    cpu: float
    peak_rss: int
    phases: dict

    image_cpu: float | None = None  # CPU seconds spent encoding WebP copies, in every process that did

    @property
    def images(self) -> float | None:
        if self.image_cpu is not None:
            return self.image_cpu
        return self.phases.get("images (WebP)")


def _parents() -> dict[int, int]:
    import os

    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    stat = handle.read()
            except OSError:
                continue
            parents[int(entry)] = int(stat[stat.rindex(b")") + 2:].split()[1])
    return parents


def _proportional(pid: int) -> int | None:
    """pid's proportional set size in bytes (each shared page split among its sharers), None where the
    kernel does not tell it."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as handle:
            for line in handle:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        return None
    return None


def tree_rss(pid: int) -> int:
    """Resident bytes of pid and all its descendants now (0 when it is gone). A page that forks share is
    counted once, split among them (PSS, where /proc tells it), not once per fork."""
    import os

    parents = _parents()
    children: dict[int, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    page, total, stack = os.sysconf("SC_PAGE_SIZE"), 0, [pid]
    while stack:
        current = stack.pop()
        shared_out = _proportional(current)
        try:
            if shared_out is None:
                with open(f"/proc/{current}/statm", "rb") as handle:
                    shared_out = int(handle.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        total += shared_out
        stack.extend(children.get(current, ()))
    return total


def measured_run(command: list[str], cwd: Path, env: dict) -> Measured:
    """Run one build as a new process, sampling its memory; fails with what it printed when it fails."""
    import resource
    import threading

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = [0]
    done = threading.Event()

    def sample():
        while not done.wait(SAMPLE_EVERY):
            peak[0] = max(peak[0], tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stderr = process.stderr.read().decode("utf-8", errors="replace")
    process.wait()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    phases, rest = parse_phases(stderr)
    image_cpu = phases.pop(IMAGE_CPU_KEY, None)
    if phases:
        phases["process start, imports and exit"] = max(0.0, seconds - sum(phases.values()))
    if process.returncode != 0:
        raise BenchError(f"{' '.join(command[1:4])}: the build failed (exit {process.returncode}):\n{rest.strip()}")
    return Measured(seconds, cpu, peak[0], phases, image_cpu)


class BenchError(RuntimeError):
    """A build of the bench failed, or the bench cannot run."""


@dataclass(frozen=True)
class Served:
    """`serve` after saving one post: seconds until its page was served with the edit, and until the whole
    build was swapped in."""

    live: float
    built: float


@dataclass(frozen=True)
class Round:
    cold: Measured
    vanilla: Measured
    warm: Measured
    unsearched: Measured | None = None  # a cold build without the search index: what the index costs


@dataclass(frozen=True)
class Summary:
    """The medians and paired ratios of the rounds of one size."""

    posts: int
    products: int
    rounds: tuple[Round, ...]
    serve: Served | None = None

    @property
    def pages(self) -> int:
        return self.posts + self.products

    def has(self, kind: str) -> bool:
        return all(getattr(r, kind) is not None for r in self.rounds)

    def kinds(self) -> list[tuple[str, str]]:
        return [(kind, label) for kind, label in KINDS if self.has(kind)]

    def median(self, kind: str, field: str = "seconds") -> float:
        return statistics.median(getattr(getattr(r, kind), field) for r in self.rounds)

    def ratios(self, top: str = "cold", bottom: str = "vanilla", field: str = "seconds") -> list[float]:
        return [getattr(getattr(r, top), field) / getattr(getattr(r, bottom), field) for r in self.rounds]

    def ratio(self, top: str = "cold", bottom: str = "vanilla", field: str = "seconds") -> float:
        """The paired median: the ratio of each round, then their median."""
        return statistics.median(self.ratios(top, bottom, field))

    def peak_rss(self, kind: str) -> int:
        """The highest peak of the rounds: what the machine must hold."""
        return max(getattr(r, kind).peak_rss for r in self.rounds)

    def ms_per_page(self, kind: str) -> float:
        return 1000 * self.median(kind) / self.pages

    def images(self) -> float | None:
        found = [r.cold.images for r in self.rounds if r.cold.images is not None]
        return statistics.median(found) if found else None

    def phases(self, kind: str = "cold") -> dict[str, float]:
        names: dict[str, None] = {}
        for r in self.rounds:
            names.update(dict.fromkeys(getattr(r, kind).phases))
        return {name: statistics.median(getattr(r, kind).phases.get(name, 0.0) for r in self.rounds)
                for name in names}


KINDS = (("cold", "Vetrina cold"), ("unsearched", "Vetrina cold without the search index"),
         ("vanilla", "vanilla Pelican (simple theme), cold"), ("warm", "Vetrina warm (one post edited)"))


def mib(size: float) -> str:
    return f"{size / 2 ** 20:.0f} MiB"


def table(summary: Summary) -> str:
    """The bench's table for one size: medians, ms per page, CPU, peak RSS, paired ratios, phases."""
    rows = [("", "median", "ms/page", "CPU", "peak RSS")]
    for kind, label in summary.kinds():
        rows.append((label, f"{summary.median(kind):.2f} s", f"{summary.ms_per_page(kind):.1f}",
                     f"{summary.median(kind, 'cpu'):.2f} s", mib(summary.peak_rss(kind))))
    images = summary.images()
    if images is not None:
        rows.append(("image encoding (cold build, CPU)", f"{images:.2f} s",
                     f"{1000 * images / summary.pages:.1f}", "", ""))
    width = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = [f"{summary.posts} posts + {summary.products} products = {summary.pages} pages, "
             f"{len(summary.rounds)} rounds (median wall and CPU, the highest peak RSS)"]
    lines += ["  ".join(cell.ljust(width[0]) if i == 0 else cell.rjust(width[i]) for i, cell in enumerate(row))
              for row in rows]
    per_round = lambda values: " ".join(f"{value:.2f}" for value in values)  # noqa: E731
    lines.append(f"Vetrina cold / vanilla, per round: {per_round(summary.ratios())}; paired median "
                 f"{summary.ratio():.2f} (CPU {summary.ratio(field='cpu'):.2f})")
    if summary.has("unsearched"):
        share = summary.ratio("cold", "unsearched") - 1
        lines.append(f"Vetrina cold without the search index / vanilla, per round: "
                     f"{per_round(summary.ratios('unsearched'))}; paired median {summary.ratio('unsearched'):.2f}; "
                     f"the index adds {100 * share:.0f} % to the cold build (paired median)")
    lines.append(f"Vetrina warm / cold, per round: {per_round(summary.ratios('warm', 'cold'))}; paired median "
                 f"{summary.ratio('warm', 'cold'):.2f}")
    cold, warm = summary.ratio(), summary.ratio("warm", "cold")
    met = lambda value, target: "met" if value <= target else "not met"  # noqa: E731
    if summary.serve is not None:
        lines.append(f"serve, one post saved: its page live after {summary.serve.live:.2f} s, the whole build "
                     f"in after {summary.serve.built:.2f} s")
    lines.append(f"Targets: cold / vanilla at most {TARGET_COLD:.1f}: {cold:.2f} ({met(cold, TARGET_COLD)}); "
                 f"warm / cold at most {TARGET_WARM:.1f}: {warm:.2f} ({met(warm, TARGET_WARM)})"
                 + (f"; serve's edited page live within {TARGET_LIVE:.0f} s: {summary.serve.live:.2f} s "
                    f"({met(summary.serve.live, TARGET_LIVE)})" if summary.serve is not None else ""))
    phases = summary.phases()
    if phases:
        total = summary.median("cold")
        lines.append("Where the cold build's time went (median s, share of the median build):")
        name_width = max(len(name) for name in phases)
        lines += [f"  {name.ljust(name_width)}  {seconds:8.2f} s  {100 * seconds / total:5.1f} %"
                  for name, seconds in phases.items()]
    return "\n".join(lines)


def sizes_table(summaries: list[Summary]) -> str:
    """One line per size: the paired ratio, ms per page, and how the ratio grows from the smallest size."""
    lines = ["pages (posts + products)   Vetrina cold   vanilla   ratio   ms/page   warm/cold   peak RSS"]
    for s in summaries:
        lines.append(f"{s.pages:>8} ({s.posts} + {s.products})".ljust(27)
                     + f"{s.median('cold'):>10.2f} s  {s.median('vanilla'):>6.2f} s  {s.ratio():>6.2f}  "
                       f"{s.ms_per_page('cold'):>8.1f}  {s.ratio('warm', 'cold'):>9.2f}  {mib(s.peak_rss('cold')):>9}")
    if len(summaries) > 1:
        first, last = summaries[0], summaries[-1]
        lines.append(f"ratio at {last.pages} pages / ratio at {first.pages} pages: "
                     f"{last.ratio() / first.ratio():.2f} (linear cost: at most 1.10)")
    return "\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def svg_chart(title: str, bars: list[tuple[str, float]], unit: str = "s") -> str:
    """A horizontal bar chart as a small standalone SVG document."""
    label_width, bar_width, row, top = 340, 420, 26, 40
    largest = max((value for _, value in bars), default=0) or 1
    height = top + row * len(bars) + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 90}" height="{height}" '
             f'font-family="sans-serif" font-size="13">',
             f'<title>{_escape(title)}</title>',
             f'<text x="10" y="24" font-size="15" font-weight="bold">{_escape(title)}</text>']
    for index, (label, value) in enumerate(bars):
        y = top + index * row
        length = max(1.0, bar_width * value / largest)
        parts += [f'<text x="{label_width - 8}" y="{y + 16}" text-anchor="end">{_escape(label)}</text>',
                  f'<rect x="{label_width}" y="{y + 3}" width="{length:.1f}" height="{row - 8}" fill="#7a4b2a"/>',
                  f'<text x="{label_width + length + 6:.1f}" y="{y + 16}">{value:.2f} {_escape(unit)}</text>']
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def chart_of(summaries: list[Summary]) -> str:
    """The chart of a run: the medians and phases of one size, or the paired ratio per size."""
    if len(summaries) > 1:
        return svg_chart("Vetrina cold / vanilla Pelican, paired median, by size",
                         [(f"{s.pages} pages", s.ratio()) for s in summaries], unit="×")
    summary = summaries[0]
    bars = [(label, summary.median(kind)) for kind, label in summary.kinds()]
    if summary.images() is not None:
        bars.append(("image encoding (cold build, CPU)", summary.images()))
    bars += [(f"phase: {name}", seconds) for name, seconds in summary.phases().items() if name != "images (WebP)"]
    return svg_chart(f"Build times, {summary.pages} pages (median of {len(summary.rounds)} rounds)", bars)


def add_comments(isso_url: str, uris: list[str], seed: int = 0) -> int:
    """Post one to three comments on every tenth page, as visitors would; returns how many."""
    import random

    from comments.server import post_comment

    posted = 0
    for index, uri in enumerate(uris[::COMMENTED_SHARE]):
        rng = random.Random(f"comments-{index}-{seed}")
        for number in range(rng.randint(1, 3)):
            author = rng.choice(("Giulia", "Marco", "Sara", "Luca"))
            post_comment(isso_url, uri, author, f"Commento di prova numero {number + 1}: utile, grazie.")
            posted += 1
    return posted


def runner_env(root: Path, phases: bool) -> dict:
    import os

    from .build import build_environment

    env = build_environment({name: value for name, value in os.environ.items() if not name.startswith("VETRINA_")},
                            Path(root) / "plugins")
    if phases:
        env["VETRINA_PHASES"] = "1"
    return env


def bench_shop(root: Path, posts: int, products: int, rounds: int = 3, warmup: int = 1, images: bool = True,
               comments: bool = True, seed: int = 0, search_cost: bool = True, progress=print) -> Summary:
    """Generate the synthetic shop in a temporary folder and run the rounds; the folder is removed after."""
    from contextlib import ExitStack

    from . import synthetic

    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="vetrina-bench-") as folder, ExitStack() as stack:
        folder = Path(folder)
        progress(f"writing {posts} posts + {products} products (seed {seed}, images {'on' if images else 'off'})")
        shop = synthetic.write_shop(folder / "content", posts, products, seed=seed, images=images)
        vanilla_content = synthetic.write_vanilla(folder / "vanilla-content", posts, products, seed=seed, images=images)
        isso_url = ""
        if comments:
            from comments import server as isso_server

            port = isso_server.free_port()
            config = isso_server.write_config(folder / "isso", "http://127.0.0.1:8000", port, moderated=False,
                                              guarded=False)
            process = isso_server.start(config, folder / "isso" / "isso.log")
            stack.callback(isso_server.stop, process)
            isso_url = f"http://127.0.0.1:{port}"
            isso_server.wait_until_ready(isso_url, process)
            count = add_comments(isso_url, [*shop.post_urls, *shop.product_urls], seed)
            progress(f"local Isso at {isso_url}: {count} comments on every {COMMENTED_SHARE}th page")
        cache, output = folder / "cache", folder / "output"
        settings = shop_settings(folder, root, shop.folder, cache, isso_url, synthetic.TODAY)
        vanilla = vanilla_simple_settings(folder, vanilla_content, folder / "vanilla-cache")
        unsearched_settings = folder / "vetrina-settings-unsearched.py"
        unsearched_settings.write_text(settings.read_text(encoding="utf-8") + "SEARCH_ENABLED = False\n",
                                       encoding="utf-8")
        env = runner_env(root, phases=True)
        ours = [sys.executable, "-m", "core.runner", str(shop.folder), "-s", str(settings), "-o", str(output)]
        unsearched = [*ours[:-4], "-s", str(unsearched_settings), "-o", str(output)]
        theirs = [sys.executable, "-m", "pelican", str(vanilla_content), "-s", str(vanilla), "-o",
                  str(folder / "vanilla-output"), "-q"]
        done = []
        for number in range(warmup + rounds):
            name = f"warm-up {number + 1}/{warmup}" if number < warmup else f"round {number - warmup + 1}/{rounds}"
            for path in (output, cache, folder / "vanilla-output", folder / "vanilla-cache"):
                shutil.rmtree(path, ignore_errors=True)
            cold = measured_run(ours, root, env)
            progress(f"{name}: Vetrina cold {cold.seconds:.2f} s (CPU {cold.cpu:.2f} s, {mib(cold.peak_rss)})")
            plain = measured_run(theirs, root, env)
            progress(f"{name}: vanilla Pelican {plain.seconds:.2f} s (CPU {plain.cpu:.2f} s, {mib(plain.peak_rss)})")
            if number < warmup:
                continue
            synthetic.edit_post(shop, number)
            warm = measured_run(ours, root, env)
            progress(f"{name}: Vetrina warm {warm.seconds:.2f} s ({warm.seconds / cold.seconds:.2f} of cold)")
            bare = None
            if search_cost:
                for path in (output, cache):
                    shutil.rmtree(path, ignore_errors=True)
                bare = measured_run(unsearched, root, env)
                progress(f"{name}: Vetrina cold without the search index {bare.seconds:.2f} s (CPU {bare.cpu:.2f} s)")
            done.append(Round(cold, plain, warm, bare))
        served = None
        if done and shop.posts:
            progress("serve: building, then saving one post and fetching its page until the edit shows")
            served = measure_serve(root, shop, settings, folder / "serve-output", env)
            progress(f"serve: the edited page live after {served.live:.2f} s, the whole build after "
                     f"{served.built:.2f} s")
    return Summary(posts, products, tuple(done), served)


def measure_serve(root: Path, shop, settings: Path, output: Path, env: dict, timeout: float = 1800) -> Served:
    """Start `serve` on the shop (core.warm serve), save one post, and time until its page is served with the
    edit (fetched over HTTP every 20 ms) and until the server says the whole build is in."""
    import queue
    import subprocess
    import threading
    import urllib.request

    from comments.server import free_port, stop

    from . import synthetic

    port = free_port()
    command = [sys.executable, "-m", "core.warm", "serve", str(shop.folder), "-s", str(settings), "-o", str(output),
               "--port", str(port), "--root", str(root)]
    env = {name: value for name, value in env.items() if name != "VETRINA_PHASES"}
    process = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()

    def wait_for(prefix: str, until: float) -> float:
        while True:
            try:
                line = lines.get(timeout=max(0.01, until - time.monotonic()))
            except queue.Empty:
                raise BenchError(f"serve did not print {prefix!r} in time") from None
            if line.startswith(prefix):
                return time.monotonic()

    try:
        wait_for("Serving on", time.monotonic() + timeout)
        time.sleep(1.0)  # the watcher's first look at the files
        path = synthetic.edit_post(shop, 1000)
        saved = time.monotonic()
        marker = "Revisione del testo numero 1000."
        url = f"http://127.0.0.1:{port}/{shop.post_urls[0].lstrip('/')}"
        live = None
        while live is None and time.monotonic() - saved < timeout:
            try:
                with urllib.request.urlopen(url, timeout=5) as answer:
                    if marker in answer.read().decode("utf-8", "replace"):
                        live = time.monotonic() - saved
            except OSError:
                pass
            if live is None:
                time.sleep(0.02)
        if live is None:
            raise BenchError(f"the edit of {path.name} never showed at {url}")
        built = wait_for("Built in", saved + timeout) - saved
        return Served(live, built)
    finally:
        stop(process)


class BenchOptionError(BenchError):
    """A bench option that makes no sense (the command line's fault, exit code 2)."""


def shapes_of(posts: int, products: int, sizes: str) -> list[tuple[int, int]]:
    """The (posts, products) of each synthetic shop to measure; BenchError for options that make no sense."""
    try:
        shapes = [(int(size), int(size)) for size in sizes.split(",")] if sizes else [(int(posts), int(products))]
    except ValueError:
        raise BenchOptionError(f"--sizes {sizes}: write whole numbers separated by commas, e.g. --sizes 500,2000") from None
    if any(sum(shape) < 1 or min(shape) < 0 for shape in shapes):
        raise BenchOptionError("the sizes must be at least 1 (and --posts, --products not negative)")
    return shapes


def bench_shops(root: Path, shapes: list[tuple[int, int]], *, rounds: int, warmup: int, images: str,
                comments: str, seed: int, chart: str, progress, search_cost: str = "on") -> None:
    """Measure each synthetic shop and print its table (then one row per size, and the chart if asked)."""
    for name, value in (("images", images), ("comments", comments), ("search-cost", search_cost)):
        if value not in ("on", "off"):
            raise BenchOptionError(f"--{name} {value}: write --{name} on or --{name} off")
    if rounds < 1:
        raise BenchOptionError("--rounds must be at least 1")
    summaries = []
    for shape in shapes:
        summary = bench_shop(root, *shape, rounds=rounds, warmup=warmup, images=images == "on",
                             comments=comments == "on", seed=seed, search_cost=search_cost == "on",
                             progress=progress)
        progress(table(summary))
        summaries.append(summary)
    if len(summaries) > 1:
        progress(sizes_table(summaries))
    if chart:
        Path(chart).write_text(chart_of(summaries), encoding="utf-8")
        progress(f"chart written to {chart}")
