"""Responsive images: WebP copies of content images at a few widths, made once and cached.

Templates ask for an image's sources while rendering (which also records the request); a copy the cache
lacks is handed at once to a side worker (core.parallel.Sidecar), which encodes it on the second core while
this process renders on; when the build is finished the copies are written from the cache.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from .images import image_size
from .parallel import Sidecar, map_chunks

WIDTHS = (240, 480, 800, 1200)
WEBP_QUALITY = 72


class ImageError(ValueError):
    """A content image cannot be read."""


def derivative_path(src: str, width: int) -> str:
    """images/posts/a.jpg, 480 -> images/posts/a-480w.webp"""
    path = Path(src)
    return path.with_name(f"{path.stem}-{width}w.webp").as_posix()


class ResponsiveImages:
    """One per build: the images templates asked for, and the widths each can offer."""

    def __init__(self, content_dir: Path, cache_dir: Path, workers: int = 1):
        self.content_dir = content_dir
        self.cache_dir = cache_dir
        self.workers = workers  # processes that encode the missing copies (1: this one)
        self.requested: dict[str, tuple[int, ...]] = {}
        self.trail: list[str] | None = None  # every image the page being rendered asks for (core.rendercache)
        self._sources: dict[str, list[tuple[str, int]]] = {}  # src -> its sources, worked out once per build
        self.copies: list[tuple[Path, str]] = []  # (cached copy, its path in the output)
        self.missing: dict[Path, tuple[Path, int]] = {}  # cached copy to make -> (source, width); same bytes, one copy
        self.sidecar = Sidecar(make_webps) if workers > 1 else None
        self._prefetched: set[str] = set()

    def __getstate__(self):
        # Pelican's content cache pickles the settings, this register among them; its worker stays here.
        return {**self.__dict__, "sidecar": None}

    def sources(self, src: str) -> list[tuple[str, int]]:
        """(URL path, width) of each WebP copy of src; an empty list when src is not a raster image."""
        if self.trail is not None:
            self.trail.append(src)
        if self.sidecar is not None and self.sidecar.sent:
            self.sidecar.exchange()  # a copy made: hand the worker the next (a poll, not a wait)
        known = self._sources.get(src)
        if known is None:
            source = self.content_dir / src
            widths = widths_of(source)
            self.requested[src] = widths
            known = self._sources[src] = [(derivative_path(src, width), width) for width in widths]
            self._plan(src, source, widths)
        return known

    def _plan(self, src: str, source: Path, widths: tuple[int, ...]) -> None:
        for cached, width in self._encode_ahead(source, widths):
            self.copies.append((cached, derivative_path(src, width)))

    def _encode_ahead(self, source: Path, widths: tuple[int, ...]) -> list[tuple[Path, int]]:
        """(cached copy, width) of each width; the copies the cache lacks handed to the side worker."""
        if not widths:
            return []
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:20]
        planned = []
        for width in widths:
            cached = self.cache_dir / f"{digest}-{width}.webp"
            planned.append((cached, width))
            if cached not in self.missing and not cached.is_file():
                self.missing[cached] = (source, width)
                if self.sidecar is not None:
                    self.sidecar.submit(cached, (source, cached, width))
        return planned

    def prefetch(self, srcs) -> None:
        """Start encoding, into the cache, the copies of images pages will ask for (items' own images, known
        once the content is read), so the side worker has them from the first page on. Only the sources()
        pages ask for go into the output."""
        if self.sidecar is None:
            return
        for src in srcs:
            if src and src not in self._sources and src not in self._prefetched:
                self._prefetched.add(src)
                source = self.content_dir / src
                self._encode_ahead(source, widths_of(source))

    def write(self, output_dir: Path) -> int:
        """Put every requested copy in the output; returns how many had to be made."""
        jobs = [(source, cached, width) for cached, (source, width) in self.missing.items()]
        if self.sidecar is not None:
            made = self.sidecar.finish()
            # A copy the side worker has no answer for (planned where it could not be handed over) is made here:
            # slower, never missing.
            problems = [made[cached] if cached in made else make_webps(None, [(source, cached, width)])[0]
                        for source, cached, width in jobs]
        else:
            problems = map_chunks(make_webps, None, jobs, self.workers)
        for (source, _, _), problem in zip(jobs, problems):
            if problem is not None:
                raise ImageError(f"{source}: cannot be read as an image ({problem})")
        for cached, target in self.copies:
            target = output_dir / target
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cached, target)
        return len(jobs)


def widths_of(source: Path) -> tuple[int, ...]:
    """The widths of a raster image's copies: the standard ones below its own, and its own; () for others."""
    size = image_size(source) if source.suffix.lower() in (".jpg", ".jpeg", ".png") and source.is_file() else None
    return tuple(w for w in WIDTHS if size and w < size[0]) + ((size[0],) if size else ())


def make_webps(_, jobs: list) -> list:
    """Encode each (source, cached copy, width); None for a copy made, else why it could not be."""
    problems = []
    for source, cached, width in jobs:
        try:
            make_webp(source, cached, width)
        except OSError as error:
            problems.append(str(error))
        else:
            problems.append(None)
    return problems


def make_webp(source: Path, target: Path, width: int) -> None:
    from PIL import Image

    target.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(source) as image:
        image = image.convert("RGBA" if image.mode in ("RGBA", "LA", "P") else "RGB")
        if image.width != width:
            height = round(image.height * width / image.width)
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        partial = target.with_suffix(".part")
        image.save(partial, "WEBP", quality=WEBP_QUALITY, method=6)
        partial.replace(target)
