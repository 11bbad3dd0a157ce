"""Checks of the content as a whole: links, images and URL slugs after reading; one file per output while writing.

Each problem is logged as one error naming the source file (and its line where known). When a check explains
a warning Pelican itself logs without naming the file, the record says so (`supersedes`), and the build's
report shows only the better line.
"""

from __future__ import annotations

import functools
import html
import logging
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

from pelican.contents import Content
from pelican.urlwrappers import URLWrapper
from pelican.writers import Writer

from . import problems, security, text

logger = logging.getLogger(__name__)

# The link kinds Pelican resolves against a content file, and where it looks them up.
LINK_TARGETS = {"filename": "generated_content", "static": "static_content", "attach": "static_content"}


def check_content(context: dict) -> None:
    """Every post, page, product and list read by this build: links, images and URL slugs."""
    scheduled = {os.path.abspath(path): when for path, when in context.get("scheduled_items", {}).items()}
    static_files = StaticFiles(context)
    for item in writings(context):
        if os.path.abspath(item.source_path) in scheduled:
            continue  # held back: not written by this build
        source = SourceText(item.source_path)
        check_links(item, context, scheduled, source)
        check_images(item, static_files, source)
        check_slugs(item, source)


def writings(context: dict) -> list[Content]:
    """The content objects this build writes (drafts too, where they are written), in path order."""
    items = context.get("generated_content", {})
    return [items[key] for key in sorted(items)
            if isinstance(items[key], Content) and items[key].source_path and items[key].save_as]


class SourceText:
    """A source file's text, read only when a problem needs its line."""

    def __init__(self, path: str):
        self.path = path
        self._text = None

    @property
    def text(self) -> str:
        if self._text is None:
            try:
                self._text = Path(self.path).read_bytes().decode("utf-8", errors="replace")
            except OSError:
                self._text = ""
        return self._text

    def where(self, line: int | None) -> str:
        return f"{self.path}:{line}" if line else self.path

    def at(self, needle: str) -> str:
        return self.where(problems.text_line(self.text, needle))

    def at_field(self, field: str) -> str:
        return self.where(problems.field_line(self.text, field))


# --- {filename}, {static} and {attach} links ---------------------------------------------------------------

def check_links(item: Content, context: dict, scheduled: dict, source: SourceText) -> None:
    """Each intrasite link of the body must reach a file of this build, and not one held back for later.

    A draft may link to what goes live with it (a launch post): its preview shows such links without an
    address (see preview_scheduled_links); a published item that links to a scheduled one is an error.
    """
    content_path = context["PATH"]
    if getattr(item, "status", None) == "draft" and scheduled:
        item._content = preview_scheduled_links(item, content_path, scheduled)
    for match in item._get_intrasite_link_regex().finditer(item._content or ""):
        what = match.group("what")
        if what not in LINK_TARGETS:
            continue  # {tag}, {category}, {author}, {index}: names, not files
        value = urlparse(match.group("value"))
        if not value.path:
            continue
        candidates = link_candidates(item, value)
        image = match.group("markup").lstrip().lower().startswith("<img")
        written = f"{{{what}}}{match.group('value')}"
        target = os.path.join(content_path, candidates[0])
        pelican_says = (f"Unable to find '{value.geturl()}', skipping url replacement.",
                        f"Cannot get modification stamp for {os.path.abspath(target)}")
        held = held_target(candidates, content_path, scheduled)
        if held:
            logger.error("%s: links to %s, scheduled for %s: publish them together or remove the link",
                         source.at(match.group("value")), held, problems.offset_time(scheduled[held]),
                         extra={"supersedes": pelican_says})
        elif unwritten := next((context["generated_content"][c] for c in candidates if what == "filename"
                                and getattr(context["generated_content"].get(c), "save_as", True) == ""), None):
            logger.error("%s: links to %s, which this build does not write (status %s): publish it or remove "
                         "the link", source.at(match.group("value")), unwritten.source_path, unwritten.status)
        elif not any(_reaches(c, what, context) for c in candidates):
            thing = "image" if image else "link"
            logger.error("%s: %s %s: there is no file %s; correct the path or remove the %s",
                         source.at(match.group("value")), thing, written, target, thing,
                         extra={"supersedes": pelican_says})


# An intrasite match's markup that is an <a> start tag up to its href (not data-href), and a title.
ANCHOR_HREF = re.compile(r"^\s*<a\s.*?(?<![\w-])href\s*=\s*$", re.IGNORECASE | re.DOTALL)
HREF_AT_END = re.compile(r"(?<![\w-])href\s*=\s*$", re.IGNORECASE)
TITLE_ATTRIBUTE = re.compile(r"(?<![\w-])title\s*=", re.IGNORECASE)


