"""Settings of the shop plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from core.settings import site_settings

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
    "SHOP_SHIPPING_COUNTRIES": ["IT"],
    "SHOP_SHIPPING_CLASSES": {"standard": {"rate": "9.90", "transit_days": [1, 3]}},
    "SHOP_DEFAULT_SHIPPING_CLASS": "standard",
    "SHOP_FREE_SHIPPING_FROM": None,
    "SHOP_HANDLING_DAYS": [1, 2],
    "SHOP_RETURN_DAYS": 14,
    "SHOP_RETURN_FEES": "customer",
    "SHOP_PRICE_VALID_DAYS": 365,
    "SHOP_REVIEW_PATHS": ["reviews"],
    # Each variant's own URL: the product page with this query parameter (?variante=CL-SQS-RED), which the
    # page's picker preselects; the canonical URL and the sitemap stay the product's.
    "SHOP_VARIANT_PARAMETER": "variante",
    # The cart in the browser (localStorage, priced from cart.json): None turns it on for the email and paypal
    # checkouts; Snipcart brings its own cart, and Stripe's payment links cannot take a cart's lines.
    "SHOP_CART": None,
    "SHOP_CART_URL": "carrello/",
    "SHOP_CART_LANG_URL": "{lang}/cart/",
    # PayPal's cart upload pays this account (its e-mail or merchant ID); empty: SHOP_ORDER_EMAIL.
    "SHOP_PAYPAL_BUSINESS": "",
}
CART_CHECKOUTS = ("email", "paypal")
CHECKOUT_MODES = ("email", "snipcart", "stripe", "paypal")


class ShopConfigurationError(ValueError):
    """A shop setting is missing or wrong."""


@dataclass(frozen=True)
class ShippingClass:
    rate: Decimal
    transit_days: tuple[int, int]


def _amount(value, key: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise ShopConfigurationError(f"{key}: {value!r} is not an amount such as 9.90") from None
    if not amount.is_finite() or amount < 0:
        raise ShopConfigurationError(f"{key}: {value!r} must be 0 or more")
    return amount.quantize(Decimal("0.01"))


def _day_range(value, key: str) -> tuple[int, int]:
    if (not isinstance(value, (list, tuple)) or len(value) != 2 or not all(isinstance(v, int) for v in value)
            or not 0 <= value[0] <= value[1]):
        raise ShopConfigurationError(f"{key}: write the days as [minimum, maximum], e.g. [1, 3]")
    return (value[0], value[1])


def shipping_classes(raw) -> dict[str, ShippingClass]:
    if not isinstance(raw, dict) or not raw:
        raise ShopConfigurationError("SHOP_SHIPPING_CLASSES must map each class name to {rate, transit_days}")
    classes = {}
    for name, spec in raw.items():
        key = f"SHOP_SHIPPING_CLASSES[{name!r}]"
        if not isinstance(spec, dict):
            raise ShopConfigurationError(f"{key} must be {{rate, transit_days}}")
        classes[name] = ShippingClass(_amount(spec.get("rate"), f"{key}.rate"),
                                      _day_range(spec.get("transit_days"), f"{key}.transit_days"))
    return classes


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
    shipping_page: str
    shipping_countries: tuple[str, ...]
    shipping_classes: dict
    default_shipping_class: str
    free_shipping_from: Decimal | None
    handling_days: tuple[int, int]
    return_days: int
    return_fees: str
    price_valid_days: int
    review_paths: tuple[str, ...]
    variant_parameter: str
    cart: bool = False
    cart_url: str = "carrello/"
    cart_lang_url: str = "{lang}/cart/"
    paypal_business: str = ""

    def cart_page_url(self, lang: str, default_lang: str) -> str:
        """The cart page's URL path in a language: SHOP_CART_URL in the site's, SHOP_CART_LANG_URL in others."""
        return self.cart_url if lang == default_lang else self.cart_lang_url.format(lang=lang)

    @property
    def price_valid_until(self) -> dt.date:
        """Until when a regular price is promised to search engines: the build day plus SHOP_PRICE_VALID_DAYS."""
        return self.today + dt.timedelta(days=self.price_valid_days)

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
        order_email = get("SHOP_ORDER_EMAIL") or site_settings(settings).business.email
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
        classes = shipping_classes(get("SHOP_SHIPPING_CLASSES"))
        default_class = get("SHOP_DEFAULT_SHIPPING_CLASS")
        if default_class not in classes:
            raise ShopConfigurationError(f"SHOP_DEFAULT_SHIPPING_CLASS {default_class!r} is not in SHOP_SHIPPING_CLASSES")
        countries = tuple(get("SHOP_SHIPPING_COUNTRIES"))
        if not countries or not all(isinstance(c, str) and len(c) == 2 and c.isupper() for c in countries):
            raise ShopConfigurationError("SHOP_SHIPPING_COUNTRIES: list ISO 3166 country codes such as \"IT\"")
        free_from = get("SHOP_FREE_SHIPPING_FROM")
        return_days = get("SHOP_RETURN_DAYS")
        if not isinstance(return_days, int) or return_days < 0:
            raise ShopConfigurationError("SHOP_RETURN_DAYS must be a whole number of days")
        valid_days = get("SHOP_PRICE_VALID_DAYS")
        if not isinstance(valid_days, int) or valid_days < 1:
            raise ShopConfigurationError("SHOP_PRICE_VALID_DAYS must be a whole number of days, 1 or more")
        variant_parameter = get("SHOP_VARIANT_PARAMETER")
        if not isinstance(variant_parameter, str) or not re.fullmatch(r"[a-z][a-z0-9_-]*", variant_parameter):
            raise ShopConfigurationError("SHOP_VARIANT_PARAMETER must be a lowercase word such as \"variante\"")
        cart = _cart_on(get("SHOP_CART"), checkout)
        for key in ("SHOP_CART_URL", "SHOP_CART_LANG_URL"):
            url = get(key)
            if not isinstance(url, str) or not url.endswith("/") or url.startswith("/") or "//" in url:
                raise ShopConfigurationError(
                    f"{key} must be a path such as \"carrello/\" (no leading slash, one at the end)")
        if cart and checkout == "paypal" and not (get("SHOP_PAYPAL_BUSINESS") or order_email):
            raise ShopConfigurationError("SHOP_CART with SHOP_CHECKOUT 'paypal' needs SHOP_PAYPAL_BUSINESS "
                                         "(the PayPal account's e-mail or merchant ID)")
        if "{lang}" not in get("SHOP_CART_LANG_URL"):
            raise ShopConfigurationError("SHOP_CART_LANG_URL must contain {lang}, e.g. \"{lang}/cart/\"")
        if get("SHOP_RETURN_FEES") not in ("customer", "free"):
            raise ShopConfigurationError("SHOP_RETURN_FEES must be 'customer' or 'free'")
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
            shipping_page=get("SHOP_SHIPPING_PAGE"),
            shipping_countries=countries,
            shipping_classes=classes,
            default_shipping_class=default_class,
            free_shipping_from=_amount(free_from, "SHOP_FREE_SHIPPING_FROM") if free_from is not None else None,
            handling_days=_day_range(get("SHOP_HANDLING_DAYS"), "SHOP_HANDLING_DAYS"),
            return_days=return_days,
            return_fees=get("SHOP_RETURN_FEES"),
            price_valid_days=valid_days,
            review_paths=tuple(get("SHOP_REVIEW_PATHS")),
            variant_parameter=variant_parameter,
            cart=cart,
            cart_url=get("SHOP_CART_URL"),
            cart_lang_url=get("SHOP_CART_LANG_URL"),
            paypal_business=get("SHOP_PAYPAL_BUSINESS") or order_email,
        )


def _cart_on(value, checkout: str) -> bool:
    """SHOP_CART: None follows the checkout; True is refused where the checkout cannot take a cart."""
    if value is None:
        return checkout in CART_CHECKOUTS
    if not isinstance(value, bool):
        raise ShopConfigurationError(
            "SHOP_CART must be True, False or None (None: on with the email and paypal checkouts)")
    if value and checkout not in CART_CHECKOUTS:
        reason = ("Snipcart has a cart of its own" if checkout == "snipcart"
                  else "a Stripe payment link sells fixed items, not a cart's lines")
        raise ShopConfigurationError(f"SHOP_CART is True but SHOP_CHECKOUT is {checkout!r}: {reason}; "
                                     "set SHOP_CART = None or use the email or paypal checkout")
    return value
