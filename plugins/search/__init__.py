"""Site search with Pagefind: an index of the catalogue and the posts, with product facets, and a search page."""

from .plugin import register

__all__ = ["register"]