def held_target(candidates: list[str], content_path: str, scheduled: dict) -> str | None:
    """The absolute source path of the scheduled item a link's candidate paths name, if any."""
    paths = (os.path.abspath(os.path.join(content_path, candidate)) for candidate in candidates)
    return next((path for path in paths if path in scheduled), None)


def preview_scheduled_links(item: Content, content_path: str, scheduled: dict) -> str:
    """A draft's body where each <a> to a scheduled item keeps its text but has no href yet, and says when.

    The preview has no page to link to (its address would be a broken link there), and the draft itself is
    never published. Only the link's own start tag changes, through the very pattern Pelican replaces links
    with, so the rest of the body stays byte for byte as written.
    """
    def unlink(match) -> str:
        markup = match.group("markup")
        if match.group("what") not in LINK_TARGETS or not ANCHOR_HREF.match(markup):
            return match.group(0)
        held = held_target(link_candidates(item, urlparse(match.group("value"))), content_path, scheduled)
        if held is None:
            return match.group(0)
        start = markup[: HREF_AT_END.search(markup).start()].rstrip()
        rest = match.string[match.end(): match.string.find(">", match.end())]
        if TITLE_ATTRIBUTE.search(start + rest):
            return start  # the writer's own title stays
        when = html.escape(f"Scheduled: goes live on {problems.offset_time(scheduled[held])}")
        return f'{start} title="{when}"'

    return item._get_intrasite_link_regex().sub(unlink, item._content or "")


def _reaches(path: str, what: str, context: dict) -> bool:
    """Whether a link's path inside the content folder is a file of this build."""
    if path in context[LINK_TARGETS[what]] and context[LINK_TARGETS[what]][path] is not None:
        # Pelican records a {static} link to a missing file as a static file too: the file must exist.
        return what == "filename" or os.path.isfile(os.path.join(context["PATH"], path))
    return what == "filename" and path in context["static_content"]  # Pelican warns: use {static}


def link_candidates(item: Content, value) -> list[str]:
    """The paths inside the content folder a link value may mean, tried in Pelican's order."""
    paths = [value.path, unquote(value.path), urlparse(html.unescape(value.geturl())).path]
    found = []
    for path in paths:
        if path.startswith("/"):
            path = path[1:]
        else:
            path = item.get_relative_source_path(os.path.join(item.relative_dir, path))
        if path not in found:
            found.append(path)
    return found


# --- images in bodies ---------------------------------------------------------------------------------------

class StaticFiles:
    """The files a build copies: the content's static files (by output path) and the theme's."""

    def __init__(self, context: dict):
        self.outputs = {static.save_as for static in context.get("static_content", {}).values()}
        self.outputs |= {static.url for static in context.get("static_content", {}).values()}
        self.static_paths = list(context.get("STATIC_PATHS", []))
        self.theme = Path(context["THEME"])
        self.theme_dir = context.get("THEME_STATIC_DIR", "theme").strip("/")
        self.theme_paths = list(context.get("THEME_STATIC_PATHS", ["static"]))
        self.site_url = (context.get("SITEURL") or "").rstrip("/")
        # Images from elsewhere: the build's security policy (img-src) says which origins a page may load.
        self.content_path = context["PATH"]
        self.self_origin = security.site_origin(context)
        try:
            self.image_sources = security.policy(context).sources("img-src")
        except security.SecurityPolicyError:
            self.image_sources = security.BASE_DIRECTIVES["img-src"]  # the policy's error is reported with _headers

    def site_path(self, src: str) -> str | None:
        """The path inside the site of a root-relative or absolute src of this site; None for other sources."""
        if self.site_url and src.startswith(self.site_url + "/"):
            src = src[len(self.site_url):]
        if not src.startswith("/") or src.startswith("//"):
            return None
        return unquote(urlparse(src).path).lstrip("/")

    def foreign(self, src: str) -> str | None:
        """What is wrong with a src that is not a path of this site (from elsewhere, or inline data), else None.

        Such an image is loaded from another server, which learns the address of everyone who reads the page,
        and the security policy's img-src refuses it unless SITE_CSP_EXTRA allows its origin."""
        url = f"https:{src}" if src.startswith("//") else src  # protocol-relative: https on the shop
        parts = urlparse(url)
        if not parts.scheme:
            return None  # relative to the page: on this site
        if security.allows(self.image_sources, url, self.self_origin):
            return None
        folder = self.static_paths[0] if self.static_paths else "images"
        into = f"{os.path.join(self.content_path, folder, '')} and write /{folder}/{suggested_name(parts)}"
        if parts.scheme == "data":
            return (f"{src[:30]}…: an image written into the page, which the security policy's img-src refuses; "
                    f"save it as a file in {into}")
        try:
            origin = security.origin_of(url)
        except security.SecurityPolicyError:
            return f"{src}: not an address on the web; copy the file into {into}"
        return (f"{src}: from another site, which the security policy's img-src refuses (and which would see the "
                f"address of every reader); copy it into {into}, or allow {origin} in SITE_CSP_EXTRA['img-src']")

    def exists(self, path: str) -> bool:
        if path in self.outputs:
            return True
        prefix = self.theme_dir + "/"
        if path.startswith(prefix):
            rest = path[len(prefix):]
            return any((self.theme / folder / rest).is_file() for folder in self.theme_paths)
        return False


