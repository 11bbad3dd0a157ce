"""Signal wiring of the shop plugin."""

from __future__ import annotations

from jinja2 import pass_context
from markupsafe import Markup
from pelican import signals

from core.i18n import page_lang
from core.rendering import apply_defaults

from . import links, money
from .catalog import with_cards
from .embeds import ProductEmbedExtension
from .generator import ProductsGenerator
from .settings import DEFAULTS, ShopSettings


def configure(pelican):
    """Validate the shop settings once; teach Markdown the product-card syntax; paginate shop listings."""
    settings = pelican.settings
    apply_defaults(settings, DEFAULTS)
    config = ShopSettings.from_settings(settings)
    settings["SHOP_CONFIG"] = config
    # A new dict: the settings file's own stays as written, for the next build of a process that keeps running.
    extensions = list(settings["MARKDOWN"].get("extensions", []))
    if not any(isinstance(extension, ProductEmbedExtension) for extension in extensions):
        extensions.append(ProductEmbedExtension())
    settings["MARKDOWN"] = {**settings["MARKDOWN"], "extensions": extensions}
    settings["PAGINATED_TEMPLATES"] = {**settings["PAGINATED_TEMPLATES"],
                                       "catalog": config.pagination, "product_category": config.pagination}


@pass_context
def product_cards(context, html, writing):
    """A post's, page's or product's HTML with its product cards, rendered for the page being written."""
    if not getattr(writing, "mentions_by_reference", None):
        return Markup(html)
    template = context.environment.get_template("partials/product_embed.html")
    variables = context.get_all()
    return Markup(with_cards(str(html), writing, lambda product: template.render({**variables, "embedded": product})))


def add_filters(generator):
    generator.env.filters.update(money.make_filters(page_lang, generator.settings["DEFAULT_LANG"]))
    generator.env.filters["mailto_text"] = links.mailto_text
    generator.env.filters["product_cards"] = product_cards


def get_generators(pelican):
    return ProductsGenerator


def register():
    from core import pagepool

    pagepool.on_both_cores(ProductsGenerator)
    signals.initialized.connect(configure)
    signals.generator_init.connect(add_filters)
    signals.get_generators.connect(get_generators)
