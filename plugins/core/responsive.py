"""Responsive images: WebP copies of content images at a few widths, made once and cached.

Templates ask for an image's sources while rendering (which also records the request); when the build
is finished the copies are written from the cache, or made with Pillow and cached.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from .images import image_size
from .parallel import map_chunks

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

    def sources(self, src: str) -> list[tuple[str, int]]:
        """(URL path, width) of each WebP copy of src; an empty list when src is not a raster image."""
        if src not in self.requested:
            source = self.content_dir / src
            size = image_size(source) if source.suffix.lower() in (".jpg", ".jpeg", ".png") and source.is_file() else None
            widths = tuple(w for w in WIDTHS if size and w < size[0]) + ((size[0],) if size else ())
            self.requested[src] = widths
        return [(derivative_path(src, width), width) for width in self.requested[src]]

    def write(self, output_dir: Path) -> int:
        """Put every requested copy in the output; returns how many had to be made."""
        missing: dict[Path, tuple[Path, int]] = {}  # cached copy -> (source, width); same bytes, one copy
        copies = []
        for src, widths in self.requested.items():
            source = self.content_dir / src
            digest = hashlib.sha256(source.read_bytes()).hexdigest()[:20]
            for width in widths:
                cached = self.cache_dir / f"{digest}-{width}.webp"
                if not cached.is_file():
                    missing.setdefault(cached, (source, width))
                copies.append((cached, output_dir / derivative_path(src, width)))
        jobs = [(source, cached, width) for cached, (source, width) in missing.items()]
        for (source, _, _), problem in zip(jobs, map_chunks(make_webps, None, jobs, self.workers)):
            if problem is not None:
                raise ImageError(f"{source}: cannot be read as an image ({problem})")
        for cached, target in copies:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(cached, target)
        return len(jobs)


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
