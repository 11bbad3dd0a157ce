"""Assemble a page's JSON-LD graph from what the page is rendering (its Jinja context and breadcrumb trail)."""

from __future__ import annotations

from decimal import Decimal

from markupsafe import Markup

from core.rendering import clean_path, listing_page, rendered_item

from . import schema

VARIANT_OPTIONS = {
    "color": "https://schema.org/color",
    "size": "https://schema.org/size",
    "material": "https://schema.org/material",
    "pattern": "https://schema.org/pattern",
}


def page_url(context) -> str:
    """The URL of the page being rendered (its canonical URL in production)."""
    return f"{context['SITEURL']}/{clean_path(context.get('output_file', ''))}"


def absolute(context, url: str) -> str:
    if url.startswith(("http://", "https://")):
        return url
    return f"{context['SITEURL']}/{url.lstrip('/')}"


def shop_policies(site: schema.Site, context) -> tuple[dict | None, dict | None]:
    """The shop-wide return and shipping policies, declared once on the Organization."""
    shop = context.get("SHOP_CONFIG")
    if shop is None:
        return None, None
    policy_page = next((p for p in context.get("pages", []) if p.slug == shop.shipping_page), None)
    returns = schema.return_policy(site, shop.return_days, shop.shipping_countries, shop.return_fees == "customer",
                                   absolute(context, policy_page.url) if policy_page else None)
    default = shop.shipping_classes[shop.default_shipping_class]
    shipping = schema.shipping_service(site, shop.default_shipping_class, default.rate, shop.currency,
                                       shop.shipping_countries, shop.free_shipping_from, shop.handling_days,
                                       default.transit_days)
    return returns, shipping


def product_shipping(context, page):
    """OfferShippingDetails for each offer: the product's shipping class, free above the threshold,
    nothing to pay and no transit for a digital product."""
    shop = context["SHOP_CONFIG"]
    model = page.model
    if model.digital:
        return lambda offer: schema.offer_shipping(Decimal("0"), offer.currency, shop.shipping_countries, (0, 0), (0, 0))
    shipping_class = shop.shipping_classes[model.shipping_class]

    def details(offer):
        free = shop.free_shipping_from is not None and offer.price >= shop.free_shipping_from
        rate = Decimal("0") if free else shipping_class.rate
        return schema.offer_shipping(rate, offer.currency, shop.shipping_countries, shop.handling_days,
                                     shipping_class.transit_days)

    return details


def listed_urls(context) -> list[str] | None:
    listing = listing_page(context)
    return [absolute(context, item.url) for item in listing.object_list] if listing is not None else None


def build(context, trail, site: schema.Site, config, page_title: str = "", page_description: str = "") -> dict:
    url = page_url(context)
    article, page, product = context.get("article"), context.get("page"), context.get("product")
    item = rendered_item(context)
    lang = getattr(item, "lang", None) or context.get("DEFAULT_LANG")
    returns, shipping = shop_policies(site, context)
    nodes = [schema.organization(site, returns, shipping), schema.website(site)]
    breadcrumb_id = None
    if trail:
        crumbs = [(site.name, f"{site.url}/")] + [
            (name.unescape() if isinstance(name, Markup) else str(name), absolute(context, link)) for name, link in trail]
        nodes.append(schema.breadcrumb_list(url, crumbs))
        breadcrumb_id = f"{url}#breadcrumb"
    title = str(getattr(item, "title", "") or page_title or site.name)
    description = getattr(item, "description", "") or page_description
    if product is not None:
        images = [absolute(context, image.src) for image in product.images]
        shop = context["SHOP_CONFIG"]
        offer_extra = {"valid_until": shop.price_valid_until, "return_policy_id": returns["@id"] if returns else None}
        node = schema.product(site, product.model, url, images, product_shipping(context, product), VARIANT_OPTIONS,
                              lambda v: absolute(context, (v.image or product.images[0]).src), offer_extra,
                              schema.rating(getattr(product, "reviews", []), product.title))
        nodes += [schema.webpage(site, url, "ItemPage", title, description, lang, breadcrumb_id, images[0],
                                 node["@id"]), node]
    elif article is not None:
        image = schema.image_object(absolute(context, article.image), article.image_size) \
            if getattr(article, "image", None) else None
        authors = [schema.person_or_organization(a.name, absolute(context, a.url), a.name in config.organization_authors)
                   for a in article.authors]
        mentions = [f"{absolute(context, p.url)}#product" for p in getattr(article, "mentions", [])]
        posting = schema.blog_posting(
            site, url, article.title, description, lang, article.date, getattr(article, "modified", None), authors,
            image, [str(tag) for tag in getattr(article, "tags", [])], str(article.category), mentions)
        nodes += [schema.webpage(site, url, "WebPage", title, description, lang, breadcrumb_id,
                                 image["url"] if image else None, posting["@id"]), posting]
    else:
        products = getattr(page, "products", None) if page is not None else None
        urls = [absolute(context, p.url) for p in products] if products is not None else listed_urls(context)
        if urls is not None:
            list_node = schema.item_list(url, urls)
            nodes += [schema.webpage(site, url, "CollectionPage", title, description, lang, breadcrumb_id,
                                     main_entity=list_node["@id"]), list_node]
        else:
            kind = config.page_types.get(getattr(page, "slug", None), "WebPage")
            nodes.append(schema.webpage(site, url, kind, title, description, lang, breadcrumb_id))
    return {"@context": schema.CONTEXT, "@graph": nodes}
