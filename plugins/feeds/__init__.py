"""Feeds written with feedgen: posts (Atom and RSS), categories and tags, products, the newsletter, Merchant Center."""

from .plugin import register

__all__ = ["register"]
