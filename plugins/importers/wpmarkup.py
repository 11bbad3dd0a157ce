"""WordPress post content (classic or block editor) as clean, valid HTML with no third party in it.

Steps, in order: block comments out; shortcodes converted (caption, gallery, embed, audio, video), layout
shortcodes unwrapped, unknown ones removed and named; third-party embeds turned into links; classic content
paragraphed as WordPress does when it renders (`wpautop`); then one BeautifulSoup pass that keeps only plain
markup: no classes but `gallery`, no styles, ids, data attributes, scripts, forms or iframes, images local.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Comment, NavigableString, Tag

BLOCK_COMMENT = re.compile(r"<!--\s*/?wp:.*?-->", re.S)
MORE = re.compile(r"<!--\s*(more|nextpage|noteaser)\b.*?-->", re.S)
SHORTCODE = re.compile(r"\[(/?)([a-zA-Z][\w-]*)((?:\s[^\]]*)?)\]")
ESCAPED = re.compile(r"\[\[([^\[\]]+)\]\]")
ATTRIBUTE = re.compile(r"""([\w-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S+))""")
LAYOUT = ("vc_", "et_pb_", "fusion_", "av_", "cs_", "su_row", "su_column", "row", "column", "one_half", "one_third")
BLOCK_TAGS = ("address|article|aside|blockquote|details|div|dl|fieldset|figcaption|figure|footer|form|h[1-6]|header|"
              "hr|iframe|li|main|nav|ol|p|pre|section|table|tbody|td|tfoot|th|thead|tr|ul|audio|video|summary")
BLOCK_OPEN = re.compile(rf"(<(?:{BLOCK_TAGS})\b[^>]*>)", re.I)
BLOCK_CLOSE = re.compile(rf"(</(?:{BLOCK_TAGS})>)", re.I)
PRE = re.compile(r"<pre\b.*?</pre>", re.S | re.I)
PROVIDERS = {
    "youtube.com": "Guarda il video su YouTube", "youtu.be": "Guarda il video su YouTube",
    "vimeo.com": "Guarda il video su Vimeo", "instagram.com": "Vedi il post su Instagram",
    "facebook.com": "Vedi il post su Facebook", "twitter.com": "Vedi il post su X", "x.com": "Vedi il post su X",
    "tiktok.com": "Guarda il video su TikTok", "soundcloud.com": "Ascolta su SoundCloud",
    "spotify.com": "Ascolta su Spotify",
}
EMBED_LINE = re.compile(r"^\s*(https?://(?:www\.|m\.|open\.)?(?:" + "|".join(re.escape(host) for host in PROVIDERS)
                        + r")/\S+)\s*$", re.M)
KEEP_REL = {"nofollow", "sponsored", "ugc"}
DROP = ("script", "style", "form", "noscript", "input", "button", "select", "textarea", "object", "embed", "svg")
UNWRAP = ("font", "center", "div", "span", "section", "article", "main", "header", "footer")
INLINE = {"a", "abbr", "b", "br", "cite", "code", "del", "em", "i", "img", "ins", "kbd", "mark", "q", "s", "small",
          "span", "strong", "sub", "sup", "time", "u", "var"}
MEDIA_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg")


@dataclass
class Cleaned:
    html: str
    removed_shortcodes: list[str] = field(default_factory=list)
    embeds: list[str] = field(default_factory=list)
    missing_images: list[str] = field(default_factory=list)


def attributes(text: str) -> dict:
    return {m.group(1).lower(): html.unescape(next(g for g in m.groups()[1:] if g is not None))
            for m in ATTRIBUTE.finditer(text or "")}


def embed_label(url: str) -> str:
    host = urlsplit(url).netloc.lower().removeprefix("www.").removeprefix("m.").removeprefix("open.")
    return next((label for name, label in PROVIDERS.items() if host == name or host.endswith("." + name)),
                "Apri il contenuto esterno")


def embed_link(url: str, cleaned: Cleaned) -> str:
    cleaned.embeds.append(url)
    return f'\n\n<p><a href="{html.escape(url)}">{html.escape(embed_label(url))}</a></p>\n\n'


class _Shortcodes:
    """Shortcodes of one post, outside <pre>: each converted, unwrapped or removed."""

    def __init__(self, cleaned: Cleaned, attachment):
        self.cleaned, self.attachment = cleaned, attachment

    def run(self, text: str) -> str:
        parts = PRE.split(text)
        blocks = PRE.findall(text)
        out = [self._convert(part) + (blocks[i] if i < len(blocks) else "") for i, part in enumerate(parts)]
        return "".join(out)

    def _convert(self, text: str) -> str:
        while True:
            match = self._next(text)
            if match is None:
                return text
            start, end, replacement = match
            text = text[:start] + replacement + text[end:]

    def _next(self, text: str):
        for match in SHORTCODE.finditer(text):
            closing, name, raw = match.group(1), match.group(2).lower(), match.group(3)
            if closing:
                return match.start(), match.end(), ""  # a stray closing tag
            close = re.search(rf"\[/{re.escape(match.group(2))}\]", text[match.end():])
            inner = text[match.end():match.end() + close.start()] if close else None
            end = match.end() + close.end() if close else match.end()
            return match.start(), end, self._replace(name, attributes(raw), inner)
        return None

    def _replace(self, name: str, attrs: dict, inner: str | None) -> str:
        if name in ("caption", "wp_caption"):
            soup = BeautifulSoup(inner or "", "html.parser")
            image = soup.find("img")
            caption = soup.get_text(" ", strip=True) or attrs.get("caption", "")
            for tag in soup.find_all(["img", "a"]):
                if tag.name == "img" or tag.find("img"):
                    tag.extract()
            figure = str(image or "") + (f"<figcaption>{html.escape(caption)}</figcaption>" if caption else "")
            return f"\n\n<figure>{figure}</figure>\n\n"
        if name == "gallery":
            images = [self.attachment(int(i)) for i in re.findall(r"\d+", attrs.get("ids", ""))]
            figures = "".join(f'<figure><img src="{html.escape(url)}" alt="{html.escape(alt)}"></figure>'
                              for url, alt in filter(None, images))
            return f'\n\n<figure class="gallery">{figures}</figure>\n\n' if figures else ""
        if name == "embed":
            url = (inner or attrs.get("src", "")).strip()
            return embed_link(url, self.cleaned) if url else ""
        if name in ("audio", "video"):
            src = next((attrs[key] for key in ("src", "mp3", "mp4", "m4a", "ogg", "webm", "wav") if key in attrs), "")
            return f'\n\n<{name} controls src="{html.escape(src)}"></{name}>\n\n' if src else ""
        if name.startswith(LAYOUT):
            return inner or ""
        if name not in self.cleaned.removed_shortcodes:
            self.cleaned.removed_shortcodes.append(name)
        return ""


def autop(text: str) -> str:
    """Paragraphs from blank-line separated text, `<br>` for single newlines; block elements never wrapped."""
    pres = []

    def keep(match):
        pres.append(match.group(0))
        return f"\n\n<pre data-keep=\"{len(pres) - 1}\"></pre>\n\n"

    text = PRE.sub(keep, text.replace("\r\n", "\n").replace("\r", "\n"))
    text = BLOCK_CLOSE.sub(r"\1\n\n", BLOCK_OPEN.sub(r"\n\n\1", text))
    chunks, depth, current = [], 0, []
    for piece in re.split(r"\n\s*\n", text):
        piece = piece.strip()
        if not piece:
            continue
        opened = len(BLOCK_OPEN.findall(piece)) - len(BLOCK_CLOSE.findall(piece))
        if depth or BLOCK_OPEN.match(piece) or BLOCK_CLOSE.match(piece):
            current.append(piece)
        else:
            current.append("<p>" + piece.replace("\n", "<br>\n") + "</p>")
        depth = max(0, depth + opened)
        if not depth:
            chunks.append("\n".join(current))
            current = []
    chunks += ["\n".join(current)] if current else []
    joined = "\n\n".join(chunks)
    return re.sub(r'<pre data-keep="(\d+)"></pre>', lambda m: pres[int(m.group(1))], joined)


def clean(raw: str, resolve_image: Callable[[str], str | None],
          attachment: Callable[[int], tuple[str, str] | None] = lambda number: None) -> Cleaned:
    cleaned = Cleaned("")
    text = raw or ""
    blocks = "<!-- wp:" in text
    text = MORE.sub("", BLOCK_COMMENT.sub("\n\n", text))
    escaped = []
    text = ESCAPED.sub(lambda m: escaped.append(m.group(1)) or f"\x00{len(escaped) - 1}\x00", text)
    text = _Shortcodes(cleaned, attachment).run(text)
    text = EMBED_LINE.sub(lambda m: embed_link(m.group(1), cleaned), text)
    if not blocks:
        text = autop(text)
    text = re.sub("\x00(\\d+)\x00", lambda m: "[" + html.escape(escaped[int(m.group(1))]) + "]", text)
    soup = BeautifulSoup(text, "html.parser")
    _tidy(soup, cleaned, resolve_image)
    cleaned.html = _serialise(soup)
    return cleaned


def _tidy(soup: BeautifulSoup, cleaned: Cleaned, resolve_image) -> None:
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()
    for tag in soup.find_all(DROP):
        tag.decompose()
    for frame in soup.find_all("iframe"):
        src = frame.get("src", "")
        frame.replace_with(BeautifulSoup(embed_link(src, cleaned), "html.parser") if src.startswith("http") else "")
    for figure in soup.find_all("figure"):
        classes = figure.get("class") or []
        if any("wp-block-embed" in name for name in classes):
            link = figure.find("a", href=True)  # its URL on a line of its own was made a link already
            if link is not None:
                figure.replace_with(BeautifulSoup(f"<p>{link}</p>", "html.parser"))
            else:
                url = figure.get_text(" ", strip=True).split(" ")[0]
                figure.replace_with(BeautifulSoup(embed_link(url, cleaned) if url else "", "html.parser"))
        elif any(name in ("wp-block-gallery", "gallery", "blocks-gallery-grid") for name in classes):
            figure["class"] = ["gallery"]
    for spacer in soup.find_all(class_="wp-block-spacer"):
        spacer.decompose()
    for image in soup.find_all("img"):
        _image(image, cleaned, resolve_image)
    for media in soup.find_all(["audio", "video", "source"]):
        local = resolve_image(media.get("src", "")) if media.get("src") else None
        if media.get("src") and local is None:
            media.replace_with(BeautifulSoup(embed_link(media["src"], cleaned), "html.parser"))
        elif local:
            media["src"] = "{static}/" + local
    for tag in soup.find_all(True):
        _attributes(tag)
    for tag in soup.find_all(UNWRAP):
        tag.unwrap()
    _wrap_loose_inline(soup)
    for paragraph in soup.find_all("p"):
        if not paragraph.get_text(strip=True) and not paragraph.find(["img", "audio", "video"]):
            paragraph.decompose()
        elif paragraph.find(["figure", "table", "ul", "ol", "blockquote", "p", "pre", "hr", "audio", "video"]):
            paragraph.unwrap()  # never block content inside a <p>
    _wrap_loose_inline(soup)


def _image(image: Tag, cleaned: Cleaned, resolve_image) -> None:
    src = image.get("src", "")
    local = resolve_image(src) if src else None
    link = image.parent if image.parent is not None and image.parent.name == "a" else None
    if link is not None and urlsplit(link.get("href", "")).path.lower().endswith(MEDIA_SUFFIXES):
        link.unwrap()  # "link to media file": the image is enough
    alt = image.get("alt", "")
    if local is None:
        cleaned.missing_images.append(src)
        image.replace_with(BeautifulSoup(f"<span>{html.escape(alt)}</span>", "html.parser") if alt else "")
        return
    for name in list(image.attrs):
        if name not in ("src", "alt", "width", "height"):
            del image[name]
    image["src"], image["alt"] = "{static}/" + local, alt


def _attributes(tag: Tag) -> None:
    for name in list(tag.attrs):
        value = tag.attrs[name]
        if name == "class":
            if tag.name == "figure" and "gallery" in value:
                tag["class"] = ["gallery"]
            else:
                del tag[name]
        elif name in ("style", "id", "align", "target", "border", "cellpadding", "cellspacing", "bgcolor") \
                or name.startswith(("data-", "on", "aria-")) and name != "aria-label":
            del tag[name]
        elif name == "rel":
            kept = [word for word in value if word in KEEP_REL]
            if kept:
                tag["rel"] = kept
            else:
                del tag[name]
        elif name == "href" and str(value).strip().lower().startswith(("javascript:", "data:", "vbscript:")):
            del tag[name]
        elif tag.name not in ("img", "a", "audio", "video", "source", "td", "th", "ol", "time", "abbr", "q",
                              "blockquote", "del", "ins") and name not in ("lang", "dir", "title"):
            del tag[name]
    if tag.name in ("td", "th"):
        for name in list(tag.attrs):
            if name not in ("colspan", "rowspan", "scope"):
                del tag[name]


def _wrap_loose_inline(soup) -> None:
    """Text and inline elements left at the top level (after unwrapping layout divs) go into paragraphs."""
    run: list = []

    def flush():
        if any((isinstance(n, NavigableString) and n.strip()) or isinstance(n, Tag) for n in run):
            paragraph = soup.new_tag("p")
            run[0].insert_before(paragraph)
            for node in run:
                paragraph.append(node.extract())
        run.clear()

    for node in list(soup.contents):
        if (isinstance(node, NavigableString) and not isinstance(node, Comment)) or \
                (isinstance(node, Tag) and node.name in INLINE):
            run.append(node)
        else:
            flush()
    flush()


def _serialise(soup) -> str:
    blocks = []
    for node in soup.contents:
        text = node.decode(formatter="html5").strip() if isinstance(node, Tag) else str(node).strip()
        if text:
            blocks.append(text)
    return "\n\n".join(blocks)
