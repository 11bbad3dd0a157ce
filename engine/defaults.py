"""The engine's settings, the same for every shop: a shop's pelicanconf.py starts with `from vetrina.defaults import *`
and then says only what is its own (name, business, shipping, languages). Upgrading Vetrina updates these.

The demo shop's pelicanconf.py reads them from the source checkout the same way.
"""

from . import paths as _paths

# Defaults a shop's own settings override.
TIMEZONE = "Europe/Rome"
DEFAULT_LANG = "it"
SITE_LANGUAGES = ("it", "en")
SHOP_CURRENCY = "EUR"

# --- Site -------------------------------------------------------------------
# Empty in development: links are root-relative, so the dev server works on any port.
SITEURL = ""
# Security headers: the build writes _headers with a policy made from the features turned on below
# (comments, checkout); add sources only for what the theme does not know about.
SITE_HEADERS = True
SITE_CSP_EXTRA = {}  # e.g. {"frame-src": ["https://www.youtube-nocookie.com"]}
# Subresource Integrity of pinned third-party files, e.g. Snipcart's script for SHOP_SNIPCART_VERSION.
SITE_INTEGRITY = {}

# --- Content ----------------------------------------------------------------
PATH = "content"
ARTICLE_PATHS = ["posts"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
# Summaries are plain text written by the author; the theme escapes them.
FORMATTED_FIELDS = []
DEFAULT_DATE = None
SUMMARY_MAX_LENGTH = 40
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {"permalink": False},
        "markdown.extensions.smarty": {},
        # Aligned table columns get an align-* class, not the inline style the security policy refuses.
        "core.markdown_align": {},
    },
    "output_format": "html",
}

# --- URLs: clean, Italian, stable -------------------------------------------
ARTICLE_URL = "blog/{slug}/"
ARTICLE_SAVE_AS = "blog/{slug}/index.html"
ARTICLE_LANG_URL = "{lang}/blog/{slug}/"
ARTICLE_LANG_SAVE_AS = "{lang}/blog/{slug}/index.html"
DRAFT_URL = "bozze/{slug}/"
DRAFT_SAVE_AS = "bozze/{slug}/index.html"
DRAFT_LANG_URL = "bozze/{lang}/{slug}/"
DRAFT_LANG_SAVE_AS = "bozze/{lang}/{slug}/index.html"
# Draft pages are previewed under /bozze/ too (each draft page carries noindex); production writes no drafts.
DRAFT_PAGE_URL = "bozze/pagine/{slug}/"
DRAFT_PAGE_SAVE_AS = "bozze/pagine/{slug}/index.html"
DRAFT_PAGE_LANG_URL = "bozze/pagine/{lang}/{slug}/"
DRAFT_PAGE_LANG_SAVE_AS = "bozze/pagine/{lang}/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
PAGE_LANG_URL = "{lang}/{slug}/"
PAGE_LANG_SAVE_AS = "{lang}/{slug}/index.html"
CATEGORY_URL = "blog/categoria/{slug}/"
CATEGORY_SAVE_AS = "blog/categoria/{slug}/index.html"
TAG_URL = "blog/tag/{slug}/"
TAG_SAVE_AS = "blog/tag/{slug}/index.html"
AUTHOR_URL = "blog/autore/{slug}/"
AUTHOR_SAVE_AS = "blog/autore/{slug}/index.html"
CATEGORIES_URL = "blog/categorie/"
CATEGORIES_SAVE_AS = "blog/categorie/index.html"
TAGS_URL = "blog/tag/"
TAGS_SAVE_AS = "blog/tag/index.html"
AUTHORS_URL = "blog/autori/"
AUTHORS_SAVE_AS = "blog/autori/index.html"
ARCHIVES_URL = "blog/archivio/"
ARCHIVES_SAVE_AS = "blog/archivio/index.html"
BLOG_URL = "blog/"
BLOG_SAVE_AS = "blog/index.html"
DIRECT_TEMPLATES = ["index", "blog", "categories", "tags", "authors", "archives", "404"]
PAGINATED_TEMPLATES = {"blog": None, "category": None, "tag": None, "author": None}
DEFAULT_PAGINATION = 6
HOME_POSTS = 4
PAGINATION_PATTERNS = (
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/pagina/{number}/", "{base_name}/pagina/{number}/index.html"),
)
YEAR_ARCHIVE_SAVE_AS = ""
MONTH_ARCHIVE_SAVE_AS = ""
DAY_ARCHIVE_SAVE_AS = ""

# --- Shop -------------------------------------------------------------------
SHOP_PRODUCT_PATHS = ["products"]
SHOP_LIST_PATHS = ["lists"]
SHOP_PRODUCT_URL = "prodotti/{slug}/"
SHOP_PRODUCT_SAVE_AS = "prodotti/{slug}/index.html"
SHOP_CATALOG_URL = "prodotti/"
SHOP_CATEGORY_URL = "prodotti/categoria/{slug}/"
SHOP_LIST_URL = "prodotti/selezioni/{slug}/"
SHOP_LIST_SAVE_AS = "prodotti/selezioni/{slug}/index.html"
SHOP_SORT_URL = "prodotti/ordine/{slug}/"
SHOP_PAGINATION = 12
SHOP_HOME_FEATURED = 4
SHOP_RELATED_COUNT = 3
# email (default, no third party) | snipcart | stripe | paypal
SHOP_CHECKOUT = "email"
# Slug of the page with shipping, returns and guarantee, linked from every product.
SHOP_SHIPPING_PAGE = "spedizioni-e-resi"
# Snipcart's public API key (not a secret) may also come from $SNIPCART_API_KEY.
SHOP_SNIPCART_API_KEY = ""

