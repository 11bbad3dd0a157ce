"""Vetrina's tasks: build | serve | publish | init | import-wordpress | import-woocommerce | new-post | ... | test.

The same tasks run the demo shop of this repository (`./vetrina TASK`, through tasks.py) and a shop of one's own
(the installed `vetrina` command, in the shop's folder or the one $VETRINA_SHOP names). Each task only wires the
command line to a module: the build in core.build, the dev server's comments in core.devserver, new posts in
core.scaffold, new products in shop.scaffold, bench and audit in core.bench, imports in importers.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from invoke import task
from invoke.exceptions import Exit

from . import paths

# The shop the tasks work on: the current folder (./vetrina runs from the repository, the demo shop).
ROOT = Path(os.environ.get("VETRINA_SHOP") or os.getcwd()).resolve()
paths.use_plugins()

OUTPUT = ROOT / "output"
CONTENT = ROOT / "content"
DEV_SETTINGS = ROOT / "pelicanconf.py"
PROD_SETTINGS = ROOT / "publishconf.py"
HOST = "127.0.0.1"
PYBABEL = Path(sys.executable).parent / "pybabel"
ISSO_DIR = ROOT / ".isso"
ISSO_PORT = 8080
FORMS_LOG = ROOT / ".forms" / "forms.log"


@task(help={"production": "build with publishconf.py (absolute URLs, canonical links)",
            "debug": "also print Pelican's debug output and the tracebacks of the problems"})
def build(c, production=False, debug=False):
    """Build the site into output/; every problem is listed at the end (the last good output stays)."""
    from core.build import build_site

    if not build_site(ROOT, PROD_SETTINGS if production else DEV_SETTINGS, OUTPUT, CONTENT, debug=debug):
        raise Exit("Build failed: output/ still holds the last good build. Fix the problems listed above.", code=1)
    print(f"Built {sum(1 for _ in OUTPUT.rglob('*.html'))} pages into {OUTPUT.relative_to(ROOT)}/")


@task(help={"port": "port on 127.0.0.1 (default 8000)", "comments": "start Isso for comments (default on)",
            "forms": "start the forms endpoint: orders, withdrawals, newsletter sign-ups (default on)"})
def serve(c, port=8000, comments=True, forms=True):
    """Build, then serve on http://127.0.0.1:8000 (with Isso comments) and rebuild when a file changes.

    Rebuilds are warm (core.warm): one build process kept between saves, a staging folder whose unchanged files
    are hard links to the served ones, swapped in only when the build succeeded.
    """
    from core import devserver, warm
    from forms import server as forms_server

    isso = devserver.start_isso(ISSO_DIR, HOST, int(port), ISSO_PORT) if comments else None
    endpoint = forms_server.start_beside(DEV_SETTINGS, ROOT, HOST, int(port), FORMS_LOG) if forms else None
    builds = warm.DevBuilds(ROOT, DEV_SETTINGS, OUTPUT, CONTENT)
    # Stopped by a signal or by Ctrl+C, the dev server always stops Isso and its build process too.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        if not builds.build():
            raise Exit("Build failed: output/ still holds the last good build. Fix the problems listed above.", code=1)
        if endpoint:
            print(f"Forms: the endpoint on {endpoint[1]} (log in .forms/forms.log; without VETRINA_SMTP_HOST its "
                  "messages are written to .forms/posta/)")
        if isso:
            print(f"Comments: Isso on http://{HOST}:{ISSO_PORT}/ (moderation links in .isso/isso.log, "
                  f"admin at http://{HOST}:{ISSO_PORT}/admin/ with the password in .isso/admin-password)")
        print(f"Serving the shop on http://{HOST}:{port}/ (Ctrl+C to stop)")
        warm.watch_and_serve(builds, HOST, int(port), code=(paths.PLUGINS, DEV_SETTINGS),
                             pages=(CONTENT, paths.THEME))
    finally:
        builds.close()
        if isso:
            devserver.stop_isso(isso)
        if endpoint:
            forms_server.stop(endpoint[0])


@task(help={"port": "the port of the site whose pages post to it (default 8000)"})
def forms(c, port=8000):
    """Run the forms endpoint for development in the foreground (orders, withdrawals, newsletter sign-ups)."""
    import shlex

    from core.build import load_settings
    from forms import server as forms_server
    from forms.settings import FormsSettings

    config = FormsSettings.from_settings(load_settings(DEV_SETTINGS), ROOT)
    origin = f"http://{HOST}:{port}"

    overrides = [f"FORMS_SITE_ORIGIN={origin!r}", f"SITE_DEV_URL={origin!r}"]
    c.run(" ".join([sys.executable, "-m", "forms.server", str(DEV_SETTINGS), "--port", str(forms_server.port_of(config)),
                    *(f"--set {shlex.quote(item)}" for item in overrides)]), pty=False,
          env={"PYTHONPATH": str(paths.PLUGINS)})


@task(help={"port": "the port of the site that embeds the comments (default 8000)"})
def comments(c, port=8000):
    """Run Isso for development in the foreground; moderation links are printed as comments arrive."""
    from core import devserver

    config = devserver.isso_config(ISSO_DIR, HOST, int(port), ISSO_PORT)
    print(f"Isso on http://{HOST}:{ISSO_PORT}/ for the site at http://{HOST}:{port}/; "
          f"admin password: {devserver.admin_password_for_dev(ISSO_DIR)} (Ctrl+C to stop)")
    c.run(devserver.isso_run_command(config), pty=False)


@task(help={"target": "a folder, user@host:/path or git:BRANCH; default: $VETRINA_PUBLISH_TARGET, then PUBLISH_TARGET",
            "rsync_only": "the host gives rsync but no shell: upload in place, best effort (or PUBLISH_SHELL = False)",
            "rollback": "point current back at the previous release; nothing is built",
            "break_lock": "break the target's lock left by a cut publish: one older than PUBLISH_LOCK_STALE_HOURS, "
                          "or one whose process on this machine has ended"})
def publish(c, target=None, rsync_only=False, rollback=False, break_lock=False):
    """Production build checked in a staging folder, uploaded from that same folder as a new release switched in
    atomically on the target, and only then swapped into output/."""
    from core import checks
    from core import publish as releases
    from core.build import build_site, load_settings

    settings = load_settings(PROD_SETTINGS)
    rsh = os.environ.get("RSYNC_RSH") or "ssh"
    summaries = []

    def upload(folder):
        # The checked folder itself, not output/: `invoke serve` or `build` may replace output/ meanwhile.
        if destination is not None:
            summaries.append(releases.publish(folder, destination, config, rsh, repo=ROOT, break_lock=break_lock))

    try:
        config = releases.PublishSettings.from_settings(settings)
        address = target or os.environ.get("VETRINA_PUBLISH_TARGET") or config.target
        destination = releases.prepare(address, config, rsh, rsync_only)  # its programs found before any build
        validator = None if rollback else checks.missing_validator()  # so is the checks' validator
        if validator:
            raise releases.PublishError(f"{validator}, then publish again. Nothing was built.")
        with releases.locked(OUTPUT.with_name(f".{OUTPUT.name}-publish") / "lock"):
            if rollback:
                summaries.append(releases.rollback(destination, rsh, config=config, break_lock=break_lock))
            elif not build_site(ROOT, PROD_SETTINGS, OUTPUT, CONTENT,
                                accept=lambda folder: checks.passes(folder, settings["SITEURL"]), then=upload):
                raise Exit("Publish stopped: the build or its checks failed (see above); output/ still holds "
                           "the last good build and nothing was uploaded.", code=1)
            elif destination is None:
                print("Production site checked and ready in output/: upload it to your host, or give --target.")
                return
    except releases.PublishError as error:
        raise Exit(f"Publish: {error}", code=1) from None
    for line in summaries[0].lines():
        print(line)


@task(help={"title": "the post's title", "category": "its category", "lang": "its language (default it)"})
def new_post(c, title, category="Dalla bottega", lang="it"):
    """Write content/posts/<slug>.md with every field filled in, as a draft."""
    from core.scaffold import ScaffoldError, post_file, required_slug, write_new

    try:
        slug = required_slug(title)
        written = write_new(CONTENT / "posts" / f"{slug}.md", post_file(title, slug, category, lang), ROOT)
    except ScaffoldError as error:
        raise Exit(str(error), code=1) from None
    print(f"Wrote {written}")


@task(help={"name": "the product's name", "price": "its price, dot decimal (default 0.00 to fill in)"})
def new_product(c, name, price="0.00"):
    """Write content/products/<slug>.md with every product field filled in."""
    from core.build import load_settings
    from core.scaffold import ScaffoldError, write_new
    from shop import scaffold

    try:
        path, text = scaffold.new_product(name, price, load_settings(DEV_SETTINGS), CONTENT)
        written = write_new(path, text, ROOT)
    except ScaffoldError as error:
        raise Exit(str(error), code=1) from None
    print(f"Wrote {written}")


@task(help={"skip_html": "skip the W3C validator (needs Java)"})
def check(c, skip_html=False):
    """The project's own checks on output/: links and assets, unique titles and descriptions, valid HTML."""
    from core import checks
    from core.build import read_setting

    if not OUTPUT.is_dir():
        raise Exit("No output/ yet: run `invoke build` first.", code=1)
    if not checks.passes(OUTPUT, read_setting(PROD_SETTINGS, "SITEURL"), html=not skip_html):
        raise Exit("Checks failed.", code=1)


