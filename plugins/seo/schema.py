"""schema.org nodes as Python dicts, for one connected JSON-LD @graph per page. Pure: no I/O, no signals.

Every node that others point to has an @id under the site's URL, so a page's graph is connected:
WebPage -> isPartOf WebSite -> publisher Organization; Product offers -> seller Organization; and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from core.settings import Business
from shop.catalog import VARIANT_OPTIONS, Shipping, SoldOffer, price_text, rating_of

CONTEXT = "https://schema.org"


@dataclass(frozen=True)
class Site:
    """The shop's identity: its address on the web and, from core's settings, the business behind it."""

    url: str
    lang: str
    logo: str
    logo_size: tuple[int, int]
    business: Business
    same_as: tuple[str, ...]
    languages: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.business.name

    @property
    def organization_id(self) -> str:
        return f"{self.url}/#organization"

    @property
    def website_id(self) -> str:
        return f"{self.url}/#website"


def ref(node_id: str) -> dict:
    return {"@id": node_id}


money = price_text  # prices as Google reads them: the catalogue's one serialiser ("249.00", never a float)


def days(low: int, high: int) -> dict:
    return {"@type": "QuantitativeValue", "minValue": low, "maxValue": high, "unitCode": "DAY"}


def organization(site: Site, return_policy: dict | None, shipping_service: dict | None) -> dict:
    node = {
        "@type": "OnlineStore",
        "@id": site.organization_id,
        "name": site.name,
        "url": f"{site.url}/",
        "logo": {"@type": "ImageObject", "url": site.logo, "width": site.logo_size[0], "height": site.logo_size[1]},
        "image": site.logo,
    }
    optional = {
        "legalName": site.business.legal_name,
        "email": site.business.email,
        "telephone": site.business.phone,
        "vatID": site.business.vat_id,
        "sameAs": list(site.same_as),
    }
    node.update({key: value for key, value in optional.items() if value})
    if site.business.street:
        node["address"] = {
            "@type": "PostalAddress", "streetAddress": site.business.street, "postalCode": site.business.postal_code,
            "addressLocality": site.business.city, "addressRegion": site.business.region, "addressCountry": site.business.country,
        }
    if site.business.email or site.business.phone:
        contact = {"@type": "ContactPoint", "contactType": "customer service", "availableLanguage": list(site.languages)}
        contact.update({key: value for key, value in (("email", site.business.email), ("telephone", site.business.phone)) if value})
        node["contactPoint"] = contact
    if return_policy:
        node["hasMerchantReturnPolicy"] = return_policy
    if shipping_service:
        node["hasShippingService"] = shipping_service
    return node


def return_policy(site: Site, days_to_return: int, countries: tuple[str, ...], customer_pays: bool,
                  page_url: str | None) -> dict:
    node = {
        "@type": "MerchantReturnPolicy",
        "@id": f"{site.url}/#return-policy",
        "applicableCountry": list(countries),
        "returnPolicyCountry": site.business.country,
        "returnPolicyCategory": "https://schema.org/MerchantReturnFiniteReturnWindow",
        "merchantReturnDays": days_to_return,
        "returnMethod": "https://schema.org/ReturnByMail",
        "returnFees": "https://schema.org/ReturnFeesCustomerResponsibility" if customer_pays
        else "https://schema.org/FreeReturn",
        "refundType": "https://schema.org/FullRefund",
    }
    if page_url:
        node["merchantReturnLink"] = page_url
    return node


def shipping_conditions(rate: Decimal, currency: str, countries, free_from: Decimal | None,
                        transit: tuple[int, int]) -> list[dict]:
    """One condition per order-value band: the rate below the free-shipping threshold, zero above it."""
    destination = [{"@type": "DefinedRegion", "addressCountry": country} for country in countries]
    bands = [(rate, None, free_from)] if free_from is None else [
        (rate, None, free_from - Decimal("0.01")), (Decimal("0"), free_from, None)]
    conditions = []
    for amount, low, high in bands:
        condition = {
            "@type": "ShippingConditions",
            "shippingDestination": destination,
            "shippingRate": {"@type": "MonetaryAmount", "value": money(amount), "currency": currency},
            "transitTime": {"@type": "ServicePeriod", "duration": days(*transit)},
        }
        if low is not None or high is not None:
            value = {"@type": "MonetaryAmount", "currency": currency}
            if low is not None:
                value["minValue"] = money(low)
            if high is not None:
                value["maxValue"] = money(high)
            condition["orderValue"] = value
        conditions.append(condition)
    return conditions


def shipping_service(site: Site, name: str, rate: Decimal, currency: str, countries, free_from, handling, transit):
    return {
        "@type": "ShippingService",
        "@id": f"{site.url}/#shipping",
        "name": name,
        "handlingTime": {"@type": "ServicePeriod", "duration": days(*handling)},
        "shippingConditions": shipping_conditions(rate, currency, countries, free_from, transit),
    }


def website(site: Site) -> dict:
    # No SearchAction: Google retired the sitelinks search box in November 2024.
    return {"@type": "WebSite", "@id": site.website_id, "url": f"{site.url}/", "name": site.name,
            "inLanguage": site.lang, "publisher": ref(site.organization_id)}


def webpage(site: Site, url: str, kind: str, name: str, description: str, lang: str,
            breadcrumb_id: str | None = None, image: str | None = None, main_entity: str | None = None) -> dict:
    node = {"@type": kind, "@id": f"{url}#webpage", "url": url, "name": name, "inLanguage": lang,
            "isPartOf": ref(site.website_id)}
    if description:
        node["description"] = description
    if breadcrumb_id:
        node["breadcrumb"] = ref(breadcrumb_id)
    if image:
        node["primaryImageOfPage"] = {"@type": "ImageObject", "url": image}
    if main_entity:
        node["mainEntity"] = ref(main_entity)
    return node


def breadcrumb_list(url: str, trail: list[tuple[str, str]]) -> dict:
    """trail: (name, absolute URL) from the home page to this page."""
    return {
        "@type": "BreadcrumbList",
        "@id": f"{url}#breadcrumb",
        "itemListElement": [
            {"@type": "ListItem", "position": position, "name": name, "item": item_url}
            for position, (name, item_url) in enumerate(trail, start=1)
        ],
    }


def item_list(url: str, item_urls: list[str]) -> dict:
    return {
        "@type": "ItemList",
        "@id": f"{url}#items",
        "numberOfItems": len(item_urls),
        "itemListElement": [{"@type": "ListItem", "position": position, "url": item_url}
                            for position, item_url in enumerate(item_urls, start=1)],
    }


def person_or_organization(name: str, url: str, is_organization: bool) -> dict:
    return {"@type": "Organization" if is_organization else "Person", "name": name, "url": url}


def blog_posting(site: Site, *, url: str, headline: str, description: str, lang: str, published, modified,
                 authors: list[dict], image: dict | None, keywords: list[str], section: str,
                 mentions: list[str]) -> dict:
    """mentions: the @id of each product the post shows a card of (its node lives on the product's page)."""
    node = {
        "@type": "BlogPosting",
        "@id": f"{url}#article",
        "headline": headline,
        "url": url,
        "mainEntityOfPage": ref(f"{url}#webpage"),
        "inLanguage": lang,
        "datePublished": published.isoformat(),
        "dateModified": (modified or published).isoformat(),
        "author": authors,
        "publisher": ref(site.organization_id),
        "isPartOf": ref(site.website_id),
    }
    if description:
        node["description"] = description
    if image:
        node["image"] = image
    if keywords:
        node["keywords"] = keywords
    if section:
        node["articleSection"] = section
    if mentions:
        node["mentions"] = [ref(product_id) for product_id in mentions]
    return node


def image_object(url: str, size: tuple[int, int] | None) -> dict:
    node = {"@type": "ImageObject", "url": url}
    if size:
        node["width"], node["height"] = size
    return node


@dataclass(frozen=True)
class OfferTerms:
    """What every Offer of the shop promises beside its price: until when, and under which return policy."""

    valid_until: object  # a date: how long a regular price is promised (a sale's own end wins)
    return_policy_id: str | None = None


def offer_shipping(shipping: Shipping) -> dict:
    """OfferShippingDetails of one offer, from the catalogue's shipping record."""
    return {
        "@type": "OfferShippingDetails",
        "shippingRate": {"@type": "MonetaryAmount", "value": money(shipping.rate), "currency": shipping.currency},
        "shippingDestination": [{"@type": "DefinedRegion", "addressCountry": c} for c in shipping.countries],
        "deliveryTime": {"@type": "ShippingDeliveryTime", "handlingTime": days(*shipping.handling_days),
                         "transitTime": days(*shipping.transit_days)},
    }


def offer(site: Site, sold: SoldOffer, url: str, condition_url: str, shipping: Shipping | None,
          terms: OfferTerms) -> dict:
    """An Offer from the catalogue's sold offer: the same amount the page, the button and the feeds show."""
    item = sold.offer
    node = {
        "@type": "Offer",
        "url": url,
        "sku": item.sku,
        "price": money(item.price),
        "priceCurrency": item.currency,
        "availability": item.availability.schema_url,
        "itemCondition": condition_url,
        "seller": ref(site.organization_id),
    }
    if item.available_from:
        node["availabilityStarts"] = item.available_from_text
    if item.on_sale:
        node["priceSpecification"] = [
            {"@type": "UnitPriceSpecification", "price": money(item.price), "priceCurrency": item.currency},
            {"@type": "UnitPriceSpecification", "priceType": "https://schema.org/StrikethroughPrice",
             "price": money(item.regular_price), "priceCurrency": item.currency},
        ]
    until = item.sale_ends if item.on_sale and item.sale_ends else terms.valid_until
    if until:
        node["priceValidUntil"] = until.isoformat()
    if shipping:
        node["shippingDetails"] = offer_shipping(shipping)
    if terms.return_policy_id:
        node["hasMerchantReturnPolicy"] = ref(terms.return_policy_id)
    return node


def identifiers(gtin: str, mpn: str) -> dict:
    found = {}
    if gtin:
        found["gtin"] = gtin
    if mpn:
        found["mpn"] = mpn
    return found


def product(site: Site, record, *, url: str, images: list[str], absolute, shipping_for, terms: OfferTerms) -> dict:
    """Product with one Offer, or ProductGroup with a Product per variant (Google's variant markup).

    record: the catalogue's product; shipping_for(sold offer) -> Shipping; absolute(path) -> URL.
    Each variant carries only the reviews that name its sku; the group carries all of them.
    """
    condition_url = record.condition.schema_url
    common = {"name": record.title, "description": record.summary, "image": images, "category": record.category.name}
    if record.brand:
        common["brand"] = {"@type": "Brand", "name": record.brand}
    node_id = f"{url}#product"
    sold = record.sold
    if not record.variants:
        return {"@type": "Product", "@id": node_id, **common, **rating(record.rating, record.reviews),
                "sku": record.sku, **identifiers(record.gtin, record.mpn), "itemCondition": condition_url,
                "offers": offer(site, sold[0], url, condition_url, shipping_for(sold[0]), terms)}
    variants = []
    for item in sold:
        variant = item.variant
        own_reviews = record.reviews_of(variant)
        node = {
            "@type": "Product",
            "@id": f"{url}#variant-{item.sku}",
            "name": item.name,
            "description": record.summary,
            "sku": item.sku,
            "inProductGroupWithID": record.sku,
            "image": [absolute(item.image.src)],
            "itemCondition": condition_url,
            **identifiers(item.gtin, item.mpn),
            **variant.google_options,
            "offers": offer(site, item, absolute(item.url), condition_url, shipping_for(item), terms),
        }
        if variant.free_options:
            node["additionalProperty"] = [{"@type": "PropertyValue", "name": name, "value": value}
                                          for name, value in variant.free_options.items()]
        if "brand" in common:
            node["brand"] = common["brand"]
        node.update(rating(rating_of(own_reviews), own_reviews))
        variants.append(node)
    # The group also lists every variant's Offer, so a product snippet for the page has its prices too.
    return {"@type": "ProductGroup", "@id": node_id, **common, **rating(record.rating, record.reviews),
            "sku": record.sku, "productGroupID": record.sku,
            "variesBy": [VARIANT_OPTIONS[key] for key in record.varies_by],
            "hasVariant": variants, "offers": [variant["offers"] for variant in variants]}


def rating(value, reviews) -> dict:
    """aggregateRating (the catalogue's one rounded rating) and review, from published reviews."""
    if not value or not reviews:
        return {}
    return {
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": value.value_text, "bestRating": value.best,
                            "worstRating": value.worst, "ratingCount": value.count, "reviewCount": value.count},
        "review": [{
            "@type": "Review",
            "name": review.title,
            "reviewBody": review.text,
            "datePublished": review.date.isoformat(),
            "author": {"@type": "Person", "name": review.author},
            "reviewRating": {"@type": "Rating", "ratingValue": review.rating, "bestRating": 5, "worstRating": 1},
        } for review in reviews],
    }
