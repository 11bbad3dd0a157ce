"""Settings of the shop plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

from .model import CURRENCIES

DEFAULTS = {
    "SHOP_CURRENCY": "EUR",
    "SHOP_PRODUCT_PATHS": ["products"],
    "SHOP_LIST_PATHS": ["lists"],
    "SHOP_PRODUCT_URL": "prodotti/{slug}/",
    "SHOP_PRODUCT_SAVE_AS": "prodotti/{slug}/index.html",
    "SHOP_CATALOG_URL": "prodotti/",
    "SHOP_CATEGORY_URL": "prodotti/categoria/{slug}/",
    "SHOP_PRODUCT_LANG_URL": "{lang}/prodotti/{slug}/",
    "SHOP_PRODUCT_LANG_SAVE_AS": "{lang}/prodotti/{slug}/index.html",
    "SHOP_LIST_URL": "prodotti/selezioni/{slug}/",
    "SHOP_LIST_SAVE_AS": "prodotti/selezioni/{slug}/index.html",
    "SHOP_LIST_LANG_URL": "{lang}/prodotti/selezioni/{slug}/",
    "SHOP_LIST_LANG_SAVE_AS": "{lang}/prodotti/selezioni/{slug}/index.html",
    "SHOP_SORT_URL": "prodotti/ordine/{slug}/",
    "SHOP_PAGINATION": 12,
    "SHOP_HOME_FEATURED": 4,
    "SHOP_RELATED_COUNT": 3,
    "SHOP_CHECKOUT": "email",
    "SHOP_ORDER_EMAIL": "",
    "SHOP_SNIPCART_API_KEY": "",
    "SHOP_SNIPCART_VERSION": "3.7.1",
    "SHOP_TODAY": None,
    "SHOP_SHIPPING_PAGE": "spedizioni-e-resi",
}
CHECKOUT_MODES = ("email", "snipcart", "stripe", "paypal")


class ShopConfigurationError(ValueError):
    """A shop setting is missing or wrong."""


@dataclass(frozen=True)
class ShopSettings:
    currency: str
    product_paths: tuple[str, ...]
    list_paths: tuple[str, ...]
    product_url: str
    product_save_as: str
    catalog_url: str
    category_url: str
    list_url: str
    sort_url: str
    pagination: int
    home_featured: int
    related_count: int
    checkout: str
    order_email: str
    snipcart_api_key: str
    snipcart_version: str
    today: dt.date

    @classmethod
    def from_settings(cls, settings: dict) -> "ShopSettings":
        def get(key):
            return settings.get(key, DEFAULTS[key])

        currency = str(get("SHOP_CURRENCY")).upper()
        if currency not in CURRENCIES:
            raise ShopConfigurationError(f"SHOP_CURRENCY {currency!r} is not an ISO 4217 currency code")
        checkout = get("SHOP_CHECKOUT")
        if checkout not in CHECKOUT_MODES:
            raise ShopConfigurationError(f"SHOP_CHECKOUT {checkout!r}: use one of {', '.join(CHECKOUT_MODES)}")
        order_email = get("SHOP_ORDER_EMAIL") or settings.get("BUSINESS_EMAIL", "")
        if checkout == "email" and "@" not in order_email:
            raise ShopConfigurationError("SHOP_CHECKOUT 'email' needs SHOP_ORDER_EMAIL (or BUSINESS_EMAIL)")
        api_key = get("SHOP_SNIPCART_API_KEY") or os.environ.get("SNIPCART_API_KEY", "")
        if checkout == "snipcart" and not api_key:
            raise ShopConfigurationError(
                "SHOP_CHECKOUT 'snipcart' needs the public API key in SHOP_SNIPCART_API_KEY or $SNIPCART_API_KEY")
        for key in ("SHOP_PAGINATION", "SHOP_HOME_FEATURED", "SHOP_RELATED_COUNT"):
            if not isinstance(get(key), int) or get(key) < 0:
                raise ShopConfigurationError(f"{key} must be a whole number, 0 or more")
        today = get("SHOP_TODAY")
        if isinstance(today, str):
            today = dt.date.fromisoformat(today)
        return cls(
            currency=currency,
            product_paths=tuple(get("SHOP_PRODUCT_PATHS")),
            list_paths=tuple(get("SHOP_LIST_PATHS")),
            product_url=get("SHOP_PRODUCT_URL"),
            product_save_as=get("SHOP_PRODUCT_SAVE_AS"),
            catalog_url=get("SHOP_CATALOG_URL"),
            category_url=get("SHOP_CATEGORY_URL"),
            list_url=get("SHOP_LIST_URL"),
            sort_url=get("SHOP_SORT_URL"),
            pagination=get("SHOP_PAGINATION") or 12,
            home_featured=get("SHOP_HOME_FEATURED"),
            related_count=get("SHOP_RELATED_COUNT"),
            checkout=checkout,
            order_email=order_email,
            snipcart_api_key=api_key,
            snipcart_version=get("SHOP_SNIPCART_VERSION"),
            today=today or dt.date.today(),
        )
