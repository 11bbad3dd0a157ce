"""Development settings of the demo shop: the one place where its settings are defined.

The engine's settings (URLs, plugins, theme, feeds, caches) come first, the same for every shop; what follows is
the demo shop's own. A shop made with `vetrina init` has a pelicanconf.py of the same shape.
"""

import os
import sys

sys.path.append(os.path.dirname(os.path.abspath(__file__)))

from engine.defaults import *  # noqa: E402,F403

# --- Site -------------------------------------------------------------------
SITENAME = "Corde & Legni"
SITESUBTITLE = "Strumenti musicali usati e ricondizionati, controllati in laboratorio"
SITE_DESCRIPTION = (
    "Chitarre, bassi, violini e pianoforti digitali usati e ricondizionati a Bologna: "
    "ogni strumento controllato in laboratorio, con guide e consigli di cura."
)
AUTHOR = "Redazione Corde & Legni"
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
# Languages whose UI catalogue is shipped in theme/translations.
SITE_LANGUAGES = ("it", "en")

# --- The business behind the shop (footer, legal pages, structured data) ----
BUSINESS_NAME = "Corde & Legni"
BUSINESS_LEGAL_NAME = "Corde & Legni S.r.l."
BUSINESS_STREET = "Via del Pratello 41"
BUSINESS_POSTAL_CODE = "40122"
BUSINESS_CITY = "Bologna"
BUSINESS_REGION = "BO"
BUSINESS_COUNTRY = "IT"
BUSINESS_VAT_ID = "IT03947120378"
BUSINESS_EMAIL = "ciao@cordeelegni.example"
BUSINESS_PHONE = "+39 051 000 0000"

# --- Shop -------------------------------------------------------------------
SHOP_CURRENCY = "EUR"
SHOP_ORDER_EMAIL = "ordini@cordeelegni.example"
# Shipping: the shop-wide policy is the default class; products of other classes declare their own.
SHOP_SHIPPING_COUNTRIES = ["IT"]
SHOP_SHIPPING_CLASSES = {
    "strumenti": {"rate": "19.90", "transit_days": [1, 3]},
    "accessori": {"rate": "6.90", "transit_days": [1, 3]},
    "pianoforti": {"rate": "29.90", "transit_days": [1, 3]},
}
SHOP_DEFAULT_SHIPPING_CLASS = "strumenti"
SHOP_FREE_SHIPPING_FROM = "150.00"
SHOP_HANDLING_DAYS = [1, 2]
# Returns: days of the withdrawal right; who pays the return shipping ("customer" or "free").
SHOP_RETURN_DAYS = 14
SHOP_RETURN_FEES = "customer"

# --- Search engines -----------------------------------------------------------
# Authors that are not a person (an editorial team) are marked as an Organization.
SEO_ORGANIZATION_AUTHORS = ["Redazione Corde & Legni"]

