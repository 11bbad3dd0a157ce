"""One way to join the site's address and a page's URL, for Python and templates alike."""

from __future__ import annotations

from jinja2 import pass_context


def join(site_url: str, path: str) -> str:
    """site_url + "/" + path: absolute when site_url is ("https://x/blog/a/"), root-relative when it is ""."""
    path = str(path or "")
    if path.startswith(("http://", "https://", "mailto:", "tel:")):
        return path
    return f"{site_url.rstrip('/')}/{path.lstrip('/')}"


@pass_context
def href(context, path) -> str:
    """Jinja filter: {{ post.url|href }} is the link to it from any page (SITEURL in front)."""
    return join(context.get("SITEURL", ""), path)
