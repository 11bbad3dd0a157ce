"""The storefront: products, catalogue, variants, money, product cards in posts, recommendations, checkout."""

from .plugin import register

__all__ = ["register"]
