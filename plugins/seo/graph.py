"""Assemble a page's JSON-LD graph from the content objects the page renders and the shop's catalogue."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

from core.rendering import clean_path, listing_page, rendered_item
from core.urls import join

from . import schema


@dataclass(frozen=True)
class PageFacts:
    """What the page is, as its template states it: the breadcrumb trail, its name and description."""

    trail: tuple = ()
    name: str = ""
    description: str = ""


def page_url(context) -> str:
    """The URL of the page being rendered (its canonical URL in production)."""
    return join(context["SITEURL"], clean_path(context.get("output_file", "")))


def shop_policies(site: schema.Site, context) -> tuple[dict | None, dict | None]:
    """The shop-wide return and shipping policies, declared once on the Organization."""
    shop = context.get("shop")
    if shop is None:
        return None, None
    config = shop.settings
    policy_page = next((p for p in context.get("pages", []) if p.slug == config.shipping_page), None)
    returns = schema.return_policy(site, config.return_days, config.shipping_countries,
                                   config.return_fees == "customer",
                                   join(context["SITEURL"], policy_page.url) if policy_page else None)
    default = config.shipping_classes[config.default_shipping_class]
    shipping = schema.shipping_service(site, config.default_shipping_class, default.rate, config.currency,
                                       config.shipping_countries, config.free_shipping_from, config.handling_days,
                                       default.transit_days)
    return returns, shipping


@dataclass(frozen=True)
class SiteNodes:
    """What every page of a build declares alike: the Organization (with its policies) and the WebSite."""

    organization: dict
    website: dict
    returns: dict | None


def site_nodes(site: schema.Site, context) -> SiteNodes:
    returns, shipping = shop_policies(site, context)
    return SiteNodes(schema.organization(site, returns, shipping), schema.website(site), returns)


def listed_urls(context) -> list[str] | None:
    listing = listing_page(context)
    return [join(context["SITEURL"], item.url) for item in listing.object_list] if listing is not None else None


def _plain(value) -> str:
    return value.unescape() if isinstance(value, Markup) else str(value or "")


def product_nodes(site, context, product, url, title, description, lang, breadcrumb_id, returns) -> list[dict]:
    shop = context["shop"]
    absolute = lambda path: join(context["SITEURL"], path)  # noqa: E731
    images = [absolute(image.src) for image in product.images]
    terms = schema.OfferTerms(shop.price_valid_until, returns["@id"] if returns else None)
    node = schema.product(site, product, url=url, images=images, absolute=absolute, terms=terms,
                          shipping_for=lambda sold: shop.shipping(product, sold.offer))
    return [schema.webpage(site, url, "ItemPage", title, description, lang, breadcrumb_id, images[0], node["@id"]),
            node]


def article_nodes(site, context, article, url, title, description, lang, breadcrumb_id, config) -> list[dict]:
    absolute = lambda path: join(context["SITEURL"], path)  # noqa: E731
    image = schema.image_object(absolute(article.image), article.image_size) \
        if getattr(article, "image", None) else None
    authors = [schema.person_or_organization(a.name, absolute(a.url), a.name in config.organization_authors)
               for a in article.authors]
    posting = schema.blog_posting(
        site, url=url, headline=article.title, description=description, lang=lang, published=article.date,
        modified=getattr(article, "modified", None), authors=authors, image=image,
        keywords=[str(tag) for tag in getattr(article, "tags", [])], section=str(article.category),
        mentions=[f"{absolute(p.url)}#product" for p in getattr(article, "mentions", [])])
    return [schema.webpage(site, url, "WebPage", title, description, lang, breadcrumb_id,
                           image["url"] if image else None, posting["@id"]), posting]


def build(context, facts: PageFacts, site: schema.Site, config, common: SiteNodes | None = None) -> dict:
    """The page's graph; common is site_nodes() computed once for the build (shared, never mutated)."""
    url = page_url(context)
    article, page, product = context.get("article"), context.get("page"), context.get("product")
    item = rendered_item(context)
    lang = getattr(item, "lang", None) or context.get("DEFAULT_LANG")
    common = common or site_nodes(site, context)
    returns = common.returns
    nodes = [common.organization, common.website]
    breadcrumb_id = None
    if facts.trail:
        crumbs = [(site.name, f"{site.url}/")] + [(_plain(name), join(context["SITEURL"], link))
                                                   for name, link in facts.trail]
        nodes.append(schema.breadcrumb_list(url, crumbs))
        breadcrumb_id = f"{url}#breadcrumb"
    title = str(getattr(item, "title", "") or _plain(facts.name) or site.name)
    description = getattr(item, "description", "") or _plain(facts.description)
    if product is not None:
        nodes += product_nodes(site, context, product, url, title, description, lang, breadcrumb_id, returns)
    elif article is not None:
        nodes += article_nodes(site, context, article, url, title, description, lang, breadcrumb_id, config)
    else:
        products = getattr(page, "products", None) if page is not None else None
        urls = [join(context["SITEURL"], p.url) for p in products] if products is not None else listed_urls(context)
        if urls is not None:
            list_node = schema.item_list(url, urls)
            nodes += [schema.webpage(site, url, "CollectionPage", title, description, lang, breadcrumb_id,
                                     main_entity=list_node["@id"]), list_node]
        else:
            kind = config.page_types.get(getattr(page, "slug", None), "WebPage")
            nodes.append(schema.webpage(site, url, kind, title, description, lang, breadcrumb_id))
    return {"@context": schema.CONTEXT, "@graph": nodes}