@task(optional=["resend_in_doubt"],
      help={"send": "send it through SMTP (VETRINA_SMTP_* variables); without it, only a preview is written",
            "dry_run": "say what --send would do now (to send, sent before, suppressed, in doubt); send nothing",
            "status": "the latest campaign, and every campaign with messages in doubt: counts per state, "
                      "failed, bounced and in-doubt addresses (no build)",
            "resend_in_doubt": "send the in-doubt messages again, with the same Message-ID: of every campaign, "
                               "or of campaign N with --resend-in-doubt N",
            "unsubscribe": "add this address to the unsubscribed list, which every send honours (no build)",
            "build": "make a production build first (default); --no-build uses output/ as it is"})
def newsletter(c, send=False, dry_run=False, status=False, resend_in_doubt=False, unsubscribe=None, build=True):
    """The next newsletter issue: preview by default, --send to send it once to each recipient."""
    import newsletter as digest
    from core.build import build_site, load_settings
    from newsletter.settings import NewsletterConfigurationError

    try:
        settings = load_settings(PROD_SETTINGS)
        service = (settings.get("FORMS_SERVICES") or {}).get("newsletter")
        if service and (send or resend_in_doubt) and not dry_run:
            raise Exit(f"Newsletter: sign-ups go to {service} (FORMS_SERVICES['newsletter']): that service is the "
                       "list of record and sends the newsletter, so --send is not used; remove the setting to send "
                       "with Vetrina.", code=1)
        if status or unsubscribe:
            lines = digest.status(ROOT, settings) if status else [digest.unsubscribe(ROOT, settings, unsubscribe)]
            print("\n".join(lines))
            return
        running = digest.busy(ROOT, settings) if (send or resend_in_doubt) and not dry_run else ""
        if running:  # refuse at once, before a build (the send itself holds the lock)
            raise Exit(f"Newsletter: {running}", code=1)
        if build and not build_site(ROOT, PROD_SETTINGS, OUTPUT, CONTENT):
            raise Exit("Build failed: no newsletter. See the errors above.", code=1)
        result = digest.run(ROOT, settings, OUTPUT, send=send, dry_run=dry_run, resend_in_doubt=resend_in_doubt,
                            progress=print)
    except digest.NewsletterError as error:
        if error.result is not None and error.result.sending:
            print("\n".join(error.result.summary()))
        raise Exit(f"Newsletter: {error}", code=1) from None
    except (NewsletterConfigurationError, FileNotFoundError) as error:
        raise Exit(f"Newsletter: {error}", code=1) from None
    print("\n".join(result.report(ROOT)))


