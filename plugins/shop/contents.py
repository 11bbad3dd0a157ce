"""Pelican content classes for products and keyword lists: URLs, {filename} links, templates."""

from __future__ import annotations

from pelican.contents import Content


class ProductPage(Content):
    """A product's page; the typed model is .model, and its fields read through (product.offer, ...)."""

    mandatory_properties = ("title",)
    allowed_statuses = ("published",)
    default_status = "published"
    default_template = "product"
    model = None

    def _expand_settings(self, key, klass=None):
        return super()._expand_settings(key, "shop_product")

    def __getattr__(self, name):
        model = self.__dict__.get("model")
        if model is not None and not name.startswith("_"):
            try:
                return getattr(model, name)
            except AttributeError:
                pass
        raise AttributeError(name)


class ProductListPage(Content):
    """A keyword list ("the best X under 200 €"): its products are chosen and ranked at build time."""

    mandatory_properties = ("title",)
    allowed_statuses = ("published",)
    default_status = "published"
    default_template = "product_list"

    def _expand_settings(self, key, klass=None):
        return super()._expand_settings(key, "shop_list")
