"""schema.org nodes as Python dicts, for one connected JSON-LD @graph per page. Pure: no I/O, no signals.

Every node that others point to has an @id under the site's URL, so a page's graph is connected:
WebPage -> isPartOf WebSite -> publisher Organization; Product offers -> seller Organization; and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

CONTEXT = "https://schema.org"


@dataclass(frozen=True)
class Site:
    """The shop's identity, from settings."""

    url: str
    name: str
    legal_name: str
    lang: str
    logo: str
    logo_size: tuple[int, int]
    email: str
    phone: str
    street: str
    postal_code: str
    city: str
    region: str
    country: str
    vat_id: str
    same_as: tuple[str, ...]
    languages: tuple[str, ...]

    @property
    def organization_id(self) -> str:
        return f"{self.url}/#organization"

    @property
    def website_id(self) -> str:
        return f"{self.url}/#website"


def ref(node_id: str) -> dict:
    return {"@id": node_id}


def money(amount: Decimal) -> str:
    """Prices as Google reads them: a dot and two decimals, as text (never a float)."""
    return f"{amount:.2f}"


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
        "legalName": site.legal_name,
        "email": site.email,
        "telephone": site.phone,
        "vatID": site.vat_id,
        "sameAs": list(site.same_as),
    }
    node.update({key: value for key, value in optional.items() if value})
    if site.street:
        node["address"] = {
            "@type": "PostalAddress", "streetAddress": site.street, "postalCode": site.postal_code,
            "addressLocality": site.city, "addressRegion": site.region, "addressCountry": site.country,
        }
    if site.email or site.phone:
        contact = {"@type": "ContactPoint", "contactType": "customer service", "availableLanguage": list(site.languages)}
        contact.update({key: value for key, value in (("email", site.email), ("telephone", site.phone)) if value})
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
        "returnPolicyCountry": site.country,
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


def offer_shipping(rate: Decimal, currency: str, countries, handling, transit) -> dict:
    """OfferShippingDetails for a product that does not follow the shop-wide shipping policy."""
    return {
        "@type": "OfferShippingDetails",
        "shippingRate": {"@type": "MonetaryAmount", "value": money(rate), "currency": currency},
        "shippingDestination": [{"@type": "DefinedRegion", "addressCountry": c} for c in countries],
        "deliveryTime": {"@type": "ShippingDeliveryTime", "handlingTime": days(*handling),
                         "transitTime": days(*transit)},
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


def blog_posting(site: Site, url: str, headline: str, description: str, lang: str, published, modified,
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


def offer(site: Site, item, url: str, condition_url: str, shipping: dict | None, valid_until=None,
          return_policy_id: str | None = None) -> dict:
    """An Offer from the shop's Offer record: the same amount the page, the button and the feeds show.

    valid_until: how long a regular price is promised (a sale's own end wins).
    """
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
    if item.on_sale:
        node["priceSpecification"] = [
            {"@type": "UnitPriceSpecification", "price": money(item.price), "priceCurrency": item.currency},
            {"@type": "UnitPriceSpecification", "priceType": "https://schema.org/StrikethroughPrice",
             "price": money(item.regular_price), "priceCurrency": item.currency},
        ]
    until = item.sale_ends if item.on_sale and item.sale_ends else valid_until
    if until:
        node["priceValidUntil"] = until.isoformat()
    if shipping:
        node["shippingDetails"] = shipping
    if return_policy_id:
        node["hasMerchantReturnPolicy"] = ref(return_policy_id)
    return node


def identifiers(gtin: str, mpn: str) -> dict:
    found = {}
    if gtin:
        found["gtin"] = gtin
    if mpn:
        found["mpn"] = mpn
    return found


def product(site: Site, model, url: str, images: list[str], shipping_for, variant_options: dict,
            variant_image, offer_extra: dict, rating: dict | None = None) -> dict:
    """Product with one Offer, or ProductGroup with a Product per variant (Google's variant markup).

    offer_extra: valid_until and return_policy_id for every Offer; rating: aggregateRating and review.
    """
    condition_url = model.condition.schema_url
    common = {"name": model.title, "description": model.summary, "image": images, "category": str(model.category)}
    if model.brand:
        common["brand"] = {"@type": "Brand", "name": model.brand}
    if rating:
        common.update(rating)
    node_id = f"{url}#product"
    if not model.variants:
        return {"@type": "Product", "@id": node_id, **common, "sku": model.sku,
                **identifiers(model.gtin, model.mpn), "itemCondition": condition_url,
                "offers": offer(site, model.offer, url, condition_url, shipping_for(model.offer), **offer_extra)}
    variants = []
    for variant in model.variants:
        node = {
            "@type": "Product",
            "@id": f"{url}#variant-{variant.sku}",
            "name": f"{model.title} – {variant.name}",
            "description": model.summary,
            "sku": variant.sku,
            "inProductGroupWithID": model.sku,
            "image": [variant_image(variant)],
            "itemCondition": condition_url,
            **identifiers(variant.gtin, variant.mpn),
            **{key: value for key, value in variant.options.items()},
            "offers": offer(site, variant.offer, url, condition_url, shipping_for(variant.offer), **offer_extra),
        }
        for key in ("brand", "aggregateRating", "review"):
            if key in common:
                node[key] = common[key]
        variants.append(node)
    # The group also lists every variant's Offer, so a product snippet for the page has its prices too.
    return {"@type": "ProductGroup", "@id": node_id, **common, "sku": model.sku, "productGroupID": model.sku,
            "variesBy": [variant_options[key] for key in model.varies_by], "hasVariant": variants,
            "offers": [variant["offers"] for variant in variants]}


def rating(reviews, product_name: str) -> dict:
    """aggregateRating and review for a product, from its published reviews."""
    if not reviews:
        return {}
    average = sum(review.rating for review in reviews) / len(reviews)
    return {
        "aggregateRating": {"@type": "AggregateRating", "ratingValue": f"{average:.1f}", "bestRating": 5,
                            "worstRating": 1, "ratingCount": len(reviews), "reviewCount": len(reviews)},
        "review": [{
            "@type": "Review",
            "name": review.title,
            "reviewBody": review.text,
            "datePublished": review.date.isoformat(),
            "author": {"@type": "Person", "name": review.author},
            "reviewRating": {"@type": "Rating", "ratingValue": review.rating, "bestRating": 5, "worstRating": 1},
        } for review in reviews],
    }
