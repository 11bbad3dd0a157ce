"""Comments: Isso by default (self-hosted, rendered into the page at build time), giscus or Disqus behind consent."""

from .plugin import register

__all__ = ["register"]
