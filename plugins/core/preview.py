"""`serve`'s first answer to a saved post or page: its own page, rendered at once, before the whole build.

The kept build process (core.warm) holds on to the last good build's generators. When only a few posts or
pages changed, each is read again and rendered alone with that build's context, and its file replaces the
served one (written beside it, then renamed over it, so a visitor never gets half a page). What the page
takes from the rest of the site (related items, mentions, the listings) is the last build's; the whole
build that follows at once renders everything as usual and is swapped in when it succeeds. A file that is
not a post or a page, or anything that goes wrong here, is simply left to that build.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path

from pelican import signals
from pelican.contents import Article, Page
from pelican.writers import Writer

from .integrity import LogCount

logger = logging.getLogger(__name__)

MAX_PREVIEWED = 5  # more files changed at once than this: a checkout or a copy, not an edit; the build alone


class LastBuild:
    """The generators of the last build of this process, kept for previews (None until one finished)."""

    def __init__(self):
        self.generators: list | None = None
        self._pending: list | None = None
        signals.all_generators_finalized.connect(self._take, weak=False)

    def _take(self, generators) -> None:
        self._pending = list(generators)

    def finished(self, succeeded: bool) -> None:
        """A build ended: its generators are kept when it succeeded (a failed build's context may be partial)."""
        if succeeded and self._pending is not None:
            self.generators = self._pending
        self._pending = None

    def preview(self, paths: list[str], output: str) -> list[str]:
        """Render each changed post or page into output at once; the files written (relative to output)."""
        if not self.generators or not paths or len(paths) > MAX_PREVIEWED:
            return []
        written = []
        for path in paths:
            problems = LogCount(logging.WARNING)
            logging.getLogger().addHandler(problems)
            try:
                written += self._one(os.path.abspath(path), Path(output), problems)
            except Exception as error:  # noqa: BLE001 - a preview is a courtesy: the whole build follows anyway
                logger.debug("No preview of %s: %s", path, error)
            finally:
                logging.getLogger().removeHandler(problems)
        return written

    def _find(self, path: str):
        for generator in self.generators:
            for name in ("articles", "translations", "pages", "hidden_pages", "hidden_translations"):
                for item in getattr(generator, name, None) or []:
                    if getattr(item, "source_path", None) == path and isinstance(item, (Article, Page)):
                        return generator, item
        return None, None

    def _one(self, path: str, output: Path, problems: LogCount) -> list[str]:
        generator, old = self._find(path)
        if old is None:
            return []
        relative = os.path.relpath(path, generator.path)
        new = generator.readers.read_file(base_path=generator.path, path=relative, content_class=type(old),
                                          context=generator.context)
        if new is None or new.save_as != old.save_as or getattr(new, "status", "") != getattr(old, "status", ""):
            return []  # moved, or no longer published: only the whole build gets that right
        for name, value in vars(old).items():  # what the build adds after reading (related items, comments...)
            if name not in vars(new) or name == "translations":
                setattr(new, name, value)
        staging = Path(tempfile.mkdtemp(prefix=".preview-", dir=output.parent))
        try:
            writer = Writer(str(staging), settings=generator.settings)
            template = generator.get_template(new.template)
            if isinstance(new, Article):
                writer.write_file(new.save_as, template, generator.context, article=new, category=new.category,
                                  url=new.url, blog=True)
            else:
                writer.write_file(new.save_as, template, generator.context, page=new,
                                  relative_urls=generator.settings["RELATIVE_URLS"], url=new.url)
            if problems.count:
                return []  # a page with a problem is never served: the build reports it, the last good page stays
            written = []
            for file in staging.rglob("*"):
                if file.is_file():
                    name = file.relative_to(staging).as_posix()
                    target = output / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(file, target)
                    written.append(name)
            return written
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def changed_sources(before: dict[str, int], after: dict[str, int]) -> list[str]:
    """The files added or modified between two snapshots (removals are the whole build's)."""
    return sorted(path for path, stamp in after.items() if before.get(path) != stamp)


def snapshot(content: Path) -> dict[str, int]:
    """Each post or page source under content, by its modification time."""
    from .rendercache import content_files

    return {path: info.st_mtime_ns for path, info in content_files(content, pages=True)}
