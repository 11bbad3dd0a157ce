"""Build-time checks of a page's JSON-LD graph against Google's rules. Pure: returns findings, logs nothing.

Errors are what Google requires for merchant listings, product snippets, articles and breadcrumbs;
"recommended" is what it recommends, reported once per build as a summary per kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from babel.numbers import list_currencies

PRICE = re.compile(r"^\d+(\.\d{1,2})?$")
ISO_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?([+-]\d\d:\d\d|Z)$")
AVAILABILITY = re.compile(r"^https://schema\.org/(InStock|OutOfStock|PreOrder|BackOrder|Discontinued|InStoreOnly|"
                          r"LimitedAvailability|OnlineOnly|PreSale|SoldOut)$")
CURRENCIES = frozenset(list_currencies())


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)  # "Product: offers.price ..." (required, fails the build)
    recommended: list[tuple[str, str]] = field(default_factory=list)  # (kind, property) missing


def check_graph(graph: dict) -> Findings:
    findings = Findings()
    nodes = graph.get("@graph", [])
    ids = {node.get("@id") for node in nodes}
    organization = next((n for n in nodes if n.get("@type") in ("Organization", "OnlineStore")), {})
    for node in nodes:
        kind = node.get("@type")
        if kind == "Product":
            check_product(node, organization, findings)
        elif kind == "ProductGroup":
            check_product_group(node, organization, findings)
        elif kind in ("BlogPosting", "Article", "NewsArticle"):
            check_article(node, findings)
        elif kind == "BreadcrumbList":
            check_breadcrumbs(node, findings)
        for key, value in node.items():
            if isinstance(value, dict) and set(value) == {"@id"} and value["@id"] not in ids:
                findings.errors.append(f"{kind}: {key} points to {value['@id']}, which is not in the graph")
    return findings


def check_offer(offer, where: str, findings: Findings) -> None:
    if not isinstance(offer, dict):
        findings.errors.append(f"{where}: offers is missing")
        return
    price = offer.get("price")
    if not isinstance(price, str) or not PRICE.match(price) or float(price) <= 0:
        findings.errors.append(f"{where}: offers.price must be a number above 0, not {price!r}")
    if offer.get("priceCurrency") not in CURRENCIES:
        findings.errors.append(f"{where}: offers.priceCurrency must be an ISO 4217 code, not {offer.get('priceCurrency')!r}")
    if not AVAILABILITY.match(str(offer.get("availability", ""))):
        findings.errors.append(f"{where}: offers.availability must be a schema.org availability URL")
    if "priceSpecification" in offer and "priceValidUntil" not in offer:
        findings.recommended.append((where.split(" ")[0], "priceValidUntil"))


def check_product(node: dict, organization: dict, findings: Findings, kind: str = "Product") -> None:
    name = node.get("name")
    where = f"{kind} {name!r}" if name else kind
    if not name:
        findings.errors.append(f"{kind}: name is missing")
    if not node.get("image"):
        findings.errors.append(f"{where}: image is missing")
    check_offer(node.get("offers"), where, findings)
    recommended = {
        "brand": bool(node.get("brand")),
        "gtin/mpn": bool(node.get("gtin") or node.get("mpn")),
        "description": bool(node.get("description")),
        "aggregateRating/review": bool(node.get("aggregateRating") or node.get("review")),
        "itemCondition": bool(node.get("itemCondition") or (node.get("offers") or {}).get("itemCondition")),
        "shippingDetails": bool((node.get("offers") or {}).get("shippingDetails")
                                or organization.get("hasShippingService")),
        "hasMerchantReturnPolicy": bool((node.get("offers") or {}).get("hasMerchantReturnPolicy")
                                        or organization.get("hasMerchantReturnPolicy")),
    }
    findings.recommended.extend((kind, prop) for prop, present in recommended.items() if not present)


def check_product_group(node: dict, organization: dict, findings: Findings) -> None:
    if not node.get("name"):
        findings.errors.append("ProductGroup: name is missing")
    variants = node.get("hasVariant") or []
    if not variants:
        findings.errors.append(f"ProductGroup {node.get('name')!r}: hasVariant is empty")
    for prop in ("productGroupID", "variesBy"):
        if not node.get(prop):
            findings.recommended.append(("ProductGroup", prop))
    for variant in variants:
        check_product(variant, organization, findings, kind="Product (variant)")


def check_article(node: dict, findings: Findings) -> None:
    kind = node.get("@type")
    if not node.get("headline"):
        findings.errors.append(f"{kind}: headline is missing")
    if not ISO_DATETIME.match(str(node.get("datePublished", ""))):
        findings.errors.append(f"{kind}: datePublished must be ISO 8601 with time and offset")
    authors = node.get("author") or []
    authors = authors if isinstance(authors, list) else [authors]
    if not authors or not all(isinstance(a, dict) and a.get("name") for a in authors):
        findings.errors.append(f"{kind}: author must have a name")
    for prop in ("image", "dateModified"):
        if not node.get(prop):
            findings.recommended.append((kind, prop))
    if any(isinstance(a, dict) and not a.get("url") for a in authors):
        findings.recommended.append((kind, "author.url"))


def check_breadcrumbs(node: dict, findings: Findings) -> None:
    items = node.get("itemListElement") or []
    if [item.get("position") for item in items] != list(range(1, len(items) + 1)):
        findings.errors.append("BreadcrumbList: positions must run 1..n")
    for item in items[:-1]:
        if not item.get("item"):
            findings.errors.append(f"BreadcrumbList: {item.get('name')!r} has no item URL")
    if any(not item.get("name") for item in items):
        findings.errors.append("BreadcrumbList: every ListItem needs a name")
