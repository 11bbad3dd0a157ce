"""Search engines: robots directives, sitemap.xml and robots.txt (JSON-LD and meta tags come with the theme)."""

from .plugin import register

__all__ = ["register"]