def suggested_name(parts) -> str:
    """A file name for a copy of an image from elsewhere: the URL's own, or its-name with the data's type."""
    if parts.scheme == "data":
        kind = parts.path.split(";")[0].split(",")[0].lower()  # data:image/png;base64,...
        return "its-name." + {"image/jpeg": "jpg", "image/svg+xml": "svg"}.get(kind, kind.rpartition("/")[2] or "jpg")
    name = parts.path.rsplit("/", 1)[-1]
    return name if "." in name else "its-name.jpg"


# Comments and the raw text of script and style hold no images; an <img> tag's quoted values may hold ">".
_NOT_MARKUP = re.compile(text.NOT_MARKUP, re.IGNORECASE | re.DOTALL)
_IMG_TAG = re.compile(r"<img\b" + text.TAG_REST, re.IGNORECASE)


class _ImageSources(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found.append(dict(attrs).get("src") or "")

    handle_startendtag = handle_starttag


def image_sources(markup: str) -> list[str]:
    """The src of each <img> of an HTML fragment, entities decoded, in order: only its img tags are parsed."""
    parser = _ImageSources()
    parser.feed("".join(_IMG_TAG.findall(_NOT_MARKUP.sub("", markup))))
    parser.close()
    return parser.found


def check_images(item: Content, static_files: StaticFiles, source: SourceText) -> None:
    """Each <img> of the body that points into the site must be one of the files the build copies."""
    if "<img" not in (item._content or "").lower():
        return
    for src in image_sources(item._content):
        src = src.strip()
        if src.startswith("{"):
            continue  # {static}, {attach}: checked with the links
        path = static_files.site_path(src)
        if path is None:
            problem = static_files.foreign(src)
            if problem:
                logger.error("%s: image %s", source.at(src), problem)
            continue
        if static_files.exists(path):
            continue
        folders = ", ".join(static_files.static_paths) or "none"
        logger.error("%s: image %s: no such file in the content's static folders (%s) or in the theme; "
                     "add the file or correct the path", source.at(src), src, folders)


# --- URL slugs of tags, categories and authors -------------------------------------------------------------

def check_slugs(item: Content, source: SourceText) -> None:
    """A tag, category or author must have letters or digits: its page's URL is made from them."""
    named = [("tags", tag) for tag in getattr(item, "tags", None) or []]
    named += [("category", getattr(item, "category", None))]
    named += [("author", author) for author in getattr(item, "authors", None) or []]
    for field, wrapper in named:
        if wrapper is None or wrapper.slug:
            continue
        kind = type(wrapper).__name__
        logger.error("%s: field '%s': %r has no letter or digit to make its page's address from; rename it",
                     source.at_field(field), field, wrapper.name,
                     extra={"supersedes": f'Unable to generate valid slug for {kind} "{wrapper.name}".'})


# --- one file per output --------------------------------------------------------------------------------------

class LogCount(logging.Handler):
    """Counts the records from level up while it is attached (what a page's render or a preview logged)."""

    def __init__(self, level=logging.INFO):
        super().__init__(level)
        self.count = 0

    def emit(self, record):
        self.count += 1


class OutputGuard(Writer):
    """Pelican's writer, but a second write to one file is an error naming both writers, and the build goes on.

    The guard sees the exact file of every write (paginated pages and the shop's listings included) just
    before it is opened; planning the outputs ahead would repeat each generator's URL rules.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._claims: dict[str, tuple[str | None, str]] = {}
        self._writing: tuple[str | None, str] = (None, "another output")
        self._recorded: list | None = None  # the writes of the generator being written, rendered at its end
        from . import rendercache

        self._cache = rendercache.of_build(self.settings, self.output_path)  # this build's render records (before any fork)
        self._opened: list[str] | None = None  # the files the write being rendered opened

    # Both cores (core.pagepool): a generator's writes are recorded, then rendered in runs, one per core.
    def record_writes(self) -> None:
        self._recorded = []

    def render_recorded(self, workers: int) -> None:
        from . import pagepool

        writes, self._recorded = self._recorded, None
        if writes:  # None: not recording, or already rendered (at the generator's *_writer_finalized signal)
            self._cache.prepare(writes[0].context)
            pagepool.render(self, writes, workers)

    def drop_recorded(self) -> None:
        self._recorded = None

    def write_file(self, name, template, context, *args, **kwargs):
        if self._recorded is not None:
            from .pagepool import Write, pages_of

            # The context as it is now: a generator may change its own between two writes.
            self._recorded.append(Write(name, template, context.copy(), args, kwargs,
                                        pages_of(self.settings, args, kwargs)))
            return None
        return self._write_file_now(name, template, context, *args, **kwargs)

    def write_now(self, write) -> None:
        self._write_file_now(write.name, write.template, write.context, *write.args, **write.kwargs)

    def mark(self) -> tuple:
        """This writer's files now (in a fork, before its run)."""
        return len(self._claims), frozenset(self._written_files), frozenset(self._overridden_files)

    def additions(self, mark) -> tuple:
        """What a fork's writes added since mark: the files claimed (in order), written and overridden."""
        claims, written, overridden = mark
        return (list(self._claims.items())[claims:], sorted(self._written_files - written),
                sorted(self._overridden_files - overridden))

    def take(self, additions) -> bool:
        """A fork's files, unless it wrote one this process wrote too: then its run is rendered here again,
        after this process's own, so that the second write is reported (or overrides) as in a serial build."""
        claims, written, overridden = additions
        if not self._written_files.isdisjoint(written):
            return False
        self._claims.update(claims)
        self._written_files.update(written)
        self._overridden_files.update(overridden)
        return True

    def _write_file_now(self, name, template, context, *args, **kwargs):
        self._writing = claimant(template, kwargs)
        try:
            cache = self._cache
            if not cache.enabled:
                return super().write_file(name, template, context, *args, **kwargs)
            # A page saved where its own save_as says (a translated page's /en/withdrawal/) overrides: its kept
            # files are claimed as overridden, as Pelican's writer marks those it writes.
            override = bool(kwargs.get("override_output") or len(args) > 3 and args[3])
            key = cache.key(name, template, context, args, kwargs)
            if cache.keep(name, key, functools.partial(self._claim_kept, override=override), context):
                return None
            marks, logged = cache.begin(context), LogCount()  # a page that logged is rendered every build
            self._opened = []
            logging.getLogger().addHandler(logged)
            try:
                result = super().write_file(name, template, context, *args, **kwargs)
            finally:
                logging.getLogger().removeHandler(logged)
            cache.record(name, None if logged.count else key, marks, self._opened, context)
            return result
        finally:
            self._writing = (None, "another output")
            self._opened = None

    def _claim_kept(self, filenames: list[str], override: bool = False) -> bool:
        """Claim files kept from the last build as written (and overridden, for an overriding write); False (and
        none claimed) when this build already wrote one of them: then the write is rendered, and the second
        write reported (or overrides) as it would be."""
        if not self._written_files.isdisjoint(filenames):
            return False
        for filename in filenames:
            self._claims.setdefault(filename, self._writing)
            self._written_files.add(filename)
            if override:
                self._overridden_files.add(filename)
        return True

    def _open_w(self, filename, encoding, override=False):
        if self._opened is not None:
            self._opened.append(filename)
        if not override and filename in self._written_files and filename not in self._overridden_files:
            if "" not in (self._claims[filename][0], self._writing[0]):
                report_collision(os.path.relpath(filename, self.output_path), self._claims[filename],
                                 self._writing)
            return open(os.devnull, "w", encoding=encoding)  # the first one stays; the build goes on
        self._claims.setdefault(filename, self._writing)
        return super()._open_w(filename, encoding, override)


def claimant(template, variables: dict) -> tuple[str | None, str]:
    """(source file or None, description) of what a write_file call writes; ("", ...) when already reported."""
    for value in variables.values():
        source = getattr(value, "source_path", None)
        if isinstance(source, str) and source:
            return source, source
        if isinstance(value, URLWrapper) and not value.slug:
            return "", f"the page of {type(value).__name__.lower()} {value.name!r}"  # see check_slugs
    name = getattr(template, "name", None) or "a template"
    return None, f"the theme's {name} template"


def report_collision(output: str, first: tuple[str | None, str], second: tuple[str | None, str]) -> None:
    """One error for two things written to one output file, on the source file that can be renamed."""
    owner = second if second[0] else first
    other = first if owner is second else second
    if owner[0] is None:
        logger.error("output %s: written twice, from %s and from %s", output, first[1], second[1])
        return
    where = SourceText(owner[0]).at_field("slug")
    logger.error("%s: field 'slug': its output %s is also %s; give %s another Slug",
                 where, output, f"written for {other[1]}" if other[0] else f"written from {other[1]}",
                 "one of them" if other[0] else "it")