# --- Comments ---------------------------------------------------------------
# isso (self-hosted, default) | giscus | disqus | none
COMMENTS_PROVIDER = "isso"
COMMENTS_ON_PRODUCTS = True
# Where visitors' browsers reach Isso; `invoke serve` and `invoke comments` start one there.
COMMENTS_ISSO_URL = "http://127.0.0.1:8080"
# Where the build fetches approved comments (None: the same URL; $VETRINA_ISSO_BUILD_URL wins).
COMMENTS_ISSO_BUILD_URL = None
# The record of published comments (relative: under CACHE_PATH; one comments-<instance>.json per Isso), the copy
# published with the site, and where a build without a local record downloads it (None: SITEURL +
# "/comments.json"; $VETRINA_COMMENTS_RECORD_URL wins).
COMMENTS_RECORD_PATH = "comments.json"
COMMENTS_RECORD_PUBLISH = "comments.json"
COMMENTS_RECORD_URL = None
# More than this share, and at least COMMENTS_MIN_LOSS, of the published comments missing from Isso at once (or
# every thread empty with at least that many published) is kept as an apparent mass loss; accept a real one for
# one build with $VETRINA_COMMENTS_ACCEPT_LOSS=1.
COMMENTS_MAX_LOSS = 0.5
COMMENTS_MIN_LOSS = 10
COMMENTS_ACCEPT_LOSS = False
# For giscus: {"repo": ..., "repo_id": ..., "category": ..., "category_id": ...}; for Disqus: the shortname.
COMMENTS_GISCUS = {}
COMMENTS_DISQUS_SHORTNAME = ""

# --- Search engines -----------------------------------------------------------
SEO_NOINDEX_TAGS = True
SEO_NOINDEX_PAGINATED = True
# robots.txt is public: it never names private folders (drafts are noindex, and never published).
SEO_ROBOTS_DISALLOW = []
# Profiles of the shop elsewhere (https URLs), for the Organization's sameAs.
SEO_SAME_AS = []
SEO_PAGE_TYPES = {"chi-siamo": "AboutPage", "contatti": "ContactPage"}
SITE_LOGO = "theme/img/logo.png"

# --- Search (Pagefind: the catalogue and the posts, indexed by every build) ---
# One search page per language, each with its own index; the header's search box sends to the page's language.
SEARCH_PAGES = {"it": "cerca/", "en": "en/search/"}
# Limits between the price filter's bands, in SHOP_CURRENCY: up to 50, 50-150, 150-500, 500-1500, over 1500.
SEARCH_PRICE_BANDS = ("50", "150", "500", "1500")

# --- Theme and plugins ------------------------------------------------------
THEME = str(_paths.THEME)
PLUGIN_PATHS = [str(_paths.PLUGINS)]
PLUGINS = ["core", "shop", "seo", "feeds", "comments", "forms", "search", "importers"]
JINJA_ENVIRONMENT = {
    "autoescape": True,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "extensions": ["jinja2.ext.i18n"],
}
# Main navigation after the blog: pages by slug, labelled with their titles.
MENU_PAGES = ("chi-siamo", "spedizioni-e-resi", "contatti")
FOOTER_PAGES = ("chi-siamo", "spedizioni-e-resi", "termini-e-condizioni", "privacy", "cookie", "newsletter", "contatti")

# --- Feeds: written by Vetrina's own feeds plugin, never by Pelican ----------
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
CATEGORY_FEED_RSS = None
TAG_FEED_ATOM = None
TAG_FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None

# --- Newsletter (`invoke newsletter`; SMTP only from VETRINA_SMTP_* variables) --
# List-Unsubscribe points to NEWSLETTER_UNSUBSCRIBE_URL (default SITEURL/newsletter/, a static page).
# True only when that URL is an https endpoint that unsubscribes on a POST (RFC 8058 one-click); then each
# message's URL names its recipient with a token signed by $VETRINA_NEWSLETTER_SECRET, which the endpoint checks.
NEWSLETTER_UNSUBSCRIBE_POST = False

# --- Forms endpoint (orders, EU withdrawal, newsletter sign-up; `./vetrina forms`, also started by serve) --
# Where browsers post; the endpoint stores each submission in SQLite and answers by SMTP (VETRINA_SMTP_*).
FORMS_ENDPOINT = "http://127.0.0.1:8090"
FORMS_DATABASE = ".forms/moduli.db"  # personal data: in an ignored folder, never committed
# Only pages of this origin may post (None: SITEURL's; in development the dev server's, SITE_DEV_URL).
FORMS_SITE_ORIGIN = None
# A form sent to a third-party service instead of the endpoint, e.g. for the newsletter (the service is then the
# list of record): {"newsletter": "https://buttondown.com/api/emails/embed-subscribe/cordeelegni"}.
FORMS_SERVICES = {}
# The price list orders are priced with again (None: output/cart.json here, SITEURL/cart.json in production).
FORMS_CART_JSON = None
FORMS_TRUSTED_PROXIES = ()  # reverse proxies whose X-Forwarded-For is believed (production: the web server)

# --- Development ------------------------------------------------------------
# Canonical URLs are written only when SITEURL is absolute (production).
DELETE_OUTPUT_DIRECTORY = False
# Content cache (posts, pages, products, reviews, lists): a file is converted again only when it changed, or
# when the settings, the plugins or the Markdown/Pelican versions did. It lives in CACHE_PATH (ignored by git),
# beside the WebP copies; delete that folder, or build with --ignore-cache, to read everything afresh.
CACHE_PATH = "cache"
CONTENT_CACHING_LAYER = "reader"
CACHE_CONTENT = True
LOAD_CONTENT_CACHE = True
# Processes that convert Markdown and encode images (None: one per CPU core; 1: all in the build's process).
SITE_WORKERS = None
