"""Make page HTML safe for feed readers and e-mail: absolute URLs, no responsive or lazy attributes, no scripts."""

from __future__ import annotations

from urllib.parse import urljoin

from bs4 import BeautifulSoup

URL_ATTRIBUTES = {"a": "href", "img": "src", "source": "src", "video": "poster", "audio": "src"}
DROPPED_TAGS = ("script", "iframe", "noscript", "style", "form", "object", "embed")
DROPPED_ATTRIBUTES = ("srcset", "sizes", "loading", "decoding", "fetchpriority")


def email_safe(html: str, base_url: str) -> str:
    """HTML whose every link and image is an absolute URL, without srcset, lazy loading or scripts."""
    soup = BeautifulSoup(html or "", "html.parser")
    for tag in soup.find_all(DROPPED_TAGS):
        tag.decompose()
    for picture in soup.find_all("picture"):
        for source in picture.find_all("source"):
            source.decompose()
        picture.unwrap()
    for tag in soup.find_all(True):
        for attribute in list(tag.attrs):
            if attribute in DROPPED_ATTRIBUTES or attribute.startswith("data-"):
                del tag[attribute]
        attribute = URL_ATTRIBUTES.get(tag.name)
        if attribute and tag.get(attribute) and not tag[attribute].startswith(("mailto:", "tel:", "#")):
            tag[attribute] = urljoin(base_url, tag[attribute])
        elif attribute and tag.get(attribute, "").startswith("#"):
            tag[attribute] = urljoin(base_url, tag[attribute])
    return str(soup)