@task(help={"format": "text (default), iso (only the instant, nothing when nothing is scheduled) or json",
            "now": "judge at this time instead of now, e.g. 2027-03-01T09:00 (default: SITE_NOW, $VETRINA_NOW)"})
def next_build(c, format="text", now=None):
    """When the published site next goes stale (an item goes live, a sale starts or ends...), without a build."""
    import datetime as dt

    from core import schedule
    from core.build import load_settings
    from shop.generator import timed_changes

    settings = load_settings(PROD_SETTINGS)
    try:
        clock = schedule.site_now(now or settings.get(schedule.NOW_SETTING), os.environ.get(schedule.NOW_VARIABLE),
                                  settings.get("SHOP_TODAY"), schedule.zone_of(settings), dt.datetime.now(dt.timezone.utc))
        print(schedule.report(timed_changes(settings, str(CONTENT), clock), clock, format))
    except (schedule.ClockError, ValueError) as error:
        raise Exit(f"next-build: {error}", code=1) from None


@task(help={"server": "nginx or apache (default nginx)"})
def headers(c, server="nginx"):
    """Print the security headers of the last build (output/_headers) as nginx or Apache configuration."""
    from core import security

    path = OUTPUT / security.HEADERS_FILE
    if not path.is_file():
        raise Exit("No output/_headers yet: run `./vetrina build --production` first.", code=1)
    try:
        print(security.server_config(path.read_text(encoding="utf-8"), server), end="")
    except security.SecurityPolicyError as error:
        raise Exit(str(error), code=1) from None


