"""Find a WordPress media URL's file in a copy of wp-content/uploads: by its path below uploads/, else by name."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

# WordPress's derived copies: `photo-300x200.jpg` (a thumbnail size), `photo-scaled.jpg` (big images since 5.3),
# `photo-e1598012345678.jpg` (an image edited in the media library), `photo-rotated.jpg`.
_DERIVED = re.compile(r"-(?:\d+x\d+|scaled|rotated|e\d{10,})$")


def below_uploads(url: str) -> str | None:
    """The URL's path below its last `uploads/` folder (`2020/01/photo.jpg`), or None when it has none."""
    path = unquote(urlsplit(str(url)).path)
    marker = "/uploads/"
    if marker not in path:
        return None
    return path.rsplit(marker, 1)[1].strip("/") or None


def originals(name: str) -> list[str]:
    """The file name, then the names of the originals it may be a derived copy of (`-300x200`, `-scaled`)."""
    path = PurePosixPath(name)
    names, stem = [path.name], path.stem
    while True:
        shorter = _DERIVED.sub("", stem)
        if shorter == stem or not shorter:
            return names
        stem = shorter
        names.append(stem + path.suffix)


class Uploads:
    """An index of every file under the uploads folder, built once (linear in the files)."""

    def __init__(self, root: Path | None):
        self.root = Path(root) if root else None
        self.by_path: dict[str, Path] = {}
        self.by_name: dict[str, list[Path]] = defaultdict(list)
        if self.root and self.root.is_dir():
            for path in sorted(self.root.rglob("*")):
                if path.is_file():
                    relative = path.relative_to(self.root).as_posix()
                    self.by_path[relative.lower()] = path
                    self.by_name[path.name.lower()].append(path)

    def find(self, url: str) -> Path | None:
        """The file for a media URL: the original rather than a resized copy when both exist."""
        if not self.root:
            return None
        relative = below_uploads(url)
        if relative:
            folder = PurePosixPath(relative).parent
            for name in reversed(originals(relative)):
                found = self.by_path.get((folder / name).as_posix().lower())
                if found:
                    return found
        name = PurePosixPath(unquote(urlsplit(str(url)).path)).name
        for candidate in reversed(originals(name)):
            found = self.by_name.get(candidate.lower())
            if found:
                return found[0]
        return None


class ImageCopier:
    """Copies each media file an import uses into content/images/wp/ once, and answers its new path."""

    FOLDER = "images/wp"

    def __init__(self, session, uploads: Uploads, content: str = "content"):
        self.session, self.uploads, self.content = session, uploads, content.strip("/")
        self.done: dict[str, str | None] = {}

    def local(self, url: str) -> str | None:
        """`images/wp/2020/01/photo.jpg` (relative to content/) for a media URL, or None when not found."""
        url = str(url or "").strip()
        if not url:
            return None
        if url not in self.done:
            self.done[url] = self._copy(url)
        return self.done[url]

    def _copy(self, url: str) -> str | None:
        found = self.uploads.find(url)
        if found is None:
            return None
        relative = found.relative_to(self.uploads.root).as_posix()
        data = found.read_bytes()
        wanted = f"{self.content}/{self.FOLDER}/{relative}"
        path = self.session.path_for(f"image:{relative}", wanted, data)
        self.session.copy_file(f"image:{relative}", path, found)
        return path[len(self.content) + 1:]
