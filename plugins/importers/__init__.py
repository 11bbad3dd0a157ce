"""WordPress (WXR) and WooCommerce (CSV) import into a shop, and the redirects that keep the old URLs alive."""

from .plugin import register

__all__ = ["register"]