@task(help={"runs": "demo only: builds of each kind (default 5); the median is reported",
            "posts": "posts of a synthetic shop: benchmark it instead of the demo",
            "products": "products of the synthetic shop",
            "sizes": "several synthetic sizes in one go, e.g. 500,2000,5000 (each: that many posts and products)",
            "rounds": "synthetic: rounds of cold, vanilla and warm builds (default 3)",
            "warmup": "synthetic: cold and vanilla builds run first and not counted (default 1)",
            "images": "synthetic: on (default) or off", "comments": "synthetic: on (default) or off",
            "seed": "synthetic: the generator's seed (default 0)",
            "chart": "synthetic: also write the table as an SVG bar chart",
            "search_cost": "synthetic: also a cold build without the search index in each round, to show what "
                           "the index costs: on (default) or off"})
def bench(c, runs=5, posts=0, products=0, sizes="", rounds=3, warmup=1, images="on", comments="on", seed=0,
          chart="", search_cost="on"):
    """Build time against vanilla Pelican: the demo, or a synthetic shop (--posts N --products N, or --sizes)."""
    from core import bench as harness

    if posts or products or sizes:
        try:
            harness.bench_shops(ROOT, harness.shapes_of(posts, products, sizes), rounds=int(rounds),
                                warmup=int(warmup), images=images, comments=comments, seed=int(seed), chart=chart,
                                search_cost=search_cost, progress=lambda line: print(line, flush=True))
        except harness.BenchError as error:
            raise Exit(str(error), code=2 if isinstance(error, harness.BenchOptionError) else 1) from None
        return
    times = harness.bench(ROOT, DEV_SETTINGS, CONTENT, int(runs))
    print(f"vanilla Pelican: median {times.median_vanilla:.2f} s over {runs} builds (posts and pages only)")
    print(f"Vetrina:         median {times.median_vetrina:.2f} s over {runs} builds (+ products, feeds, sitemap, JSON-LD, images)")
    print(f"ratio Vetrina / vanilla: {times.ratio:.2f}")


@task
def audit(c):
    """Page weight of the demo (gzip HTML + CSS + JS per page) against vanilla Pelican, as ratios."""
    from core import bench as harness

    rows, ratio = harness.audit(ROOT, DEV_SETTINGS, CONTENT)
    for row in rows:
        print(f"{row.name}: {row.pages} pages, median {row.median_kb:.1f} kB, "
              f"heaviest {row.heaviest_kb:.1f} kB (gzip HTML+CSS+JS, images apart)")
    print(f"ratio of medians Vetrina / vanilla: {ratio:.2f}")


@task(help={"args": "extra pytest arguments, e.g. '-k feeds -x'"})
def test(c, args=""):
    """Run the test suite."""
    c.run(f"{sys.executable} -m pytest {args}", pty=False)


@task
def i18n(c):
    """Extract the theme's UI strings and update the it/en catalogues (compiled at build time)."""
    from core.i18n import drop_placeholder_headers

    translations = paths.THEME / "translations"
    pot = translations / "messages.pot"
    # translate() and problem() are the forms endpoint's: the message is their second and third argument.
    c.run(f"{PYBABEL} extract -F babel.cfg -k translate:2 -k problem:3 -o {pot} --width 100 --no-location --sort-output "
          f"--project=Vetrina --copyright-holder='Vetrina contributors' .")
    c.run(f"{PYBABEL} update -i {pot} -d {translations} --width 100 --no-fuzzy-matching")
    for catalog in [pot, *translations.glob("*/LC_MESSAGES/messages.po")]:
        drop_placeholder_headers(catalog)



@task(help={"folder": "where the new shop goes (created; must be empty without --force)",
            "name": "the shop's name", "legal_name": "the company's legal name (S.r.l., ditta individuale...)",
            "street": "street and number", "postal_code": "CAP", "city": "city", "region": "province (e.g. BO)",
            "vat": "partita IVA (checked)", "email": "the shop's e-mail", "phone": "the shop's phone",
            "url": "the site's https address", "lang": "it (default) or en", "currency": "ISO 4217 (default EUR)",
            "force": "overwrite the shop's files that are already there"})
def init(c, folder, name=None, legal_name=None, street=None, postal_code=None, city=None, region="", vat=None,
         email=None, phone=None, url=None, lang="it", currency="EUR", force=False):
    """A new shop of your own in FOLDER, using the installed engine: settings, legal pages as drafts, examples."""
    from . import shop_init

    values = {"name": name, "legal_name": legal_name, "street": street, "postal_code": postal_code, "city": city,
              "region": region, "vat_id": vat, "email": email, "phone": phone, "url": url, "lang": lang,
              "currency": currency}
    if sys.stdin.isatty():
        values = shop_init.ask_missing(values, input)
    try:
        facts = shop_init.ShopFacts.checked(**values)
        written = shop_init.create(Path(folder), facts, force=force)
    except shop_init.InitError as error:
        raise Exit(f"init: {error}", code=1) from None
    print(f"Wrote {len(written)} files into {folder}: settings in pelicanconf.py, the legal pages in content/pages/ "
          f"as drafts to review.\nNext: cd {folder} && vetrina serve")


@task(help={"export": "the WXR file of Tools → Export (all content)",
            "uploads": "a copy of the old site's wp-content/uploads folder, for the images",
            "isso_db": "the Isso database the comments go into (e.g. .isso/comments.db)",
            "force": "overwrite files edited since the last import"})
def import_wordpress(c, export, uploads=None, isso_db=None, force=False):
    """Import a WordPress export: posts, pages, comments, WooCommerce products and reviews, redirects."""
    from importers import wordpress
    from importers.session import ImportError_

    try:
        wordpress.import_export(ROOT, Path(export), Path(uploads) if uploads else None,
                                Path(isso_db) if isso_db else None, force=force)
    except (ImportError_, OSError, ValueError) as error:
        raise Exit(f"import-wordpress: {error}", code=1) from None


@task(help={"csv": "the CSV of WooCommerce's Products → Export (English or Italian headers)",
            "uploads": "a copy of the old site's wp-content/uploads folder, for the images",
            "force": "overwrite files edited since the last import"})
def import_woocommerce(c, csv, uploads=None, force=False):
    """Import WooCommerce's product CSV: products with variants, categories, images, sales; redirects."""
    from importers import woocommerce
    from importers.session import ImportError_

    try:
        woocommerce.import_csv(ROOT, Path(csv), Path(uploads) if uploads else None, force=force)
    except (ImportError_, OSError, ValueError) as error:
        raise Exit(f"import-woocommerce: {error}", code=1) from None


@task(help={"server": "nginx (the only one so far)"})
def redirects(c, server="nginx"):
    """Print the old site's redirects (redirects/*.txt) as an nginx map to include in the server's configuration."""
    from importers import redirects as rules
    from importers.plugin import DEFAULTS

    if server != "nginx":
        raise Exit("redirects: only --server nginx is written; Netlify and Cloudflare Pages read output/_redirects",
                   code=1)
    found, errors = rules.read_folder(ROOT / DEFAULTS["REDIRECTS_PATH"], ROOT)
    if errors:
        raise Exit("\n".join(str(error) for error in errors), code=1)
    print(rules.nginx_map(found), end="")
